"""Read the Hydra config at the edge: validate it and turn it into typed options and plain objects.

Everything a run needs is checked here, before any training, and every error names its config key.
"""
from __future__ import annotations

import dataclasses
import importlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from omegaconf import DictConfig, ListConfig, OmegaConf

from channels import make_channel
from airnet.data import load_data
from airnet.io import config_hash
from airnet.options import OptionError, build_options, options_dict
from airnet.schemes import scheme_class
from airnet.setup import Setup
from airnet.side_info import LinkOptions, SideInfoOptions
from airnet.sweep import SchemeRun
from airnet.training import TrainSettings


@dataclass(frozen=True)
class ExperimentOptions:
    """``conf/experiment/*.yaml``: the sweep axes, the schemes and the draws per point."""

    name: str
    x: Literal["snr_db", "bandwidth_ratio"]
    snr_db: tuple[float, ...]
    bandwidth_ratio: tuple[float, ...]
    num_realizations: int
    schemes: tuple[str, ...]
    seeds: tuple[int, ...]
    design_snr_db: tuple[float | None, ...]

    def __post_init__(self) -> None:
        if self.num_realizations < 1:
            raise OptionError(f"experiment.num_realizations must be at least 1, got {self.num_realizations}")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise OptionError(f"experiment.seeds must be distinct integers, got {list(self.seeds)}")
        if not self.design_snr_db:
            raise OptionError("experiment.design_snr_db is empty: give SNRs, or null for matched")
        bad = [r for r in self.bandwidth_ratio if not r > 0]
        if bad:
            raise OptionError(f"experiment.bandwidth_ratio must be positive, got {bad}")

    @property
    def panel(self) -> str:
        """The axis that is not the x-axis (one plot panel per value)."""
        return "bandwidth_ratio" if self.x == "snr_db" else "snr_db"


def value_list(spec: Any, name: str) -> list[float]:
    """Expand ``{start, stop, step}`` (inclusive) or a list/number into a non-empty list of finite floats."""
    if isinstance(spec, (DictConfig, dict)):
        try:
            start, stop, step = (float(spec[k]) for k in ("start", "stop", "step"))
        except (KeyError, TypeError, ValueError) as exc:
            raise OptionError(f"{name} range needs numbers start, stop and step, got {dict(spec)}") from exc
        if not step > 0 or stop < start:
            raise OptionError(f"{name} range needs step > 0 and stop >= start, got {dict(spec)}")
        n = int(math.floor((stop - start) / step + 1e-9)) + 1
        return [round(start + i * step, 10) for i in range(n)]
    items = list(spec) if isinstance(spec, (ListConfig, list, tuple)) else [spec]
    values = []
    for v in items:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise OptionError(f"{name} must be finite numbers, got {v!r}")
        values.append(float(v))
    if not values:
        raise OptionError(f"{name} is empty")
    return values


def container(node: Any) -> Any:
    """Resolved plain-Python copy of a config node."""
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, (DictConfig, ListConfig)) else node


def import_plugins(cfg: DictConfig) -> None:
    """Import the modules listed in ``plugins`` so their schemes and channels register themselves."""
    plugins = container(cfg.get("plugins")) or []
    if not isinstance(plugins, list):
        raise OptionError(f"plugins must be a list of module names, got {plugins!r}")
    for name in plugins:
        try:
            importlib.import_module(str(name))
        except ImportError as exc:
            raise OptionError(f"plugins: cannot import {name!r}: {exc}") from exc


def experiment_options(cfg: DictConfig) -> ExperimentOptions:
    """Typed ``experiment`` options (axis lists expanded)."""
    exp = container(cfg.experiment)
    for axis in ("snr_db", "bandwidth_ratio"):
        exp[axis] = value_list(exp.get(axis), f"experiment.{axis}")
    designs = exp.get("design_snr_db")
    designs = designs if isinstance(designs, list) else [designs]
    exp["design_snr_db"] = [None if d is None else value_list(d, "experiment.design_snr_db")[0] for d in designs]
    return build_options(ExperimentOptions, exp, "experiment")


