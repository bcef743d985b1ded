"""Running experiments: the resumable sweep over (seed, design, bandwidth, SNR, scheme) points, the statistics of
its rows (intervals, paired tests, rankings) and the paper-style plots. The Hydra drivers in ``experiments/`` call
:func:`airnet.run.sweep.run_sweep`; plain Python can too."""
