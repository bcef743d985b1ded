"""Confidence intervals and significance for sweep results (one CSV row per training seed).

Estimator: the accuracy of a scheme at a point is the mean over training seeds of the per-seed mean over channel
draws. With several seeds its 95 % interval is a Student-t interval over the per-seed means (seeds as clusters:
both training variability and the draws' noise, which enters each seed's mean, are in it). With one seed it is a
t-interval over the draws and says nothing about training variability; it is labeled so. Both are computed on the
logit scale and mapped back, so they stay inside [0, 1] (accuracies of exactly 0 or 1 are moved half an image in
from the edge first); near 0.5 they equal the plain t-interval. The test set is the same for every row, so its
sampling error (binomial, about ``sqrt(p(1-p)/N)`` for ``N`` images) is in neither unless ``test_error`` adds it
(figures do; the caption says which).

Two schemes are compared at a point by a paired t-test over seeds (the same seed shares data, teacher and, for
transmissions of the same shape, the channel draws themselves: common random numbers, :func:`airnet.run.sweep.
run_sweep`). With one seed, by a paired t-test over the common draws when both rows carry per-draw accuracies
(``acc_draws``) of the same ``draws_shape``, else Welch's t-test over draws. A difference that is the same for
every seed (or draw) has no variance to test against: it is reported as such (``p`` is NaN, "untestable"), never
as p = 0. p-values are Holm-corrected over the testable pairs at that point.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations
from statistics import fmean, stdev
from typing import Any, Iterable, Sequence

DEGENERATE = 0.1   # a point whose receivers get under this share of the weights is degenerate (warned, plotted hollow)
SEEDS_ESTIMATOR = "95% t-interval over training seeds (per-seed means over channel draws)"
DRAWS_ESTIMATOR = "95% t-interval over channel draws (one seed: training variability not included)"
TEST_ERROR = " + test-set sampling (binomial)"


@dataclass(frozen=True)
class Estimate:
    """Mean accuracy and its 95 % interval; ``seeds`` rows with ``draws`` channel draws in all."""

    mean: float
    low: float
    high: float
    seeds: int
    draws: int
    estimator: str


def t_quantile(p: float, dof: int) -> float:
    """Quantile of Student's t with ``dof`` degrees of freedom (``scipy.stats.t.ppf``'s own kernel, without the
    0.6 s import of ``scipy.stats``)."""
    from scipy import special

    return float(special.stdtrit(dof, p))


def estimate(rows: Sequence[dict[str, Any]], level: float = 0.95, test_error: bool = False) -> Estimate:
    """Aggregate the rows of one point (one per seed: ``acc_mean``, ``acc_std``, ``num_realizations``, and
    ``test_size`` for the edge correction and ``test_error``).

    Input
    -----
    rows : sequence of dict, one per training seed
    level : float
    test_error : bool
        Add the test set's binomial sampling variance ``p(1-p)/N`` to the interval.

    Output
    ------
    : Estimate (``low`` and ``high`` inside [0, 1])
    """
    if not rows:
        raise ValueError("no rows to estimate from")
    means = [float(r["acc_mean"]) for r in rows]
    draws = sum(int(r["num_realizations"]) for r in rows)
    m = fmean(means)
    n_test = int(float(rows[0].get("test_size") or 0))
    edge = 0.5 / n_test if n_test > 0 else 1e-4            # half an image in from 0 and 1

    def clamp(p: float) -> float:
        return min(max(p, edge), 1.0 - edge)

    def logit(p: float) -> float:
        p = clamp(p)
        return math.log(p / (1.0 - p))

    q = (1 + level) / 2
    mc = clamp(m)
    if len(rows) >= 2:
        z = [logit(v) for v in means]
        var, dof, estimator = stdev(z) ** 2 / len(rows), len(rows) - 1, SEEDS_ESTIMATOR
    else:
        k = int(rows[0]["num_realizations"])
        se = float(rows[0]["acc_std"]) / math.sqrt(k) if k > 1 else float("inf")
        var, dof, estimator = (se / (mc * (1 - mc))) ** 2, max(k - 1, 1), DRAWS_ESTIMATOR
    if test_error and n_test > 0:
        var += 1.0 / (n_test * mc * (1 - mc))              # binomial variance on the logit scale (delta method)
        estimator += TEST_ERROR
    half = t_quantile(q, dof) * math.sqrt(var)
    if not math.isfinite(half):
        return Estimate(m, 0.0, 1.0, len(rows), draws, estimator)
    centre = logit(m)
    low, high = (1 / (1 + math.exp(-(centre - half))), 1 / (1 + math.exp(-(centre + half))))
    if half == 0:
        low = high = m
    return Estimate(m, min(low, m), max(high, m), len(rows), draws, estimator)


UNTESTABLE = "constant difference: untestable"


def _paired(d: Sequence[float], name: str) -> tuple[float, float, str]:
    """Paired t-test of the differences ``d``; a constant difference is untestable (NaN), equality is p = 1."""
    from scipy import stats

    m, sd = fmean(d), stdev(d)
    if sd == 0:
        return (m, 1.0, f"identical {name}") if m == 0 else (m, math.nan, f"{UNTESTABLE} ({name})")
    t = m / (sd / math.sqrt(len(d)))
    return m, float(2 * stats.t.sf(abs(t), len(d) - 1)), f"paired t over {name}"


def common_draws(ra: dict[str, Any], rb: dict[str, Any]) -> tuple[list[float], list[float]] | None:
    """The per-draw accuracies of two rows when their draws are common (same ``draws_shape`` and count), else None."""
    da, db = str(ra.get("acc_draws") or ""), str(rb.get("acc_draws") or "")
    shape_a, shape_b = ra.get("draws_shape") or None, rb.get("draws_shape") or None
    if not da or not db or shape_a is None or shape_a != shape_b:
        return None
    xa, xb = [float(v) for v in da.split("/")], [float(v) for v in db.split("/")]
    return (xa, xb) if len(xa) == len(xb) >= 2 else None


def compare(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]]) -> tuple[float, float, str]:
    """(mean difference a - b, two-sided p-value, test name) for the rows of two schemes at one point.

    The p-value is NaN when the difference is the same for every seed (or draw): there is no variance to test it
    against (:data:`UNTESTABLE`), which is not significance.
    """
    from scipy import stats

    sa = {int(r["seed"]): r for r in a}
    sb = {int(r["seed"]): r for r in b}
    common = sorted(set(sa) & set(sb))
    if len(common) >= 2:
        return _paired([float(sa[s]["acc_mean"]) - float(sb[s]["acc_mean"]) for s in common], "seeds")
    ra, rb = a[0], b[0]
    draws = common_draws(ra, rb)
    if draws is not None:
        return _paired([x - y for x, y in zip(*draws)], "common draws")
    ma, mb = float(ra["acc_mean"]), float(rb["acc_mean"])
    va, vb = float(ra["acc_std"]) ** 2, float(rb["acc_std"]) ** 2
    ka, kb = int(ra["num_realizations"]), int(rb["num_realizations"])
    se2 = va / ka + vb / kb
    if se2 == 0:
        return (ma - mb, 1.0, "identical draws") if ma == mb else (ma - mb, math.nan, f"{UNTESTABLE} (draws)")
    dof = se2 ** 2 / ((va / ka) ** 2 / max(ka - 1, 1) + (vb / kb) ** 2 / max(kb - 1, 1))
    t = (ma - mb) / math.sqrt(se2)
    return ma - mb, float(2 * stats.t.sf(abs(t), dof)), "Welch t over draws"


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (same order as given)."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


@dataclass(frozen=True)
class Ranked:
    """One scheme at one point: its estimate, the schemes it differs from significantly, those it cannot be told
    apart from, and those it differs from by the same amount in every seed (or draw): untestable, not a tie."""

    group: str
    estimate: Estimate
    better_than: tuple[str, ...]
    not_different_from: tuple[str, ...]
    constant_vs: tuple[str, ...] = ()


def rank(groups: dict[str, Sequence[dict[str, Any]]], alpha: float = 0.05) -> list[Ranked]:
    """Rank the groups (scheme curves) of one point by mean, with Holm-corrected pairwise significance over the
    testable pairs (a constant difference has no p-value and is listed apart)."""
    est = {g: estimate(rows) for g, rows in groups.items()}
    pairs = list(combinations(sorted(groups), 2))
    tests = [compare(groups[a], groups[b]) for a, b in pairs]
    testable = [i for i, (_, p, _) in enumerate(tests) if not math.isnan(p)]
    adjusted = dict(zip(testable, holm([tests[i][1] for i in testable])))
    better: dict[str, list[str]] = {g: [] for g in groups}
    same: dict[str, list[str]] = {g: [] for g in groups}
    constant: dict[str, list[str]] = {g: [] for g in groups}
    for i, ((a, b), (diff, _, _)) in enumerate(zip(pairs, tests)):
        if i not in adjusted:
            constant[a].append(b)
            constant[b].append(a)
        elif adjusted[i] < alpha:
            better[a if diff > 0 else b].append(b if diff > 0 else a)
        else:
            same[a].append(b)
            same[b].append(a)
    order = sorted(groups, key=lambda g: -est[g].mean)
    return [Ranked(g, est[g], *(tuple(sorted(x[g], key=order.index)) for x in (better, same, constant)))
            for g in order]


def group_rows(rows: Iterable[dict[str, Any]], by: Sequence[str]) -> dict[tuple, list[dict[str, Any]]]:
    """Rows grouped by the values of the columns ``by`` (in first-seen order)."""
    out: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(tuple(_val(r[c]) for c in by), []).append(r)
    return out


def curve_label(row: dict[str, Any]) -> str:
    """Legend name of a row's curve: the scheme's label, and its design when not matched (unless the row carries
    its own ``designs``, as layered broadcast does: its label names them)."""
    label = row.get("label") or str(row["scheme"]).replace("_", " ")
    matched = str(row.get("matched", "True")) == "True"
    return label if matched or row.get("designs") else f"{label} (designed for {float(row['design_snr_db']):g} dB)"


def _val(v: Any) -> Any:
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)
