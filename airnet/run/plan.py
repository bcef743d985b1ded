"""A sweep's plan before it runs (``plan=true``): points, trainings and channel draws, and the run time they add
up to at rates measured on this machine in a few seconds.

The counts come from a dry pass over every point still to do: each scheme is built and delivers a single draw
twice, then five, while :func:`airnet.training.loop.tally_training` counts what training would do (models already
in the cache are loaded and cost nothing; new ones stay untrained and in memory only, never written to the cache).
The rates are measured on the sweep's own model and data: training per sample pass for each kind of training the
dry pass met (a probe trains a copy of the first such model for a few epochs of a few batches: a masked,
quantization-aware or multi-view step costs more than a clean one, most on small models), scoring per draw (with
the measured scoring plan), delivery per point (the first draw, with one-time work such as side information) and
per draw (what five draws cost more than one: the draws of a point share its decoder calls). With workers
(:mod:`airnet.run.workers`) the wall time is estimated too: the work over the processes, but not less than the
largest unit of work (one seed, scheme, ratio and design), which one process does alone.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import torch

from airnet.config.run import DrawRule
from airnet.context import Context
from airnet.delivery.evaluation import accuracy_of_vectors
from airnet.run.sweep import SchemeRun, _clock, budget_for, sweep_points
from airnet.run.workers import unit_of, workers_for
from airnet.schemes import Scheme, make_scheme
from airnet.store.results import ResultTable
from airnet.training.loop import TrainSettings, tally_training, training_probe
from airnet.training.recipes import Recipes
from airnet.zoo.params import model_vector

MARGINAL_DRAWS = 4   # the dry pass's extra draws per point, to price one more draw
# a distillation teacher's forward pass, priced as a share of a training sample pass (forward + backward, the
# backward about twice the forward)
TEACHER_PASS_SHARE = 1 / 3


@dataclass(frozen=True)
class SweepPlan:
    """Counts and estimated seconds of a sweep (only the points not yet in its results)."""

    points: int
    todo: int
    trainings: int
    sample_passes: int
    teacher_passes: int
    draws: tuple[int, int]            # per point: first batch, and the most a sequential rule may take
    score_s: tuple[float, float]
    deliver_s: tuple[float, float]
    rates: dict[str, float]
    # scheme -> (trainings, sample passes, teacher passes) first needed by its points
    by_scheme: dict[str, tuple[int, int, int]]
    # kind of training (airnet.training.loop.training_kind) -> (sample passes, measured seconds per pass)
    kinds: dict[str, tuple[int, float]] = field(default_factory=dict)
    # scheme -> kind -> sample passes (the by_scheme passes split by kind)
    scheme_kinds: dict[str, dict[str, int]] = field(default_factory=dict)
    # the teacher passes if every distilling training computed its teacher's logits anew (before they were kept)
    distilling_samples: int = 0
    # scheme -> (units of work, points) still to run; workers that share the units out (airnet.run.workers)
    shares: dict[str, tuple[int, int]] = field(default_factory=dict)
    workers: int = 0

    def unit_s(self, scheme: str) -> float:
        """Estimated seconds of one unit of ``scheme`` (its trainings at their kinds' rates, its points' scoring and
        delivery at the mean rates, over its units): the smallest share a worker takes."""
        units, points = self.shares.get(scheme, (1, 0))
        clean = self.rates["train_s_per_sample"]
        rate = {kind: r for kind, (_, r) in self.kinds.items()}
        kinds = self.scheme_kinds.get(scheme, {})
        _, passes, teacher = self.by_scheme.get(scheme, (0, 0, 0))
        train = (sum(n * rate.get(k, clean) for k, n in kinds.items()) + (passes - sum(kinds.values())) * clean
                 + TEACHER_PASS_SHARE * teacher * clean)
        per_point = (self.score_s[1] + self.deliver_s[1]) / max(self.todo, 1)
        return (train + points * per_point) / max(units, 1)

    @property
    def wall_s(self) -> float:
        """Estimated wall seconds with :attr:`workers`: the work over ``workers + 1`` processes, but not less than
        the largest unit (each is trained and scored by one process)."""
        largest = max((self.unit_s(name) for name in self.shares), default=0.0)
        return max(self.total_s[1] / (self.workers + 1), largest)

    @property
    def priced_passes(self) -> float:
        """Training work in sample passes: the sample passes plus the teacher passes at ``TEACHER_PASS_SHARE``."""
        return self.sample_passes + TEACHER_PASS_SHARE * self.teacher_passes

    @property
    def train_s(self) -> float:
        """Estimated training seconds: each kind's sample passes at its own measured rate, and the teacher passes
        at ``TEACHER_PASS_SHARE`` of the clean rate (passes of no measured kind at the clean rate)."""
        clean = self.rates["train_s_per_sample"]
        in_kinds = sum(p for p, _ in self.kinds.values())
        return (sum(p * rate for p, rate in self.kinds.values()) + (self.sample_passes - in_kinds) * clean
                + TEACHER_PASS_SHARE * self.teacher_passes * clean)

    @property
    def total_s(self) -> tuple[float, float]:
        return (self.train_s + self.score_s[0] + self.deliver_s[0],
                self.train_s + self.score_s[1] + self.deliver_s[1])

    def describe(self) -> str:
        """The plan as printed by ``plan=true``."""
        def span(v: tuple[float, float]) -> str:
            return _clock(v[0]) if v[0] == v[1] else f"{_clock(v[0])} to {_clock(v[1])}"

        draws = str(self.draws[0]) if self.draws[0] == self.draws[1] else f"{self.draws[0]} to {self.draws[1]}"
        r = self.rates
        return "\n".join([
            f"points: {self.todo} to run ({self.points - self.todo} already in the results)",
            f"trainings: {self.trainings} ({self.sample_passes:,} sample passes)",
            f"channel draws per point: {draws}",
            f"estimated time on this machine: {span(self.total_s)}"
            + (f" in one process; with {self.workers} worker(s) about {_clock(self.wall_s)} on {self.workers + 1} "
               f"cores (whole schemes are shared out: not less than the largest one)" if self.workers else ""),
            f"  training  {_clock(self.train_s):>10}  (each kind at its measured rate below; a distillation "
            f"teacher's {self.teacher_passes:,} passes at a third of the clean "
            f"{1e6 * r['train_s_per_sample']:.1f} us)",
            f"  scoring   {span(self.score_s):>10}  ({1e3 * r['score_s_per_draw']:.1f} ms per draw on "
            f"{int(r['test_size'])} test images)",
            f"  delivery  {span(self.deliver_s):>10}  ({1e3 * r['deliver_s_first']:.1f} ms per point + "
            f"{1e3 * r['deliver_s_per_draw']:.2f} ms per draw, mean over the dry pass)",
            "training by kind (sample passes, and us per pass measured on a copy of the first such model):",
            *(f"  {kind:<44} {passes:>14,} passes  {1e6 * rate:8.1f} us" for kind, (passes, rate) in self.kinds.items()),
            "trainings by scheme (where a model is shared, the scheme that needs it first):",
            *(f"  {name:<28} {calls:>5} trainings {passes:>14,} sample passes"
              for name, (calls, passes, _) in self.by_scheme.items() if calls),
        ])


def plan_sweep(context: Context, settings: TrainSettings, schemes: Sequence[SchemeRun], snr_db: Sequence[float],
               bandwidth_ratio: Sequence[float], num_realizations: int, table: ResultTable | None = None,
               seeds: Sequence[int] = (0,), design_snr_db: Sequence[float | None] = (None,),
               draws_until: DrawRule | None = None, precision: str = "float32", workers: int = 0) -> SweepPlan:
    """Count and time the points of :func:`airnet.run.sweep.run_sweep` (same arguments; ``precision``: the scoring
    precision, and ``workers``, as there) without running them.

    Output
    ------
    : SweepPlan
    """
    points = sweep_points(schemes, snr_db, bandwidth_ratio, seeds, design_snr_db)
    todo = [p for p in points if table is None or not table.has(**p.key())]
    # models already trained are loaded (no training counted); new ones stay untrained, in memory only
    dry = context.dry()
    first: list[float] = []       # one-time work (side-information searches, payloads) + 1 draw
    single: list[float] = []      # 1 draw again, then 1 + MARGINAL_DRAWS: their difference is the cost per draw
    batch: list[float] = []
    by_scheme: dict[str, tuple[int, int, int]] = {}
    scheme_kinds: dict[str, dict[str, int]] = {}
    with tally_training() as tally:
        recipes: dict[int, Recipes] = {}
        built: dict[tuple[int, str, float], Scheme[Any]] = {}
        for p in todo:
            if p.seed not in recipes:
                recipes[p.seed] = Recipes(dry.for_seed(p.seed), settings)
            r = recipes[p.seed]
            key = (p.seed, p.run.name, p.bandwidth_ratio)
            scheme = built.get(key)
            if scheme is None:
                scheme = built[key] = make_scheme(p.run.kind, r.context, r, p.run.options,
                                                  budget_for(p.bandwidth_ratio, r.context))
            g = torch.Generator(device=context.device).manual_seed(0)
            before = (tally.calls, tally.sample_passes, tally.teacher_passes)
            kinds_before = {k: v.sample_passes for k, v in tally.kinds.items()}
            for times, draws_now in ((first, 1), (single, 1), (batch, 1 + MARGINAL_DRAWS)):
                t = time.perf_counter()
                scheme.deliver(p.snr_db, draws_now, g, p.design_snr_db)
                times.append(time.perf_counter() - t)
            calls, passes, teacher = by_scheme.get(p.run.name, (0, 0, 0))
            by_scheme[p.run.name] = (calls + tally.calls - before[0], passes + tally.sample_passes - before[1],
                                     teacher + tally.teacher_passes - before[2])
            split = scheme_kinds.setdefault(p.run.name, {})
            for k, v in tally.kinds.items():
                if v.sample_passes > kinds_before.get(k, 0):
                    split[k] = split.get(k, 0) + v.sample_passes - kinds_before.get(k, 0)
    rates = measure_rates(context, settings, precision)
    kinds = {kind: (k.sample_passes, k.probe()) for kind, k in tally.kinds.items()}
    draws = (num_realizations, max(num_realizations, draws_until.max) if draws_until is not None else num_realizations)
    n = len(todo)
    per_point = sum(first) / max(n, 1)
    # the marginal cost: a point's draws go through the codes and channel as one batch, so one draw alone also
    # pays the per-call costs (decoder set-up, kernel launches) that K draws share
    per_draw = max(0.0, sum(batch) - sum(single)) / max(n * MARGINAL_DRAWS, 1)
    rates.update(deliver_s_first=per_point, deliver_s_per_draw=per_draw)
    unit_sets: dict[str, set[tuple[Any, ...]]] = {}
    counts: dict[str, int] = {}
    for p in todo:
        unit_sets.setdefault(p.run.name, set()).add(unit_of(p))
        counts[p.run.name] = counts.get(p.run.name, 0) + 1
    shares = {name: (len(u), counts[name]) for name, u in unit_sets.items()}
    return SweepPlan(len(points), n, tally.calls, tally.sample_passes, tally.teacher_passes, draws,
                     score_s=(n * draws[0] * rates["score_s_per_draw"], n * draws[1] * rates["score_s_per_draw"]),
                     deliver_s=(n * (per_point + (draws[0] - 1) * per_draw), n * (per_point + (draws[1] - 1) * per_draw)),
                     rates=rates, by_scheme=by_scheme, kinds=kinds, scheme_kinds=scheme_kinds,
                     distilling_samples=tally.distilling_samples, shares=shares,
                     workers=workers_for(context, todo, workers)[0])     # the workers the sweep would start


def measure_rates(context: Context, settings: TrainSettings, precision: str = "float32") -> dict[str, float]:
    """Seconds per clean-training sample pass (:func:`airnet.training.loop.training_probe`: a few epochs of a few
    batches, in ``settings.precision``) and per scored draw (two draws on the whole test set, with the measured
    scoring plan, in ``precision``) for the context's model and data."""
    data = context.data
    model = context.new_model()
    g = torch.Generator(device=context.device).manual_seed(0)
    train_rate = training_probe(model, data.x_train, data.y_train, settings, context.device)()
    w = model_vector(model)
    # two different received models (equal rows would be scored once: the rate of one draw, not two)
    vecs = w + 1e-3 * torch.randn(2, w.numel(), generator=g, device=w.device)
    accuracy_of_vectors(model, vecs, data.x_test, data.y_test, precision=precision)   # measures the plan once
    t = time.perf_counter()
    accuracy_of_vectors(model, vecs, data.x_test, data.y_test, precision=precision)
    score_rate = (time.perf_counter() - t) / 2
    return dict(train_s_per_sample=train_rate, score_s_per_draw=score_rate, test_size=float(len(data.y_test)))


__all__ = ["SweepPlan", "plan_sweep", "measure_rates", "TEACHER_PASS_SHARE"]
