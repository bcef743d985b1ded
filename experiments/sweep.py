"""The sweep driver: accuracy of every delivery scheme over SNR and bandwidth, from one Hydra config.

    python -m experiments.sweep                                  # main job: accuracy vs SNR (experiment=snr_sweep)
    python -m experiments.sweep experiment=bandwidth_sweep       # accuracy vs bandwidth ratio, a panel per SNR
    python -m experiments.sweep -m channel=awgn,rayleigh,rician  # Hydra multirun

Writes ``results.csv`` (resumable) and ``accuracy_vs_<x>.{png,pdf}`` into the Hydra job's output folder.
"""
from __future__ import annotations

import functools
import gc
import logging
import sys
from pathlib import Path
from typing import Any

import hydra
import torch
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from airnet.config.hashing import config_hash
from airnet.config.options import OptionError
from airnet.run.plotting import plot_accuracy
from airnet.run.workers import idle_cores
from airnet.run.sweep import KEY_COLUMNS, run_sweep
from airnet.store.results import ResultTable, read_rows
from airnet.zoo.precision import effective_precision
from experiments.config import (build_context, check_schemes, experiment_options, import_plugins, run_options,
                                scheme_runs, train_settings)

log = logging.getLogger("airnet")
def conf_dir() -> str:
    """The Hydra config folder: ``conf/`` of the checkout, or ``experiments/conf`` of an installed wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "conf", here / "conf"):
        if (candidate / "sweep.yaml").is_file():
            return str(candidate)
    raise FileNotFoundError(f"no Hydra configs (sweep.yaml) beside {here}: reinstall airnet")


CONF_DIR = conf_dir()
RUN_NAME_MAX = 120   # characters of a run folder's name: file systems allow 255 bytes per name


def run_name(overrides: str) -> str:
    """The run folder's name for Hydra's ``override_dirname``: ``default`` for none, else the overrides themselves,
    or, when longer than :data:`RUN_NAME_MAX` (a list of 17 SNRs is), their first characters and a hash of the whole
    (distinct overrides keep distinct folders).

    >>> run_name("")
    'default'
    >>> len(run_name("experiment.snr_db=[" + ",".join(map(str, range(100))) + "]")) == RUN_NAME_MAX
    True
    """
    if not overrides:
        return "default"
    if len(overrides) <= RUN_NAME_MAX:
        return overrides
    digest = config_hash(overrides)
    return f"{overrides[:RUN_NAME_MAX - len(digest) - 1]}~{digest}"


# run folders: outputs/<experiment>/default for the plain run, outputs/<experiment>/<overrides> otherwise, so a run
# with overrides is never written inside the default run's folder
OmegaConf.register_new_resolver("airnet.run_name", run_name, replace=True)
XLABELS = {"snr_db": "SNR (dB)", "bandwidth_ratio": "bandwidth ratio (channel uses / full-model channel uses)"}


def main(cfg: DictConfig, out: Path | None = None) -> list[dict]:
    """Run the sweep of ``cfg`` into ``out`` (default: the Hydra job's output folder); return its rows."""
    out = Path(out) if out is not None else Path(HydraConfig.get().runtime.output_dir)
    run = run_options(cfg)
    import_plugins(cfg)
    exp = experiment_options(cfg)
    schemes = scheme_runs(cfg, exp)
    settings = train_settings(cfg)
    context = build_context(cfg, run, exp)
    check_schemes(schemes, context)
    threads = run.torch_threads(context.num_params)
    torch.set_num_threads(threads)
    workers = run.worker_count(threads, idle_cores(), shared=parallel_launcher())
    scoring = effective_precision(run.eval_precision, context.device, "eval_precision")
    if run.plan:
        from airnet.run.plan import plan_sweep

        with ResultTable(out / "results.csv", KEY_COLUMNS) as existing:
            plan = plan_sweep(context, settings, schemes, exp.snr_db, exp.bandwidth_ratio, exp.num_realizations,
                              existing, seeds=exp.seeds, design_snr_db=exp.design_snr_db,
                              draws_until=exp.draws_until, precision=scoring, workers=workers)
        print(f"plan for {out} (plan=true: nothing is trained or scored; side-information searches, which do not "
              f"depend on training, are cached for the run)\n{plan.describe()}")
        return []
    with ResultTable(out / "results.csv", KEY_COLUMNS) as table:     # closing merges, even after an error
        rows = run_sweep(context, settings, schemes, exp.snr_db, exp.bandwidth_ratio, exp.num_realizations, table,
                         seeds=exp.seeds, design_snr_db=exp.design_snr_db,
                         columns=dict(channel=cfg.channel.name, **channel_columns(context.channel_cfg),
                                      model=cfg.model.name, data=cfg.data.name, side_info_mode=run.side_info.mode),
                         progress=run.show_progress,
                         precision=scoring,
                         draws_until=exp.draws_until, workers=workers)
    title = f"{cfg.model.name} on {cfg.data.name}, {cfg.channel.name} channel, {exp.num_realizations} realizations"
    paths = plot_store(table.path, exp.x, out / f"accuracy_vs_{'snr' if exp.x == 'snr_db' else 'bandwidth'}",
                       title=title, xlabel=XLABELS[exp.x], panel=exp.panel,
                       chance=1.0 / context.data.num_classes, note=run.side_info.describe())
    log.info("results: %s; plot: %s", table.path, ", ".join(map(str, paths)))
    return rows


def parallel_launcher() -> bool:
    """Whether this job is one of a multirun whose launcher runs jobs side by side (joblib, submitit, ...): they
    share the cores, so ``workers=auto`` starts none. False outside Hydra."""
    if not HydraConfig.initialized():
        return False
    hc = HydraConfig.get()
    return str(hc.mode) == "RunMode.MULTIRUN" and "BasicLauncher" not in str(hc.launcher.get("_target_", ""))


def plot_store(path: Path, x: str, out_stem: Path, **kwargs: Any) -> list[Path]:
    """Plot every row of the run folder's merged store (other jobs writing into the folder included), PNG and PDF
    from the same rows; again while the store grows meanwhile, so the job that finishes last draws every point."""
    drawn: list[dict[str, str]] = []
    paths: list[Path] = []
    for _ in range(5):
        rows = [r for r in read_rows(path) if r.get(x, "") != ""]
        if rows == drawn:
            break
        paths = plot_accuracy(rows, x, out_stem, **kwargs)
        drawn = rows
    return paths


def channel_columns(channel_cfg: dict) -> dict:
    """Every channel setting as its own CSV column (``channel_csi``, ``channel_speed``, ...); lists as ``a/b``."""
    return {f"channel_{k}": "/".join(map(str, v)) if isinstance(v, (list, tuple)) else v
            for k, v in channel_cfg.items() if k != "name"}


@hydra.main(config_path=CONF_DIR, config_name="sweep", version_base="1.3")
def entry(cfg: DictConfig) -> None:
    try:
        main(cfg)
    except OptionError as exc:        # a bad config value: one clear line, no traceback
        log.error("config error: %s", exc)
        remove_failed_run(Path(HydraConfig.get().runtime.output_dir))
        sys.exit(2)


def remove_failed_run(out: Path) -> None:
    """Delete a run folder that holds no results (Hydra's own files only), and the parents that this leaves empty
    below the launch folder: a failed run leaves no empty output folder behind."""
    import shutil

    if (out / "results.csv").exists() or not out.is_dir():
        return
    if any(p.name not in (".hydra", "sweep.log") for p in out.iterdir()):
        return
    shutil.rmtree(out, ignore_errors=True)
    cwd = Path.cwd().resolve()
    parent = out.resolve().parent
    while parent != cwd and cwd in parent.parents and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent


def unknown_key(argv: list[str]) -> str | None:
    """The README's "unknown option ...; did you mean ...?" for an override of a key that does not exist, typed
    without ``+`` (Hydra itself would suggest adding ``+``, which would only move the error to the typed options),
    or None. Single runs only; multiruns go straight to Hydra."""
    import difflib

    from hydra import compose, initialize_config_dir
    from hydra.errors import ConfigCompositionException
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError

    overrides = [a for a in argv if "=" in a and not a.startswith("-")]
    if not overrides or any(a in ("-m", "--multirun") or a.startswith(("--cfg", "--help", "-c")) for a in argv):
        return None
    if all(_known_top_level(o.split("=", 1)[0]) for o in overrides):
        return None             # e.g. the main job's experiment=snr_sweep, or hydra.run.dir: no composition (0.3-0.4 s)
    try:
        with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
            try:
                compose("sweep", overrides=overrides)
                return None
            except ConfigCompositionException as exc:
                if not isinstance(exc.__cause__, (ConfigAttributeError, ConfigKeyError)):
                    return None
                bad = next((o for o in overrides if f"'{o.split('=', 1)[0]}'" in str(exc)), None)
                if bad is None:
                    return None
                key = bad.split("=", 1)[0]
                cfg = compose("sweep", overrides=[o for o in overrides if o != bad])
    except Exception:           # anything else is Hydra's to report, as usual
        return None
    parent, _, leaf = key.rpartition(".")
    node = OmegaConf.select(cfg, parent) if parent else cfg
    options = list(node.keys()) if isinstance(node, DictConfig) else []
    close = difflib.get_close_matches(leaf, [str(o) for o in options], n=1)
    hint = f"; did you mean {parent + '.' if parent else ''}{close[0]}?" if close else ""
    where = f" ({parent} has: {', '.join(map(str, options))})" if options else ""
    return f"unknown option {key}{hint}{where}"


def _known_top_level(key: str) -> bool:
    """Whether ``key`` (an override's key, as typed) is a config group of ``conf/``, a plain key of ``sweep.yaml``
    or a key of Hydra's own schema (``hydra.run.dir``): an override of it cannot name a missing option."""
    if key != key.lstrip("+~") or "/" in key:
        return False
    if key.startswith("hydra."):
        return _hydra_key(key.split(".")[1:])
    return "." not in key and ((Path(CONF_DIR) / key).is_dir() or key in _top_level_keys())


def _hydra_key(parts: list[str]) -> bool:
    """Whether ``hydra.<parts>`` is a key of Hydra's own config schema (e.g. ``hydra.run.dir``)."""
    node: Any = _hydra_schema()
    for part in parts:
        if not isinstance(node, DictConfig) or part not in node.keys():
            return False
        node = node._get_node(part)      # the node, unresolved: unset ones (hydra.launcher: ???) stop the walk
    return True


@functools.lru_cache(maxsize=1)
def _hydra_schema() -> DictConfig:
    from hydra.conf import HydraConf

    return OmegaConf.structured(HydraConf)


@functools.lru_cache(maxsize=1)
def _top_level_keys() -> frozenset[str]:
    raw = OmegaConf.load(Path(CONF_DIR) / "sweep.yaml")
    return frozenset(str(k) for k in raw.keys() if k not in ("defaults", "hydra"))


def cli() -> None:
    """The command line: a misspelt key fails with one line before Hydra starts, then :func:`entry`."""
    problem = unknown_key(sys.argv[1:])
    if problem:
        logging.basicConfig(format="%(message)s")
        log.error("config error: %s", problem)
        sys.exit(2)
    gc.freeze()        # the imported modules: never collected again (cheaper collections while the job runs)
    try:
        entry()
    finally:
        gc.freeze()    # and all the job made: an exiting process need not collect it (0.3-0.6 s with torch)


def alias(experiment: str) -> None:
    """Run :func:`entry` with ``experiment=<experiment>`` unless the command line picks one.

    The override goes last: Hydra's parser takes the overrides as one run of positionals, so one placed before a
    flag (``-m``, ``--cfg job``) would split them and the rest would be "unrecognized arguments"."""
    if not any(a.split("=", 1)[0].lstrip("+~") == "experiment" for a in sys.argv[1:]):
        sys.argv.append(f"experiment={experiment}")
    cli()


if __name__ == "__main__":
    cli()
