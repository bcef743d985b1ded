"""Resumable sweeps: evaluate schemes at (SNR, bandwidth ratio) points into a :class:`ResultTable`.

Library entry point behind the Hydra driver (``python -m experiments.sweep``); usable from plain Python too.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from tqdm.auto import tqdm

from airnet.evaluation import AccuracyStats, accuracy_of_vectors
from airnet.results import ResultTable
from airnet.schemes import Scheme, make_scheme
from airnet.setup import Setup

log = logging.getLogger("airnet")
KEY_COLUMNS = ("scheme", "snr_db", "bandwidth_ratio", "config_id")


@dataclass(frozen=True)
class SchemeRun:
    """A scheme to evaluate: its registered name, typed options and the config id its rows are stored under."""

    name: str
    options: Any
    config_id: str


def budget_for(ratio: float, setup: Setup) -> int:
    """Channel uses for ``ratio`` x the channel uses of sending every weight once (at least 1)."""
    if not ratio > 0:
        raise ValueError(f"bandwidth_ratio must be positive, got {ratio}")
    return max(1, int(math.floor(ratio * setup.full_channel_uses)))


def run_sweep(setup: Setup, schemes: Sequence[SchemeRun], snr_db: Sequence[float],
              bandwidth_ratio: Sequence[float], num_realizations: int, table: ResultTable,
              columns: Mapping[str, Any] | None = None, progress: bool = False) -> list[dict[str, Any]]:
    """Evaluate every scheme at every (SNR, ratio) not yet in ``table``; write one CSV row per point.

    Points run ratio by ratio, SNR by SNR, scheme by scheme. Each point's channel draws come from a generator
    seeded by (seed, scheme, SNR, ratio), so results do not depend on which points were already done.

    Input
    -----
    setup : Setup
    schemes : sequence of SchemeRun
    snr_db, bandwidth_ratio : sequences of float
    num_realizations : int
        Channel draws per point.
    table : ResultTable
        Keyed by :data:`KEY_COLUMNS`; rewritten after every point.
    columns : mapping, optional
        Constant descriptive columns (channel, model, data, seed ...), placed after the key columns.

    Output
    ------
    : list of the table's rows that belong to this sweep (finished earlier or now)
    """
    columns = dict(columns or {})
    points = [(run, snr, ratio) for ratio in bandwidth_ratio for snr in snr_db for run in schemes]
    todo = [(run, snr, ratio) for run, snr, ratio in points
            if not table.has(scheme=run.name, snr_db=snr, bandwidth_ratio=ratio, config_id=run.config_id)]
    if len(points) > len(todo):
        log.info("skipping %d finished points", len(points) - len(todo))
    built: dict[tuple[str, float], Scheme] = {}
    for run, snr, ratio in tqdm(todo, desc="sweep", disable=not progress):
        budget = budget_for(ratio, setup)
        if (run.name, ratio) not in built:
            built[(run.name, ratio)] = make_scheme(run.name, setup, run.options, budget)
        d = built[(run.name, ratio)].deliver(snr, num_realizations, setup.generator("eval", run.name, snr, ratio))
        if d.channel_uses > budget:
            raise RuntimeError(f"scheme {run.name} used {d.channel_uses} channel uses, budget is {budget}")
        stats = AccuracyStats.of(accuracy_of_vectors(d.model, d.vectors, setup.data.x_test, setup.data.y_test))
        accs = stats.per_realization
        table.add(dict(scheme=run.name, snr_db=snr, bandwidth_ratio=ratio, config_id=run.config_id, **columns,
                       budget_channel_uses=budget, channel_uses=d.channel_uses, num_realizations=len(accs),
                       acc_mean=round(stats.mean, 6), acc_std=round(stats.std, 6), acc_min=round(min(accs), 6),
                       acc_max=round(max(accs), 6), **d.info))
    wanted = {(run.name, run.config_id) for run in schemes}
    return [r for r in table.rows if (r["scheme"], r["config_id"]) in wanted
            and float(r["snr_db"]) in snr_db and float(r["bandwidth_ratio"]) in bandwidth_ratio]
