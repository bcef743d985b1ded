"""Planned contrasts of a results CSV, as a Markdown table: one family, Holm within it, detectable differences.

    python -m experiments.contrasts results.csv pruning_kd_structured-digital_amc noise_injection-digital_amc
        [--alpha 0.05] [--power 0.8]

Each ``A-B`` is tested as the paired difference over training seeds at every point both schemes have
(:mod:`airnet.run.contrasts`). Name the contrasts before looking at the results: that is what makes them planned.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from airnet.run.contrasts import ContrastResult, planned_contrasts, power_table
from airnet.store.results import read_rows


def markdown(results: list[ContrastResult], out: TextIO | None = None) -> None:
    """Print one row per contrast and point (to standard output by default, looked up at call time)."""
    out = out or sys.stdout
    print("| contrast | ratio | SNR (dB) | design | seeds | paired over | mean diff | 95 % interval | p (Holm) | "
          "verdict |", file=out)
    print("|---|---|---|---|---|---|---|---|---|---|", file=out)
    for r in results:
        ratio, snr, design = r.point
        interval = "n/a" if r.verdict == "untestable" else f"[{r.low:+.3f}, {r.high:+.3f}]"
        p = "n/a" if r.verdict == "untestable" else f"{r.p_holm:.3g}"
        print(f"| {r.a} - {r.b} | {ratio:g} | {snr:g} | {design} | {r.seeds} | {r.unit} | {r.mean:+.3f} | {interval} "
              f"| {p} | {r.describe()} |", file=out)


def power_markdown(results: list[ContrastResult], alpha: float = 0.05, power: float = 0.8,
                   out: TextIO | None = None) -> None:
    """Print the seeds each contrast needs (:func:`airnet.run.contrasts.power_table`), or why there is no table."""
    out = out or sys.stdout
    rows = power_table(results, alpha=alpha, power=power)
    if not rows:
        print("power table: needs contrasts paired over 2 or more training seeds", file=out)
        return
    deltas = list(rows[0].needed)
    print(f"seeds needed to detect a difference of {' / '.join(f'{d:g}' for d in deltas)} with {power:.0%} power in "
          f"this family (Holm at {alpha:g}), from the seed-to-seed sd observed (median point; worst point):", file=out)
    print("| contrast | seeds now | points | sd (median; worst) | " + " | ".join(f"seeds for {d:g}" for d in deltas)
          + " |", file=out)
    print("|---|---|---|---|" + "---|" * len(deltas), file=out)

    def n(v: int | None) -> str:
        return ">200" if v is None else str(v)

    for r in rows:
        cells = " | ".join(f"{n(r.needed[d])}; {n(r.needed_max[d])}" for d in deltas)
        print(f"| {r.a} - {r.b} | {r.seeds} | {r.points} | {r.sd:.3f}; {r.sd_max:.3f} | {cells} |", file=out)


def parse_contrast(text: str) -> tuple[str, str]:
    parts = text.split("-")
    if len(parts) != 2 or not all(parts):
        raise argparse.ArgumentTypeError(f"a contrast is A-B (two scheme names), got {text!r}")
    return parts[0], parts[1]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv", type=Path, help="results.csv of a sweep")
    ap.add_argument("contrasts", nargs="+", type=parse_contrast, help="A-B scheme pairs, tested as A minus B")
    ap.add_argument("--alpha", type=float, default=0.05, help="family-wise error rate (Holm)")
    ap.add_argument("--power", type=float, default=0.8, help="power for the detectable difference")
    args = ap.parse_args(argv)
    try:
        rows = read_rows(args.csv)              # the CSV and the shards of jobs still writing
    except FileNotFoundError:
        ap.error(f"no such results file: {args.csv}")
    try:
        results = planned_contrasts(rows, args.contrasts, args.alpha, args.power)
    except ValueError as exc:
        ap.error(str(exc))
    markdown(results)


if __name__ == "__main__":
    main()
