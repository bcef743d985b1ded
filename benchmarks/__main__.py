"""Run the benchmarks and print every figure as a ratio against its reference from the same run.

    python -m benchmarks [--quick] [channels noise_injection evaluation ldpc side_info entropy store crn jobs device paper]
"""
from __future__ import annotations

import argparse
import importlib
import os
import platform

import torch

SUITES = ("channels", "noise_injection", "evaluation", "ldpc", "side_info", "entropy", "store", "crn", "jobs",
          "device", "paper")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("suites", nargs="*", default=list(SUITES), help=f"any of {', '.join(SUITES)} (default: all)")
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run, not for reporting)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads in this process (default 1)")
    args = ap.parse_args()
    unknown = [s for s in args.suites if s not in SUITES]
    if unknown:
        ap.error(f"unknown suite(s) {unknown}; choose from {', '.join(SUITES)}")
    torch.set_num_threads(args.threads)
    print(f"# {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s) in-process{', quick' if args.quick else ''}")
    for suite in args.suites:
        print(f"\n## {suite}")
        for fig in importlib.import_module(f"benchmarks.{suite}").run(args.quick):
            print(fig.row(), flush=True)


if __name__ == "__main__":
    main()