def scheme_names(cfg: DictConfig, exp: ExperimentOptions) -> list[str]:
    """Schemes of the experiment followed by the selected baselines (no duplicates); never empty."""
    names = list(dict.fromkeys([*exp.schemes, *(container(cfg.baseline) or {}).get("schemes", [])]))
    if not names:
        raise OptionError("experiment.schemes is empty and baseline selects none: nothing to run")
    return names


def scheme_kind(cfg: DictConfig, name: str) -> str:
    """The registered scheme behind ``name``: ``scheme.<name>.kind`` for a variant, else ``name`` itself."""
    node = (cfg.get("scheme") or {}).get(name)
    kind = node.get("kind") if isinstance(node, DictConfig) else None
    if kind is not None and not isinstance(kind, str):
        raise OptionError(f"scheme.{name}.kind must be a registered scheme name, got {kind!r}")
    return kind or name


def scheme_options(cfg: DictConfig, name: str) -> Any:
    """Typed options of scheme ``name`` from ``scheme.<name>`` (for a variant, of the class its ``kind`` names)."""
    nodes = cfg.get("scheme") or {}
    cls = scheme_class(scheme_kind(cfg, name))
    if name not in nodes and dataclasses.fields(cls.Options):
        raise OptionError(f"no options for scheme {name!r}: add conf/scheme/{name}.yaml (headed "
                          f"'# @package scheme.{name}') and select it with +scheme={name}")
    data = container(nodes.get(name))
    if isinstance(data, dict):
        data.pop("kind", None)
    return build_options(cls.Options, data, f"scheme.{name}")


@dataclass(frozen=True)
class RunOptions:
    """Top-level keys of ``conf/sweep.yaml``."""

    seed: int
    cache_dir: str | None
    progress: bool
    plugins: tuple[str, ...]
    side_info: SideInfoOptions


def run_options(cfg: DictConfig, exp: ExperimentOptions) -> RunOptions:
    """Typed top-level options; ``side_info.snr_db: lowest`` becomes the sweep's lowest SNR."""
    keys = ("seed", "cache_dir", "progress", "plugins", "side_info")
    top = {k: container(cfg.get(k)) for k in keys}
    if isinstance(top["side_info"], dict) and top["side_info"].get("snr_db") == "lowest":
        top["side_info"]["snr_db"] = min(exp.snr_db)
    return build_options(RunOptions, top, "")


def build_setup(cfg: DictConfig, run: RunOptions) -> Setup:
    """The :class:`Setup` of this run: data, model recipe, channel, training settings, seed, cache folder."""
    channel_cfg = container(cfg.channel)
    channel = make_channel(**channel_cfg)
    data = load_data(cfg.data.name, cfg.data.root, seed=run.seed, val_fraction=cfg.data.val_fraction)
    settings = build_options(TrainSettings, container(cfg.train), "train")
    link = build_options(LinkOptions, container(cfg.link), "link")
    return Setup(data=data, model_name=cfg.model.name, model_kwargs=dict(container(cfg.model.kwargs) or {}),
                 channel=channel, channel_cfg=channel_cfg, settings=settings, seed=run.seed,
                 side_info=run.side_info, link=link,
                 cache_dir=Path(run.cache_dir).expanduser() if run.cache_dir else None, progress=run.progress)


def scheme_runs(cfg: DictConfig, exp: ExperimentOptions) -> list[SchemeRun]:
    """Every scheme of the run with typed options and a config id: a hash of everything that changes its rows
    except the sweep axes (so changing one scheme's options recomputes only that scheme)."""
    common = [container(cfg.channel), container(cfg.model), container(cfg.data), container(cfg.train),
              container(cfg.seed), exp.num_realizations, container(cfg.side_info), container(cfg.link)]
    runs = []
    for name in scheme_names(cfg, exp):
        opts = scheme_options(cfg, name)
        kind = scheme_kind(cfg, name)
        runs.append(SchemeRun(name, kind, opts, config_hash([*common, kind, options_dict(opts)])))
    return runs
