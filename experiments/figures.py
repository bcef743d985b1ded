"""The AirNet figure set in one folder: ``python -m experiments.figures [--out figures] [overrides ...]``.

Each figure is a sweep (run through :func:`experiments.sweep.main`, so finished points and trained models are
reused); it is drawn at IEEE column (3.5 in) and page (7.16 in) width as vector PDF with embedded fonts and PNG,
and ``figures.md`` lists every figure with its table (mean, 95 % interval, side information), the exact command
that reproduces its data and its config hash. Extra overrides apply to every sweep, e.g.
``model=mlp train.epochs=2`` for a smoke run. ``--paper`` is the version for a paper: 5 training seeds and 64 draws
per point (:data:`PAPER`; the default is a one-seed preview, and its tables say that seed variability is not
included).
"""
from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

from airnet.config.hashing import config_hash
from airnet.run.plotting import AXIS_NAMES, plot_accuracy
from airnet.run.statistics import curve_label, estimate, group_rows

log = logging.getLogger("airnet")
COLUMN, PAGE = 3.5, 7.16          # IEEE two-column widths, inches
# seeds enough for the planned contrasts: rank's power table on the 3-seed comparison run finds a 0.1 difference at
# the median point of every contrast with 5 seeds (conf/experiment/comparison.yaml uses the same 5)
PAPER = ("experiment.seeds=[0,1,2,3,4]", "experiment.num_realizations=64")


@dataclass(frozen=True)
class FigureSpec:
    """One figure: its sweep overrides (on top of the defaults) and what it shows."""

    name: str
    title: str
    caption: str
    overrides: tuple[str, ...]
    x: str = "snr_db"
    panel: str | None = "bandwidth_ratio"
    contrasts: tuple[tuple[str, str], ...] = ()   # planned for figures.md; none: the sweep's experiment.contrasts


FIGURES = (
    FigureSpec("accuracy_vs_snr", "Accuracy vs SNR: AirNet and digital separation",
               "Clean and noise-injected AirNet against the digital baselines, transmitter matched to the SNR, "
               "full bandwidth, side information counted.",
               ("experiment.snr_db=[-5,0,5,10,15,20]", "experiment.bandwidth_ratio=[1.0]",
                "experiment.design_snr_db=[null]", "experiment.schemes=[clean,noise_injection]",
                "baseline=digital"),
               contrasts=(("noise_injection", "clean"), ("noise_injection", "digital_amc"),
                          ("digital_capacity", "digital_amc"))),
    FigureSpec("accuracy_vs_bandwidth", "Accuracy vs bandwidth",
               "Analog techniques and adaptive digital at two SNRs (one panel each), matched transmitter.",
               ("experiment=bandwidth_sweep", "experiment.bandwidth_ratio=[0.125,0.25,0.5,1.0]",
                "experiment.snr_db=[0,10]", "experiment.design_snr_db=[null]",
                "experiment.schemes=[noise_injection,pruning_kd_structured,expansion_structured]",
                "baseline=digital_amc"), x="bandwidth_ratio", panel="snr_db",
               contrasts=(("pruning_kd_structured", "noise_injection"), ("expansion_structured", "pruning_kd_structured"),
                          ("pruning_kd_structured", "digital_amc"))),
    FigureSpec("expansion_uep", "Channel expansion and UEP vs uniform",
               "Half bandwidth, networks designed for 5 dB: pruning alone, uniform 2x expansion, and per-layer UEP.",
               ("experiment.snr_db=[-5,0,5,10,15,20]", "experiment.bandwidth_ratio=[0.5]",
                "experiment.design_snr_db=[5.0]",
                "experiment.schemes=[pruning_kd_structured,expansion_structured,uep_structured]"),
               contrasts=(("expansion_structured", "pruning_kd_structured"), ("uep_structured", "expansion_structured"))),
    FigureSpec("spectrum", "Spectrum training vs per-SNR models",
               "One spectrum-trained network for every SNR against networks trained for each SNR (matched), "
               "half bandwidth.",
               ("experiment.snr_db=[-5,0,5,10,15,20]", "experiment.bandwidth_ratio=[0.5]",
                "experiment.design_snr_db=[null]",
                "experiment.schemes=[spectrum_ordered,expansion_structured,pruning_kd_structured]"),
               contrasts=(("spectrum_ordered", "pruning_kd_structured"), ("spectrum_ordered", "expansion_structured"))),
    FigureSpec("cliff", "Matched vs designed for 10 dB: the digital cliff",
               "Transmitters that know the SNR (matched) against a broadcast designed for 10 dB, full bandwidth.",
               ("experiment.snr_db=[-5,0,5,10,15,20]", "experiment.bandwidth_ratio=[1.0]",
                "experiment.design_snr_db=[null,10.0]", "experiment.schemes=[noise_injection]",
                "baseline=digital"),
               contrasts=(("noise_injection", "digital_amc"), ("noise_injection", "digital_ldpc"))),
    FigureSpec("broadcast", "Broadcast over 0-20 dB: analog, single-layer and layered digital",
               "Every scheme serves the same range: analog designs for 5 dB with side information protected for "
               "0 dB; single-layer adaptive digital designed for 0, 10 and 20 dB; layered digital (1/2/3 bits) "
               "with layers for 0, 10 and 20 dB. Full bandwidth, side information counted.",
               ("experiment=broadcast",)),
)


