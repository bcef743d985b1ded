"""Read the Hydra config at the edge: validate it and turn it into typed options and plain objects.

Everything a run needs is checked here, before any training, and every error names its config key.

Scheme variants: a ``conf/scheme/<variant>.yaml`` with ``extends: <parent>`` states only what differs from the
parent; every other option is the parent's effective value, command-line overrides of the parent included. Its
class is ``kind`` if given, else the variant's own name if a scheme is registered under it (``digital_ldpc``
extends ``digital_capacity``'s options), else the parent's class. A variant may fix ``design_snr_db: <dB>``: its
transmitter designs for that SNR whatever ``experiment.design_snr_db`` says (one broadcast design per variant,
e.g. single-layer digital designed for the top, middle and bottom of a served range side by side).
"""
from __future__ import annotations

import dataclasses
import importlib
import logging
import math
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import torch
from omegaconf import DictConfig, ListConfig, OmegaConf

from channels import make_channel
from airnet.config.hashing import config_hash
from airnet.config.options import OptionError, build_options, options_dict
from airnet.config.run import ExperimentOptions, RunOptions, value_list
from airnet.context import Context
from airnet.run.sweep import SchemeRun
from airnet.schemes import SCHEMES, scheme_class
from airnet.side_info.protection import LinkOptions
from airnet.training.loop import TrainSettings
from airnet.zoo.data import load_data
from airnet.zoo.models import ModelSpec, build_model, has_prunable_units
from airnet.zoo.precision import effective_precision
from experiments.defaults import register_library_defaults

log = logging.getLogger("airnet")
register_library_defaults()      # conf/channel and conf/model take their defaults from the signatures


def container(node: Any) -> Any:
    """Resolved plain-Python copy of a config node."""
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, (DictConfig, ListConfig)) else node


def import_plugins(cfg: DictConfig) -> None:
    """Import the modules listed in ``plugins`` so their schemes, channels, models and data sets register."""
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


def _node(cfg: DictConfig, name: str) -> dict[str, Any]:
    nodes = cfg.get("scheme") or {}
    data = container(nodes.get(name)) if name in nodes else {}
    if not isinstance(data, dict):
        raise OptionError(f"scheme.{name} must be a mapping of options, got {data!r}")
    return data


def _chain(cfg: DictConfig, name: str) -> list[tuple[str, dict[str, Any]]]:
    """``(name, options)`` of scheme ``name``, then of the scheme it ``extends``, and so on to the root."""
    chain = [(name, _node(cfg, name))]
    while (parent := chain[-1][1].get("extends")) is not None:
        child = chain[-1][0]
        if not isinstance(parent, str) or parent not in (cfg.get("scheme") or {}):
            raise OptionError(f"scheme.{child}.extends must name another scheme's options (conf/scheme/<name>.yaml), "
                              f"got {parent!r}")
        if parent in (n for n, _ in chain):
            raise OptionError(f"scheme.{child}.extends: circular chain {' -> '.join([*(n for n, _ in chain), parent])}")
        chain.append((parent, _node(cfg, parent)))
    return chain


def scheme_kind(cfg: DictConfig, name: str) -> str:
    """The registered scheme behind ``name``: ``scheme.<name>.kind``, else ``name`` if registered, else the kind
    of the scheme it ``extends``; else ``name`` itself (an unknown scheme, reported by :func:`scheme_class`)."""
    chain = _chain(cfg, name)
    for i, (n, data) in enumerate(chain):
        kind = data.get("kind")
        if kind is not None:
            if not isinstance(kind, str):
                raise OptionError(f"scheme.{n}.kind must be a registered scheme name, got {kind!r}")
            return kind
        if n in SCHEMES or i == len(chain) - 1:
            return n
    raise AssertionError("unreachable: the chain's last scheme returns")


def scheme_values(cfg: DictConfig, name: str) -> dict[str, Any]:
    """The effective option values of scheme ``name``: its own keys over those of the scheme it ``extends``
    (mappings merged key by key), ``kind`` and ``extends`` removed."""
    values: dict[str, Any] = {}
    for _, data in reversed(_chain(cfg, name)):
        values = _merged(values, {k: v for k, v in data.items() if k not in RESERVED})
    return values


RESERVED = ("kind", "extends", "design_snr_db")    # scheme keys about the run, not options of the scheme's class


def pinned_design(cfg: DictConfig, name: str) -> float | None:
    """The fixed ``design_snr_db`` of scheme ``name`` or of the nearest scheme it extends that sets one (None:
    the experiment's designs)."""
    for n, data in _chain(cfg, name):
        if "design_snr_db" in data:
            value = data["design_snr_db"]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise OptionError(f"scheme.{n}.design_snr_db must be a finite number (dB), got {value!r}")
            return float(value)
    return None


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def scheme_options(cfg: DictConfig, name: str) -> Any:
    """Typed options of scheme ``name`` from ``scheme.<name>`` (for a variant, of the class its kind names)."""
    cls = scheme_class(scheme_kind(cfg, name))
    if name not in (cfg.get("scheme") or {}) and dataclasses.fields(cls.Options):
        raise OptionError(f"no options for scheme {name!r}: add conf/scheme/{name}.yaml (headed "
                          f"'# @package scheme.{name}') and select it with +scheme={name}")
    return build_options(cls.Options, scheme_values(cfg, name), f"scheme.{name}")


def run_options(cfg: DictConfig) -> RunOptions:
    """Typed top-level options (checked first, so an error names the key the user set)."""
    keys = ("seed", "cache_dir", "progress", "plugins", "side_info", "device", "threads", "workers",
            "eval_precision", "plan")
    return build_options(RunOptions, {k: container(cfg.get(k)) for k in keys}, "")


