"""Resumable sweeps: evaluate schemes at (seed, design SNR, bandwidth ratio, SNR) points into a :class:`ResultTable`.

Library entry point behind the Hydra driver (``python -m experiments.sweep``); usable from plain Python too.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
from tqdm.auto import tqdm

from airnet.config.run import DrawRule
from airnet.context import Context
from airnet.delivery.evaluation import AccuracyStats, accuracy_of_vectors, distinct_rows
from airnet.run.statistics import DEGENERATE
from airnet.run.workers import helping
from airnet.schemes import Delivery, Scheme, make_scheme
from airnet.store.results import ResultTable
from airnet.training.loop import TrainSettings
from airnet.training.recipes import Recipes

log = logging.getLogger("airnet")
KEY_COLUMNS = ("scheme", "snr_db", "bandwidth_ratio", "seed", "matched", "design_snr_db", "config_id")


def why_degenerate(d: Delivery, budget: int) -> str:
    """Why a delivery carries (almost) no weights, for the warning."""
    ok = d.info.get("side_info_ok")
    where = d.info.get("side_info_snr_db")
    if not d.info.get("params_sent"):
        if d.side_info_channel_uses or d.channel_uses:
            return f"side information took {d.side_info_channel_uses} of {budget} channel uses"
        return (f"not one weight fits the budget of {budget} channel uses beside its side information"
                + (f" protected for {where:g} dB" if where is not None else ""))
    if ok is not None and float(ok) < 1:
        return (f"its side information, protected for {where:g} dB, failed its CRC in {100 * (1 - float(ok)):.0f} %"
                f" of the draws" if where is not None else "its side information failed its CRC")
    if "block_ok" in d.info:
        return f"only {100 * float(d.info['block_ok']):.0f} % of the payload's code blocks decoded"
    return f"{d.info.get('params_sent')} weights sent"


@dataclass(frozen=True)
class SchemeRun:
    """A scheme to evaluate: its name in the results, its registered ``kind`` (the same unless the config declares
    a variant), typed options, the config id its rows are stored under, and a fixed design SNR (None: the
    sweep's designs)."""

    name: str
    kind: str
    options: Any
    config_id: str
    design_snr_db: float | None = None


@dataclass(frozen=True)
class Point:
    """One row of the sweep. ``design_snr_db`` None means matched (the transmitter designs for ``snr_db``)."""

    seed: int
    design_snr_db: float | None
    bandwidth_ratio: float
    snr_db: float
    run: SchemeRun

    def key(self) -> dict[str, Any]:
        matched = self.design_snr_db is None
        return dict(scheme=self.run.name, snr_db=self.snr_db, bandwidth_ratio=self.bandwidth_ratio, seed=self.seed,
                    matched=matched, design_snr_db=self.snr_db if matched else self.design_snr_db,
                    config_id=self.run.config_id)


def sweep_points(schemes: Sequence[SchemeRun], snr_db: Sequence[float], bandwidth_ratio: Sequence[float],
                 seeds: Sequence[int], design_snr_db: Sequence[float | None]) -> list[Point]:
    """Every point of a sweep, in the order it runs (seed, design, ratio, SNR, scheme; fixed designs last)."""
    points = [Point(seed, design, ratio, snr, run) for seed in seeds for design in design_snr_db
              for ratio in bandwidth_ratio for snr in snr_db for run in schemes if run.design_snr_db is None]
    points += [Point(seed, run.design_snr_db, ratio, snr, run) for seed in seeds for ratio in bandwidth_ratio
               for snr in snr_db for run in schemes if run.design_snr_db is not None]     # one design: its own
    return points


def _clock(seconds: float) -> str:
    """``1h02m03s`` / ``2m03s`` / ``3s``."""
    s = int(round(seconds))
    h, m = s // 3600, s % 3600 // 60
    return f"{h}h{m:02d}m{s % 60:02d}s" if h else f"{m}m{s % 60:02d}s" if m else f"{s}s"


def budget_for(ratio: float, context: Context) -> int:
    """Channel uses for ``ratio`` x the channel uses of sending every weight once (at least 1)."""
    if not ratio > 0:
        raise ValueError(f"bandwidth_ratio must be positive, got {ratio}")
    return max(1, int(math.floor(ratio * context.full_channel_uses)))


@dataclass
class PointResult:
    """A finished point: its CSV ``row``, mean accuracy, and the warning it raises (a degenerate delivery)."""

    row: dict[str, Any]
    mean: float
    warning: str | None = None


class PointRunner:
    """Evaluates sweep points: one scheme per (seed, scheme, ratio) and one :class:`Recipes` per seed, built on
    first use; the sweep and its helper processes (:mod:`airnet.run.workers`) each hold one."""

    def __init__(self, context: Context, settings: TrainSettings, num_realizations: int, columns: dict[str, Any],
                 precision: str = "float32", draws_until: DrawRule | None = None,
                 plan_cache: Path | None = None) -> None:
        self.context, self.settings = context, settings
        self.num_realizations, self.columns, self.precision = num_realizations, columns, precision
        self.draws_until, self.plan_cache = draws_until, plan_cache
        self._recipes: dict[int, Recipes] = {}
        self._built: dict[tuple[int, str, float], Scheme[Any]] = {}

    def with_context(self, context: Context) -> "PointRunner":
        """A runner of the same settings in ``context`` (a dry run's, say), with schemes of its own."""
        return PointRunner(context, self.settings, self.num_realizations, self.columns, self.precision,
                           self.draws_until, self.plan_cache)

    def scheme(self, p: Point) -> Scheme[Any]:
        """The scheme of ``p`` (its seed's context, its ratio's budget)."""
        key = (p.seed, p.run.name, p.bandwidth_ratio)
        if key not in self._built:
            if p.seed not in self._recipes:
                self._recipes[p.seed] = Recipes(self.context.for_seed(p.seed), self.settings)
            r = self._recipes[p.seed]
            self._built[key] = make_scheme(p.run.kind, r.context, r, p.run.options,
                                           budget_for(p.bandwidth_ratio, r.context))
        return self._built[key]

    def evaluate(self, p: Point) -> PointResult:
        """Deliver and score ``p``: its row (key columns, the constant columns, accuracy statistics, the
        scheme's columns, the per-draw accuracies)."""
        scheme = self.scheme(p)
        s = scheme.context
        budget = scheme.budget
        tags = ("eval", p.snr_db, p.bandwidth_ratio) + (() if p.design_snr_db is None   # no scheme: common draws
                                                        else ("design", p.design_snr_db))
        g = s.generator(*tags)
        d = scheme.deliver(p.snr_db, self.num_realizations, g, p.design_snr_db)
        if d.channel_uses > budget:
            raise RuntimeError(f"scheme {p.run.name} used {d.channel_uses} channel uses, budget is {budget}")

        def score(delivery: Delivery) -> torch.Tensor:
            return accuracy_of_vectors(delivery.model, delivery.vectors, s.data.x_test, s.data.y_test,
                                       precision=self.precision, plan_cache=self.plan_cache)

        scores = [score(d)]
        sent = [float((d.vectors != 0).double().sum())]
        scored = [len(distinct_rows(d.vectors)[0])]
        while self.draws_until is not None and not self.draws_until.done(torch.cat(scores).tolist()):
            more = min(sum(len(a) for a in scores), self.draws_until.max - sum(len(a) for a in scores))
            extra = scheme.deliver(p.snr_db, more, g, p.design_snr_db)
            scores.append(score(extra))
            sent.append(float((extra.vectors != 0).double().sum()))
            scored.append(len(distinct_rows(extra.vectors)[0]))
        stats = AccuracyStats.of(torch.cat(scores))
        accs = stats.per_realization
        delivered = sum(sent) / (len(accs) * d.vectors.shape[1])
        warning = None
        if delivered < DEGENERATE:
            warning = (f"{p.run.name} at {p.snr_db:g} dB (ratio {p.bandwidth_ratio:g}, seed {p.seed}) delivers "
                       f"{100 * delivered:.1f} % of the weights: {why_degenerate(d, budget)}")
        row = dict(**p.key(), **self.columns, label=scheme.label(), budget_channel_uses=budget,
                   channel_uses=d.channel_uses, side_info_bits=d.side_info_bits,
                   side_info_channel_uses=d.side_info_channel_uses, num_realizations=len(accs),
                   models_scored=sum(scored),
                   test_size=len(s.data.y_test), acc_mean=round(stats.mean, 6), acc_std=round(stats.std, 6),
                   acc_min=round(min(accs), 6), acc_max=round(max(accs), 6),
                   delivered_fraction=round(delivered, 6), **d.info,
                   acc_draws="/".join(f"{a:.6g}" for a in accs))
        return PointResult(row, stats.mean, warning)


def run_sweep(context: Context, settings: TrainSettings, schemes: Sequence[SchemeRun], snr_db: Sequence[float],
              bandwidth_ratio: Sequence[float], num_realizations: int, table: ResultTable,
              seeds: Sequence[int] = (0,), design_snr_db: Sequence[float | None] = (None,),
              columns: Mapping[str, Any] | None = None, progress: bool = False,
              precision: str = "float32", draws_until: DrawRule | None = None,
              workers: int = 0) -> list[dict[str, Any]]:
    """Evaluate every point not yet in ``table``; write one CSV row per point (per training seed).

    Points run seed by seed, design by design, ratio by ratio, SNR by SNR, scheme by scheme. Each point's channel
    draws come from a generator seeded by (seed, SNR, ratio[, design]), so results do not depend on which points
    were already done, and the schemes of a point draw **common random numbers**: transmissions of the same shape
    (``draws_shape`` in the CSV: the same number of analog reals, or the same digital stream and transport) see the
    same noise and fades, draw by draw, so paired comparisons use paired draws (``acc_draws``: the per-draw
    accuracies, :func:`airnet.run.statistics.compare`).

    Input
    -----
    context : Context
        The data, channel, caches and side link; one per training seed (:meth:`Context.for_seed`).
    settings : TrainSettings
        Training settings of every model recipe (:class:`airnet.training.recipes.Recipes`).
    schemes : sequence of SchemeRun
    snr_db, bandwidth_ratio : sequences of float
    num_realizations : int
        Channel draws per point.
    table : ResultTable
        Keyed by :data:`KEY_COLUMNS`; rewritten after every point.
    seeds : sequence of int
        Training seeds.
    design_snr_db : sequence of float or None
        SNRs the transmitter designs for; None: matched to each ``snr_db``.
    columns : mapping, optional
        Constant descriptive columns (channel, model, data ...), placed after the key columns.
    precision : "float32" | "bfloat16"
        Scoring precision (:func:`airnet.delivery.evaluation.accuracy_of_vectors`).
    draws_until : DrawRule, optional
        Sequential draws: after the first ``num_realizations``, the point draws as many again (continuing its
        generator, so schemes with common draws keep them) until the rule is met; ``num_realizations`` in the CSV
        is the number used.
    workers : int
        Helper processes (:mod:`airnet.run.workers`): forks of the job that take whole schemes' points, training
        included, on idle cores (the same rows, in the same order).

    Output
    ------
    : list of the table's rows that belong to this sweep (finished earlier or now)
    """
    points = sweep_points(schemes, snr_db, bandwidth_ratio, seeds, design_snr_db)
    todo = [p for p in points if not table.has(**p.key())]
    if len(points) > len(todo):
        log.info("skipping %d finished points", len(points) - len(todo))
    # the measured scoring plan (batch size, strategy) is kept beside the trained models: reruns reuse the choice
    plan_cache = context.cache.folder / "scoring-plans.json" if context.cache.folder else None
    runner = PointRunner(context, settings, num_realizations, dict(columns or {}), precision, draws_until, plan_cache)
    table.order_new([p.key() for p in todo])       # rows in sweep order, whichever process finished them first
    start = time.monotonic()
    bar = tqdm(total=len(todo), desc="sweep", disable=not progress)
    finished = 0

    def record(p: Point, result: PointResult, by: str = "") -> None:
        nonlocal finished
        table.add(result.row)
        finished += 1
        bar.update()
        if result.warning:
            log.warning("%s", result.warning)
        if not progress:                  # no bar (not a terminal): one line per point, to the console and the log
            elapsed = time.monotonic() - start
            eta = elapsed / finished * (len(todo) - finished)
            log.info("point %d/%d: %s at %g dB, ratio %g, seed %d: accuracy %.3f (elapsed %s, ETA %s)%s", finished,
                     len(todo), p.run.name, p.snr_db, p.bandwidth_ratio, p.seed, result.mean, _clock(elapsed),
                     _clock(eta), by)

    with helping(runner, todo, workers) as helpers:
        for p in todo:
            if helpers.claim(p):          # this process evaluates the point's scheme (else a worker does)
                record(p, runner.evaluate(p))
            for q, result, by in helpers.ready():
                record(q, result, by)
        for q, result, by in helpers.rest():
            record(q, result, by)
    bar.close()
    return [r for r in (table.get(**p.key()) for p in points) if r is not None]