@dataclass
class Built:
    spec: FigureSpec
    command: str
    config_hash: str
    rows: list[dict] = field(default_factory=list)
    contrasts: list[tuple[str, str]] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)


def build(spec: FigureSpec, out: Path, extra: list[str]) -> Built:
    """Run (or resume) the figure's sweep and draw it at column and page width."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from experiments.config import run_options
    from experiments.sweep import CONF_DIR, main

    overrides = [*spec.overrides, f"hydra.run.dir={out / 'runs' / spec.name}", *extra]
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose(config_name="sweep", overrides=[o for o in overrides if not o.startswith("hydra.")])
    rows = main(cfg, out / "runs" / spec.name)
    protection = run_options(cfg).side_info.describe()
    declared = spec.contrasts or tuple((str(a), str(b)) for a, b in cfg.experiment.contrasts)
    present = {str(r["scheme"]) for r in rows}
    built = Built(spec, "python -m experiments.sweep " + " ".join(overrides),
                  config_hash(OmegaConf.to_container(cfg, resolve=True)), rows,
                  [c for c in declared if set(c) <= present])
    for width, tag in ((COLUMN, "column"), (PAGE, "page")):
        panels = len({float(r[spec.panel]) for r in rows}) if spec.panel else 1
        built.paths += plot_accuracy(rows, spec.x, out / f"{spec.name}_{tag}", title="" if tag == "column" else
                                     spec.title, xlabel=_xlabel(spec.x), panel=spec.panel,
                                     widths=(width / panels, width * 0.72 if tag == "column" else 3.2),
                                     chance=0.1, note=protection, test_error=True)
    return built


def report(figures: list[Built], out: Path) -> Path:
    """``figures.md``: every figure with its table, command and config hash."""
    lines = ["# AirNet figure set", "",
             "Mean accuracy with a 95 % confidence interval (estimator in each table); side information counted "
             "unless the command says `side_info.mode=free`. Regenerate with `python -m experiments.figures`.", ""]
    for f in figures:
        s = f.spec
        lines += [f"## {s.title}", "", s.caption, "", f"![{s.name}]({s.name}_page.png)", "",
                  f"PDF: [{s.name}_column.pdf]({s.name}_column.pdf) (column), "
                  f"[{s.name}_page.pdf]({s.name}_page.pdf) (page)", "",
                  f"Data: `{f.command}`  ", f"Config hash: `{f.config_hash}`", ""]
        lines += _table(f.rows, s) + [""]
        lines += _contrasts(f) + [""]
    path = out / "figures.md"
    path.write_text("\n".join(lines))
    return path


def _table(rows: list[dict], spec: FigureSpec) -> list[str]:
    keys = [spec.panel] if spec.panel else []
    first = None
    out = [f"| curve | {' | '.join(_axis(k) for k in keys + [spec.x])} | accuracy | 95 % CI | side info bits | "
           f"side info / all channel uses |", "|---" * (6 + len(keys)) + "|"]
    groups = group_rows(rows, keys + [spec.x])
    by_curve: dict[str, list] = {}
    for point, point_rows in sorted(groups.items()):
        for r in point_rows:
            by_curve.setdefault(curve_label(r), [])
    for curve in by_curve:
        for point, point_rows in sorted(groups.items()):
            mine = [r for r in point_rows if curve_label(r) == curve]
            if not mine:
                continue
            e = estimate(mine, test_error=True)
            first = first or e
            side = sum(float(r.get("side_info_bits") or 0) for r in mine) / len(mine)
            share = sum(float(r.get("side_info_channel_uses") or 0) / max(1.0, float(r.get("channel_uses") or 0))
                        for r in mine) / len(mine)
            values = " | ".join(f"{v:g}" for v in point)
            out.append(f"| {curve} | {values} | {e.mean:.3f} | [{e.low:.3f}, {e.high:.3f}] | {side:.0f} | "
                       f"{share:.2f} |")
    if first is not None:
        sizes = sorted({str(r.get("test_size", "?")) for r in rows})
        out.append("")
        out.append(f"{first.seeds} seed(s), {first.draws // max(first.seeds, 1)} channel draws per seed, test set "
                   f"{'/'.join(sizes)} images; intervals: {first.estimator}.")
    return out


def _contrasts(f: Built) -> list[str]:
    """The figure's planned contrasts (one family, Holm within it) and the seeds they need."""
    import io

    from airnet.run.contrasts import planned_contrasts
    from experiments.contrasts import markdown, power_markdown

    if not f.contrasts:
        return []
    buf = io.StringIO()
    results = planned_contrasts(f.rows, f.contrasts)
    seeds = len({r["seed"] for r in f.rows})
    buf.write(f"Planned contrasts ({len(f.contrasts)} in the family, Holm at 0.05; detectable differences at 80 % "
              f"power)" + ("; one training seed: they pair the channel draws, seed variability is not included"
                          if seeds < 2 else "") + ":\n\n")
    markdown(results, buf)
    buf.write("\n")
    power_markdown(results, out=buf)
    return buf.getvalue().rstrip("\n").split("\n")


def _axis(key: str) -> str:
    name, unit = AXIS_NAMES.get(key, (key, ""))
    return f"{name} ({unit})" if unit else name


def _xlabel(key: str) -> str:
    return {"snr_db": "SNR (dB)", "bandwidth_ratio": "bandwidth ratio"}.get(key, key)


def main(argv: list[str] | None = None) -> Path:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("figures"), help="output folder (default: figures)")
    ap.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(f.name for f in FIGURES)}")
    ap.add_argument("--paper", action="store_true", help=f"the paper version: {' '.join(PAPER)} (hours on a CPU)")
    ap.add_argument("overrides", nargs="*", help="config overrides applied to every sweep")
    args = ap.parse_args(argv)
    if args.paper:
        args.overrides = [*PAPER, *args.overrides]          # the user's own overrides still win
    wanted = {n for n in args.only.split(",") if n}
    unknown = wanted - {f.name for f in FIGURES}
    if unknown:
        ap.error(f"unknown figure(s) {sorted(unknown)}")
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s][%(name)s] %(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    built = [build(spec, args.out, list(args.overrides)) for spec in FIGURES if not wanted or spec.name in wanted]
    path = report(built, args.out)
    log.info("figure set: %s (%d figures)", path, len(built))
    return path


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
