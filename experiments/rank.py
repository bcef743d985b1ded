"""The planned contrasts of a results CSV, then the schemes of every point ranked with their intervals.

    python -m experiments.rank outputs/snr_sweep/default/results.csv [--contrast A-B ...] [--all-pairs]
        [--alpha 0.05] [--power 0.8] [--schemes a,b,...]

The contrasts are the run's ``experiment.contrasts`` (read from ``.hydra/config.yaml`` beside the CSV) or those
given with ``--contrast``: one family, Holm within it, each with its interval and, when not significant, the
difference the design could detect (:mod:`airnet.run.contrasts`). Then, for each (bandwidth ratio, SNR), the curves
by mean accuracy with a 95 % interval. ``--all-pairs`` adds each curve's significantly worse rivals (``>``) and
those it cannot be told apart from (``~``) after Holm over all pairs of the point: a family that large has little
power, so ``~`` there is rarely a tie.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from airnet.run.contrasts import planned_contrasts
from airnet.run.statistics import curve_label, group_rows, rank
from airnet.store.results import read_rows
from experiments.contrasts import markdown, parse_contrast, power_markdown


def declared_contrasts(csv_path: Path) -> list[tuple[str, str]]:
    """``experiment.contrasts`` of the run that wrote ``csv_path`` (none if its config is not beside it)."""
    from omegaconf import OmegaConf

    config = csv_path.parent / ".hydra" / "config.yaml"
    if not config.is_file():
        return []
    pairs = OmegaConf.select(OmegaConf.load(config), "experiment.contrasts", default=None) or []
    return [(str(a), str(b)) for a, b in pairs]


def report_contrasts(rows: list[dict[str, Any]], contrasts: list[tuple[str, str]], alpha: float, power: float,
                     out: TextIO | None = None) -> None:
    """Print the planned contrasts whose schemes are in ``rows`` (and which were skipped)."""
    out = out or sys.stdout
    present = {str(r["scheme"]) for r in rows}
    usable = [c for c in contrasts if set(c) <= present]
    skipped = [f"{a}-{b}" for a, b in contrasts if (a, b) not in usable]
    seeds = len({r["seed"] for r in rows})
    print(f"planned contrasts ({len(usable)} in the family, Holm at {alpha:g}; detectable differences at "
          f"{power:.0%} power)" + (f"; skipped (scheme not in the file): {', '.join(skipped)}" if skipped else ""),
          file=out)
    if seeds < 2:
        print("one training seed: contrasts pair the channel draws; seed variability is not included", file=out)
    if usable:
        results = planned_contrasts(rows, usable, alpha, power)
        markdown(results, out)
        print(file=out)
        power_markdown(results, alpha, power, out)


def report(rows: list[dict[str, Any]], alpha: float = 0.05, out: TextIO | None = None,
           all_pairs: bool = False) -> None:
    """Print the ranking of every point of ``rows`` (with the all-pairs tests when ``all_pairs``) to ``out``
    (standard output by default, looked up at call time)."""
    out = out or sys.stdout
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
            if not all_pairs:
                print(f"  {i:>2}. {r.group:<{width}}  {e.mean:.3f} [{e.low:.3f}, {e.high:.3f}]", file=out)
                continue
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
    ap.add_argument("--alpha", type=float, default=0.05, help="family-wise error rate (Holm)")
    ap.add_argument("--power", type=float, default=0.8, help="power for the detectable difference")
    ap.add_argument("--contrast", action="append", type=parse_contrast, default=[],
                    help="A-B: a planned contrast (repeat; replaces the run's experiment.contrasts)")
    ap.add_argument("--all-pairs", action="store_true", help="also test every pair of curves at each point")
    ap.add_argument("--schemes", default="", help="comma-separated scheme names to keep (default: all)")
    args = ap.parse_args(argv)
    try:
        rows = read_rows(args.csv)              # the CSV and the shards of jobs still writing
    except FileNotFoundError:
        ap.error(f"no such results file: {args.csv}")
    keep = {s for s in args.schemes.split(",") if s}
    if keep:
        rows = [r for r in rows if r["scheme"] in keep]
    if not rows:
        ap.error(f"{args.csv} has no rows" + (f" for schemes {sorted(keep)}" if keep else ""))
    contrasts = args.contrast or declared_contrasts(args.csv)
    report_contrasts(rows, contrasts, args.alpha, args.power)
    print()
    report(rows, args.alpha, all_pairs=args.all_pairs)


if __name__ == "__main__":
    main()
