"""Speed measurements as ratios against a reference measured side by side in the same run.

``python -m benchmarks`` runs them all and prints one table; ``python -m benchmarks channels ldpc`` runs some.
Machines here are shared and noisy: only ratios from one run mean anything, never absolute times.
"""
