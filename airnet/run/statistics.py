"""Confidence intervals and significance for sweep results (one CSV row per training seed).

Estimator: the accuracy of a scheme at a point is the mean over training seeds of the per-seed mean over channel
draws. With several seeds its 95 % interval is a Student-t interval over the per-seed means (seeds as clusters:
both training variability and the draws' noise, which enters each seed's mean, are in it). With one seed it is a
t-interval over the draws and says nothing about training variability; it is labeled so. The test set is the
same for every row, so its sampling error (about ``sqrt(p(1-p)/N)``) is not in either interval: report ``N``.

Two schemes are compared at a point by a paired t-test over seeds (the same seed shares data, teacher and
channel draws' seeds), or Welch's t-test over draws with one seed; p-values are Holm-corrected over all pairs at
that point.
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


def estimate(rows: Sequence[dict[str, Any]], level: float = 0.95) -> Estimate:
    """Aggregate the rows of one point (one per seed: ``acc_mean``, ``acc_std``, ``num_realizations``).

    Input
    -----
    rows : sequence of dict, one per training seed

    Output
    ------
    : Estimate
    """
    if not rows:
        raise ValueError("no rows to estimate from")
    means = [float(r["acc_mean"]) for r in rows]
    draws = sum(int(r["num_realizations"]) for r in rows)
    m = fmean(means)
    q = (1 + level) / 2
    if len(rows) >= 2:
        half = t_quantile(q, len(rows) - 1) * stdev(means) / math.sqrt(len(rows))
        return Estimate(m, m - half, m + half, len(rows), draws, SEEDS_ESTIMATOR)
    k = int(rows[0]["num_realizations"])
    sd = float(rows[0]["acc_std"])
    half = t_quantile(q, k - 1) * sd / math.sqrt(k) if k > 1 else float("inf")
    return Estimate(m, m - half, m + half, 1, draws, DRAWS_ESTIMATOR)


def compare(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]]) -> tuple[float, float, str]:
    """(mean difference a - b, two-sided p-value, test name) for the rows of two schemes at one point."""
    from scipy import stats

    sa = {int(r["seed"]): r for r in a}
    sb = {int(r["seed"]): r for r in b}
    common = sorted(set(sa) & set(sb))
    if len(common) >= 2:
        d = [float(sa[s]["acc_mean"]) - float(sb[s]["acc_mean"]) for s in common]
        sd = stdev(d)
        if sd == 0:
            return fmean(d), (1.0 if fmean(d) == 0 else 0.0), "paired t over seeds"
        t = fmean(d) / (sd / math.sqrt(len(d)))
        return fmean(d), float(2 * stats.t.sf(abs(t), len(d) - 1)), "paired t over seeds"
    ra, rb = a[0], b[0]
    ma, mb = float(ra["acc_mean"]), float(rb["acc_mean"])
    va, vb = float(ra["acc_std"]) ** 2, float(rb["acc_std"]) ** 2
    ka, kb = int(ra["num_realizations"]), int(rb["num_realizations"])
    se2 = va / ka + vb / kb
    if se2 == 0:
        return ma - mb, (1.0 if ma == mb else 0.0), "Welch t over draws"
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
    """One scheme at one point: its estimate, and the schemes it differs from significantly."""

    group: str
    estimate: Estimate
    better_than: tuple[str, ...]
    not_different_from: tuple[str, ...]


def rank(groups: dict[str, Sequence[dict[str, Any]]], alpha: float = 0.05) -> list[Ranked]:
    """Rank the groups (scheme curves) of one point by mean, with Holm-corrected pairwise significance."""
    est = {g: estimate(rows) for g, rows in groups.items()}
    pairs = list(combinations(sorted(groups), 2))
    tests = [compare(groups[a], groups[b]) for a, b in pairs]
    adjusted = holm([p for _, p, _ in tests])
    better: dict[str, list[str]] = {g: [] for g in groups}
    same: dict[str, list[str]] = {g: [] for g in groups}
    for (a, b), (diff, _, _), p in zip(pairs, tests, adjusted):
        if p < alpha:
            better[a if diff > 0 else b].append(b if diff > 0 else a)
        else:
            same[a].append(b)
            same[b].append(a)
    order = sorted(groups, key=lambda g: -est[g].mean)
    return [Ranked(g, est[g], tuple(sorted(better[g], key=order.index)), tuple(sorted(same[g], key=order.index)))
            for g in order]


def group_rows(rows: Iterable[dict[str, Any]], by: Sequence[str]) -> dict[tuple, list[dict[str, Any]]]:
    """Rows grouped by the values of the columns ``by`` (in first-seen order)."""
    out: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(tuple(_val(r[c]) for c in by), []).append(r)
    return out


def curve_label(row: dict[str, Any]) -> str:
    """Legend name of a row's curve: the scheme's label, and its design when not matched."""
    label = row.get("label") or str(row["scheme"]).replace("_", " ")
    matched = str(row.get("matched", "True")) == "True"
    return label if matched else f"{label} (designed for {float(row['design_snr_db']):g} dB)"


def _val(v: Any) -> Any:
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)
