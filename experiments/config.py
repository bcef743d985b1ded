"""Read the Hydra config at the edge: validate it and turn it into typed options and plain objects.

Everything a run needs is checked here, before any training, and every error names its config key.
"""
from __future__ import annotations

import dataclasses
from contextlib import contextmanager
import importlib
import logging
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
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

log = logging.getLogger("airnet")


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
class SideInfoConfig:
    """``side_info`` as configured (``snr_db`` may still say ``lowest``, resolved by :func:`build_setup`)."""

    mode: Literal["counted", "free"]
    link: Literal["ldpc", "capacity"]
    snr_db: float | Literal["design", "lowest"]


@dataclass(frozen=True)
class RunOptions:
    """Top-level keys of ``conf/sweep.yaml``."""

    seed: int
    cache_dir: str | None
    progress: bool | Literal["auto"]
    plugins: tuple[str, ...]
    side_info: SideInfoConfig
    device: Literal["auto", "cpu", "cuda"] | str
    threads: int | Literal["auto"]
    eval_precision: Literal["float32", "bfloat16"]

    def torch_threads(self, num_params: int) -> int:
        """Intra-op threads: ``auto`` is 1 for models under a million parameters, whose tiny ops gain nothing
        from more threads and thrash when several jobs share the cores; larger models get every core."""
        if self.threads == "auto":
            return 1 if num_params < 1_000_000 else (os.cpu_count() or 1)
        if self.threads < 1:
            raise OptionError(f"threads must be a positive integer or auto, got {self.threads}")
        return self.threads

    def torch_device(self) -> torch.device:
        """``auto``: CUDA when available, else the CPU; ``cuda`` without a GPU is an error naming the key."""
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        try:
            device = torch.device(self.device)
        except RuntimeError as exc:
            raise OptionError(f"device must be auto, cpu, cuda or cuda:N, got {self.device!r}") from exc
        if device.type == "cuda" and not torch.cuda.is_available():
            raise OptionError(f"device={self.device!r} but torch sees no CUDA device (torch {torch.__version__}); "
                              f"use device=cpu or auto")
        return device

    @property
    def show_progress(self) -> bool:
        """Progress bars: on when asked, or (``auto``) when stderr is a terminal."""
        return sys.stderr.isatty() if self.progress == "auto" else bool(self.progress)


def run_options(cfg: DictConfig) -> RunOptions:
    """Typed top-level options (checked first, so an error names the key the user set)."""
    keys = ("seed", "cache_dir", "progress", "plugins", "side_info", "device", "threads", "eval_precision")
    return build_options(RunOptions, {k: container(cfg.get(k)) for k in keys}, "")


def build_setup(cfg: DictConfig, run: RunOptions, exp: ExperimentOptions) -> Setup:
    """The :class:`Setup` of this run: data, model recipe, channel, training settings, seed, cache folder.

    ``side_info.snr_db: lowest`` becomes the sweep's lowest SNR here.
    """
    channel_cfg = container(cfg.channel)
    with named("channel"):
        channel = make_channel(**channel_cfg)
    settings = build_options(TrainSettings, container(cfg.train), "train")
    if settings.epochs == 0:
        log.warning("train.epochs=0: every model keeps its random initialization")
    link = build_options(LinkOptions, container(cfg.link), "link")
    si = run.side_info
    side_info = SideInfoOptions(si.mode, si.link, min(exp.snr_db) if si.snr_db == "lowest" else si.snr_db)
    with named("data"):
        data = load_data(cfg.data.name, cfg.data.root, seed=run.seed, val_fraction=cfg.data.val_fraction)
    setup = Setup(data=data, model_name=cfg.model.name, model_kwargs=dict(container(cfg.model.kwargs) or {}),
                  channel=channel, channel_cfg=channel_cfg, settings=settings, seed=run.seed, side_info=side_info,
                  link=link, cache_dir=Path(run.cache_dir).expanduser() if run.cache_dir else None,
                  progress=run.show_progress, device=run.torch_device())
    with named("model"):
        if setup.num_params == 0:
            raise OptionError(f"model {cfg.model.name!r} has no parameters: there is nothing to transmit")
    return setup


@contextmanager
def named(group: str):
    """Turn a library's complaint about a config group's values into an :class:`OptionError` naming the group."""
    try:
        yield
    except OptionError:
        raise
    except (ValueError, TypeError, FileNotFoundError) as exc:
        raise OptionError(f"{group}: {exc}") from exc


def scheme_runs(cfg: DictConfig, exp: ExperimentOptions) -> list[SchemeRun]:
    """Every scheme of the run with typed options and a config id: a hash of everything that changes its rows
    except the sweep axes (so changing one scheme's options recomputes only that scheme)."""
    common = [container(cfg.channel), container(cfg.model), container(cfg.data), container(cfg.train),
              container(cfg.seed), exp.num_realizations, container(cfg.side_info), container(cfg.link)]
    for name in cfg.get("scheme") or {}:       # a typo in any scheme's options fails now, run or not
        scheme_options(cfg, name)
    runs = []
    for name in scheme_names(cfg, exp):
        opts = scheme_options(cfg, name)
        kind = scheme_kind(cfg, name)
        runs.append(SchemeRun(name, kind, opts, config_hash([*common, kind, options_dict(opts)])))
    return runs
