"""Rank the schemes of a results CSV at every point, and say which differences are significant.

    python -m experiments.rank outputs/snr_sweep/default/results.csv [--alpha 0.05] [--schemes a,b,...]

For each (bandwidth ratio, SNR), the curves (scheme and design) are listed by mean accuracy with a 95 % interval
(:mod:`airnet.run.statistics`), then each curve's significantly worse rivals (``>``) and the rivals it cannot be told
apart from (``~``, "no significant difference"), after Holm correction over all pairs of the point.
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Any, TextIO

from airnet.run.statistics import curve_label, group_rows, rank


def report(rows: list[dict[str, Any]], alpha: float = 0.05, out: TextIO = sys.stdout) -> None:
    """Print the ranking of every point of ``rows``."""
    for (ratio, snr), point in sorted(group_rows(rows, ["bandwidth_ratio", "snr_db"]).items()):
        curves: dict[str, list[dict[str, Any]]] = {}
        for r in point:
            curves.setdefault(curve_label(r), []).append(r)
        ranked = rank(curves, alpha)
        first = ranked[0].estimate
        sizes = sorted({str(r.get("test_size", "?")) for r in point})
        print(f"\nbandwidth ratio {ratio:g}, SNR {snr:g} dB  ({first.seeds} seed(s), {first.draws // max(first.seeds, 1)} "
              f"draws each, test set {'/'.join(sizes)}; {first.estimator})", file=out)
        width = max(len(r.group) for r in ranked)
        for i, r in enumerate(ranked, 1):
            e = r.estimate
            parts = []
            if r.better_than:
                parts.append("> " + ", ".join(r.better_than))
            if r.not_different_from:
                parts.append("~ " + ", ".join(r.not_different_from))
            if r.constant_vs:
                parts.append("constant difference, untestable: " + ", ".join(r.constant_vs))
            print(f"  {i:>2}. {r.group:<{width}}  {e.mean:.3f} [{e.low:.3f}, {e.high:.3f}]  " + "; ".join(parts),
                  file=out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv", type=Path, help="results.csv of a sweep")
    ap.add_argument("--alpha", type=float, default=0.05, help="significance level after Holm correction")
    ap.add_argument("--schemes", default="", help="comma-separated scheme names to keep (default: all)")
    args = ap.parse_args(argv)
    if not args.csv.is_file():
        ap.error(f"no such results file: {args.csv}")
    with open(args.csv, newline="") as f:
        rows = list(csv.DictReader(f))
    keep = {s for s in args.schemes.split(",") if s}
    if keep:
        rows = [r for r in rows if r["scheme"] in keep]
    if not rows:
        ap.error(f"{args.csv} has no rows" + (f" for schemes {sorted(keep)}" if keep else ""))
    report(rows, args.alpha)


if __name__ == "__main__":
    main()