def _typed_train(cfg: DictConfig) -> TrainSettings:
    """``train`` as typed settings, bfloat16 only where the hardware has it (else float32 and a warning)."""
    settings = build_options(TrainSettings, container(cfg.train), "train")
    if settings.precision != "float32":
        device = run_options(cfg).torch_device()
        settings = settings.replace(precision=effective_precision(settings.precision, device, "train.precision"))
    return settings


def effective_precisions(cfg: DictConfig) -> dict[str, str]:
    """The precisions training (``train.precision``) and scoring (``eval_precision``) run in: as set, except
    bfloat16 on a CPU without it (float32 and a warning: :func:`airnet.zoo.precision.effective_precision`)."""
    run = run_options(cfg)
    return {"train": _typed_train(cfg).precision,
            "eval": effective_precision(run.eval_precision, run.torch_device(), "eval_precision")}


def train_settings(cfg: DictConfig) -> TrainSettings:
    """Typed ``train`` options: the settings of every model recipe."""
    settings = _typed_train(cfg)
    if settings.epochs == 0:
        log.warning("train.epochs=0: every model keeps its random initialization")
    return settings


def build_context(cfg: DictConfig, run: RunOptions, exp: ExperimentOptions) -> Context:
    """The :class:`Context` of this run: data, model architecture, channel, seed, caches and side link.

    """
    channel_cfg = container(cfg.channel)
    with named("channel"):
        channel = make_channel(**channel_cfg)
    link = build_options(LinkOptions, container(cfg.link), "link")
    with named("data"):
        root = None if OmegaConf.is_missing(cfg.data, "root") else cfg.data.get("root")
        data = load_data(cfg.data.name, root, seed=run.seed, val_fraction=cfg.data.val_fraction)
    check_model(cfg.model.name, dict(container(cfg.model.kwargs) or {}), data)
    context = Context.build(data=data, model=ModelSpec(cfg.model.name, dict(container(cfg.model.kwargs) or {})),
                            channel=channel, channel_cfg=channel_cfg, seed=run.seed, side_info=run.side_info, link=link,
                            cache_dir=Path(run.cache_dir).expanduser() if run.cache_dir else None,
                            progress=run.show_progress, device=run.torch_device())
    return context


def check_model(name: str, kwargs: dict[str, Any], data: Any) -> None:
    """Build the model and run it on two training images, so that bad sizes or a model that does not fit the data
    fail here, in one line, before any training."""
    with named("model"):
        try:
            model = build_model(name, data.input_shape, data.num_classes, **kwargs)
            if sum(p.numel() for p in model.parameters()) == 0:
                raise OptionError(f"model {name!r} has no parameters: there is nothing to transmit")
            with torch.no_grad():
                out = model.eval()(data.x_train[:2].cpu())
        except RuntimeError as exc:          # torch's own complaint (negative sizes, shapes that do not chain)
            first = str(exc).strip().splitlines()[0]
            raise OptionError(f"model={name} with {kwargs or 'its defaults'} does not run on {data.name} images "
                              f"{tuple(data.input_shape)}: {first}") from exc
        if tuple(out.shape) != (2, data.num_classes):
            raise OptionError(f"model={name} gives outputs {tuple(out.shape[1:])} for {data.name}, which has "
                              f"{data.num_classes} classes")


def check_schemes(runs: list[SchemeRun], context: Context) -> None:
    """Reject, before any training, a scheme whose options prune whole units when the model declares none."""
    model = context.new_model()
    if has_prunable_units(model):
        return
    for r in runs:
        key = scheme_class(r.kind).needs_units(r.options)
        if key is not None:
            raise OptionError(f"scheme.{r.name}.{key} needs a model that declares prunable_units() (whole neurons "
                              f"or filters); model {context.model.name!r} ({type(model).__name__}) declares none: "
                              f"use the unstructured variant")


@contextmanager
def named(group: str) -> Iterator[None]:
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
    train = container(cfg.train)
    precision = effective_precisions(cfg)
    if precision["train"] == "float32":      # float32 rows keep the ids they had before the option existed
        train.pop("precision", None)
    else:
        train["precision"] = precision["train"]
    common = [container(cfg.channel), container(cfg.model), container(cfg.data), train,
              container(cfg.seed), exp.num_realizations, container(cfg.side_info), container(cfg.link),
              *([options_dict(exp.draws_until)] if exp.draws_until else []),      # the rule changes rows
              *([{"eval_precision": precision["eval"]}] if precision["eval"] != "float32" else [])]
    for name in cfg.get("scheme") or {}:       # a typo in any scheme's options fails now, run or not
        scheme_options(cfg, name)
    runs = []
    for name in scheme_names(cfg, exp):
        with named("experiment.schemes"):
            opts = scheme_options(cfg, name)
            kind = scheme_kind(cfg, name)
        pinned = pinned_design(cfg, name)
        if pinned is not None and not -60 <= pinned <= 100:
            raise OptionError(f"scheme.{name}.design_snr_db must lie in [-60, 100] dB, got {pinned:g}")
        runs.append(SchemeRun(name, kind, opts, config_hash([*common, kind, options_dict(opts)]), pinned))
    known = set(cfg.get("scheme") or {}) | set(SCHEMES)
    for a, b in exp.contrasts:
        unknown = [n for n in (a, b) if n not in known]
        if unknown:
            raise OptionError(f"experiment.contrasts: unknown scheme {unknown[0]!r} in [{a}, {b}]")
        missing = [n for n in (a, b) if n not in {r.name for r in runs}]
        if missing:     # a smaller sweep than the preset's: its contrasts with absent schemes are not tested
            log.info("experiment.contrasts: [%s, %s] is not tested (%s not in experiment.schemes)", a, b,
                     ", ".join(missing))
    return runs
