"""Whole jobs in subprocesses: the main job from a cold cache, two jobs at once with all threads vs
``threads=auto``, and a parallel (joblib) vs serial multirun."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Figure

ROOT = Path(__file__).resolve().parents[1]


def _job(tmp: Path, tag: str, *overrides: str, env: dict | None = None) -> subprocess.Popen:
    flags = [o for o in overrides if o.startswith("-")]            # Hydra wants -m before any override
    cmd = [sys.executable, "-m", "experiments.sweep", *flags, f"hydra.run.dir={tmp}/{tag}",
           f"cache_dir={tmp}/{tag}-cache", "progress=false", *[o for o in overrides if not o.startswith("-")]]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def _timed(*starts) -> float:
    """Wall time from starting every process to the last one ending."""
    t = time.perf_counter()
    procs = [start() for start in starts]
    for p in procs:
        _, err = p.communicate()
        if p.returncode:
            raise RuntimeError(err[-2000:] if err else f"exit {p.returncode}")
    return time.perf_counter() - t


def run(quick: bool = False) -> list[Figure]:
    figs = []
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        t_import = _timed(lambda: subprocess.Popen([sys.executable, "-c", "import airnet, channels"], cwd=ROOT,
                                                   stderr=subprocess.PIPE, text=True))
        # what the main job imports before any work: torch, torch._dynamo (every torch.optim optimizer imports
        # it), Hydra and the driver, Sionna (side information's LDPC chain; it brings matplotlib and SciPy)
        t_floor = _timed(lambda: subprocess.Popen(
            [sys.executable, "-c", "import torch, torch._dynamo, experiments.sweep, sionna.phy.fec.ldpc"], cwd=ROOT,
            stderr=subprocess.PIPE, text=True))
        t_main = _timed(lambda: _job(tmp, "main"))
        figs.append(Figure("main job from a cold cache (wall)", t_main, 5.0, "s", "5 s target", "target <= 1"))
        figs.append(Figure("main job's imports alone (wall)", t_floor, t_main, "s", "main job", "share"))
        figs.append(Figure("python -c 'import airnet, channels' (wall)", t_import, t_main, "s", "main job",
                           "share"))
        small = ["experiment.snr_db=[0,10,20]", "train.epochs=10"]
        alone = _timed(lambda: _job(tmp, "a1", *small))
        many = {"OMP_NUM_THREADS": str(cores)}
        two_many = _timed(lambda: _job(tmp, "m1", *small, f"threads={cores}", env=many),
                          lambda: _job(tmp, "m2", *small, f"threads={cores}", env=many))
        two_auto = _timed(lambda: _job(tmp, "o1", *small), lambda: _job(tmp, "o2", *small))
        figs.append(Figure(f"two jobs at once: threads={cores} each / threads=auto", two_many, two_auto, "s",
                           "threads=auto (1)", "thrash factor"))
        figs.append(Figure("two jobs at once (auto) / one job alone", two_auto, alone, "s", "one job alone",
                           f"~1 on {cores} cores"))
        # two jobs with their own work (different training seeds), as a multirun over seeds would have
        sweep = ["-m", "experiment.seeds=[0],[1]", "experiment.snr_db=[0,5,10,20]",
                 "experiment.schemes=[clean,noise_injection]",
                 "side_info.mode=free"]
        serial = _timed(lambda: _job(tmp, "s", *sweep, f"hydra.sweep.dir={tmp}/ms"))
        parallel = _timed(lambda: _job(tmp, "p", *sweep, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                                       f"hydra.sweep.dir={tmp}/mp"))
        figs.append(Figure("multirun of 2 jobs: serial / joblib n_jobs=2", serial, parallel, "s", "parallel",
                           "speed-up"))
    return figs
