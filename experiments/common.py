"""Shared Hydra-driver code: read the config at the edge, build plain objects, run resumable sweep points."""
from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, ListConfig, OmegaConf
from tqdm.auto import tqdm

from channels import make_channel
from airnet.data import load_data
from airnet.evaluation import AccuracyStats, accuracy_of_vectors
from airnet.io import config_hash
from airnet.results import ResultTable
from airnet.schemes import Setup, make_scheme
from airnet.training import TrainSettings

log = logging.getLogger("airnet")
KEY_COLUMNS = ("scheme", "snr_db", "bandwidth_ratio", "config_id")


def value_list(spec: Any, name: str) -> list[float]:
    """Expand ``{start, stop, step}`` (inclusive) or a list/number into a list of floats."""
    if isinstance(spec, (DictConfig, dict)):
        start, stop, step = (float(spec[k]) for k in ("start", "stop", "step"))
        if not step > 0 or stop < start:
            raise ValueError(f"{name} range needs step > 0 and stop >= start, got {dict(spec)}")
        n = int(math.floor((stop - start) / step + 1e-9)) + 1
        values = [round(start + i * step, 10) for i in range(n)]
    elif isinstance(spec, (ListConfig, list, tuple)):
        values = [float(v) for v in spec]
    else:
        values = [float(spec)]
    bad = [v for v in values if not math.isfinite(v)]
    if bad or not values:
        raise ValueError(f"{name} must be finite numbers, got {values}")
    return values


def build_setup(cfg: DictConfig) -> Setup:
    """Plain-object Setup from the Hydra config (the only place the config is read)."""
    channel_cfg = OmegaConf.to_container(cfg.channel, resolve=True)
    channel = make_channel(**channel_cfg)
    data = load_data(cfg.data.name, cfg.data.root, seed=cfg.seed, val_fraction=cfg.data.val_fraction)
    t = cfg.train
    settings = TrainSettings(epochs=int(t.epochs), batch_size=int(t.batch_size), lr=float(t.lr),
                             weight_decay=float(t.weight_decay))
    options = {k: v for k, v in OmegaConf.to_container(t, resolve=True).items() if isinstance(v, dict)}
    if cfg.get("baseline"):
        options.update({k: v for k, v in OmegaConf.to_container(cfg.baseline, resolve=True).items()
                        if isinstance(v, dict)})
    cache = Path(cfg.cache_dir).expanduser() if cfg.get("cache_dir") else None
    return Setup(data=data, model_name=cfg.model.name, model_kwargs=dict(OmegaConf.to_container(cfg.model.kwargs)),
                 channel=channel, channel_cfg=channel_cfg, settings=settings, seed=int(cfg.seed),
                 num_realizations=int(cfg.experiment.num_realizations), cache_dir=cache, options=options,
                 progress=bool(cfg.get("progress", True)))


def config_id(cfg: DictConfig) -> str:
    """Hash of everything that changes a result except the sweep axes themselves."""
    c = OmegaConf.to_container(cfg, resolve=True)
    exp = {k: v for k, v in c["experiment"].items() if k not in ("snr_db", "bandwidth_ratio", "schemes", "name")}
    return config_hash([c["channel"], c["model"], c["data"], c["train"], c["seed"], c.get("baseline"), exp])


def scheme_names(cfg: DictConfig) -> list[str]:
    """AirNet schemes of the experiment followed by the selected digital baselines (no duplicates)."""
    names = list(cfg.experiment.schemes) + list((cfg.get("baseline") or {}).get("schemes", []) or [])
    return list(dict.fromkeys(names))


def output_dir() -> Path:
    """The Hydra job's output folder (deterministic per overrides, so reruns resume)."""
    return Path(HydraConfig.get().runtime.output_dir)


def run_points(cfg: DictConfig, setup: Setup, points: list[tuple[float, float]], schemes: list[str],
               table: ResultTable) -> None:
    """Evaluate every (snr_db, bandwidth_ratio) x scheme not yet in ``table``; one CSV write per point."""
    cid = config_id(cfg)
    todo = [(s, snr, ratio) for snr, ratio in points for s in schemes
            if not table.has(scheme=s, snr_db=snr, bandwidth_ratio=ratio, config_id=cid)]
    done = len(points) * len(schemes) - len(todo)
    if done:
        log.info("skipping %d finished points", done)
    built: dict[tuple[str, float], Any] = {}
    for name, snr, ratio in tqdm(todo, desc="sweep", disable=not cfg.get("progress", True)):
        if ratio <= 0:
            raise ValueError(f"bandwidth_ratio must be positive, got {ratio}")
        budget = max(1, int(math.floor(ratio * setup.full_channel_uses)))
        if (name, ratio) not in built:
            built[(name, ratio)] = make_scheme(name, setup, budget)
        scheme = built[(name, ratio)]
        g = setup.generator("eval", name, snr, ratio)
        d = scheme.deliver(snr, setup.num_realizations, g)
        if d.channel_uses > budget:
            raise RuntimeError(f"scheme {name} used {d.channel_uses} channel uses, budget is {budget}")
        stats = AccuracyStats.of(accuracy_of_vectors(d.model, d.vectors, setup.data.x_test, setup.data.y_test))
        accs = np.asarray(stats.per_realization)
        table.add(dict(scheme=name, snr_db=snr, bandwidth_ratio=ratio, config_id=cid,
                       channel=cfg.channel.name, model=cfg.model.name, data=cfg.data.name, seed=cfg.seed,
                       budget_channel_uses=budget, channel_uses=d.channel_uses,
                       num_realizations=len(accs), acc_mean=round(stats.mean, 6), acc_std=round(stats.std, 6),
                       acc_min=round(float(accs.min()), 6), acc_max=round(float(accs.max()), 6),
                       **{k: v for k, v in d.info.items()}))
