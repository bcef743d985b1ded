"""Planned contrasts: the comparisons a claim rests on, stated before looking, tested as one family.

A contrast ``A - B`` is the paired difference of two schemes' accuracies over training seeds (the unit a claim
generalizes over), at every point (bandwidth ratio, SNR, design) both have; two schemes that each fix their own design (broadcast
variants) are paired at each (ratio, SNR), the design column naming both. With one training seed it pairs the
two schemes' common channel draws instead (``unit="draws"``): that says nothing about seed-to-seed variability. The family is every contrast at every
point; Holm's correction runs over that family only, not over every pair of curves. Each result carries its 95 %
interval and the **detectable difference**: the smallest true difference this design (its seeds and the observed
spread) would find with ``power`` at the family's corrected level. A difference that is not significant is
"not resolved (detectable >= d)", never a tie.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from airnet.run.statistics import common_draws, holm


@dataclass(frozen=True)
class ContrastResult:
    """One planned contrast at one point.

    ``mean``: mean paired difference A - B over ``seeds``; ``low``/``high``: its 95 % t interval; ``p``:
    two-sided paired-t p-value; ``p_holm``: Holm-adjusted over the family; ``detectable``: smallest true
    difference found with the requested power at the Bonferroni level of the family (NaN with under 2 seeds or
    no spread); ``verdict``: ``"A > B"``, ``"B > A"``, ``"not resolved"`` or ``"untestable"`` (a constant
    difference or one seed)."""

    a: str
    b: str
    point: tuple[float, float, str]
    seeds: int
    unit: str                       # "seeds" (paired over training seeds) | "draws" (one seed, common draws)
    mean: float
    low: float
    high: float
    p: float
    p_holm: float
    detectable: float
    verdict: str
    sd: float = math.nan            # sd of the paired differences (over ``unit``), behind the interval

    def describe(self) -> str:
        if self.verdict == "untestable":
            if self.seeds < 2 and self.unit == "seeds":
                return "untestable (one seed, no common draws)"
            return f"untestable (the same difference in every {self.unit[:-1]})"
        if self.verdict == "not resolved":
            if self.detectable >= 1.0:          # no accuracy difference is that large: the design cannot tell
                return f"not resolved (no difference detectable with {self.seeds} {self.unit})"
            return f"not resolved (detectable >= {self.detectable:.3f})"
        return self.verdict


def _design(row: dict[str, Any]) -> str:
    return "matched" if str(row.get("matched", "True")) == "True" else f"{float(row['design_snr_db']):g} dB"


def planned_contrasts(rows: Iterable[dict[str, Any]], contrasts: Sequence[tuple[str, str]], alpha: float = 0.05,
                      power: float = 0.8) -> list[ContrastResult]:
    """Test every contrast ``(A, B)`` at every point where both schemes have rows for two or more common seeds.

    Input
    -----
    rows : iterable of result rows (``scheme``, ``seed``, ``bandwidth_ratio``, ``snr_db``, ``acc_mean``, and
        ``matched`` / ``design_snr_db``)
    contrasts : sequence of (A, B) scheme names, each tested as A - B
    alpha : float
        Family-wise error rate (Holm over all contrasts and points).
    power : float
        For the detectable difference.

    Output
    ------
    : list of :class:`ContrastResult`, in contrast then point order
    """
    from scipy import stats

    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError(f"alpha and power must lie in (0, 1), got alpha={alpha}, power={power}")
    table: dict[tuple[str, tuple[float, float]], dict[str, dict[int, dict[str, Any]]]] = {}
    for r in rows:
        at = (float(r["bandwidth_ratio"]), float(r["snr_db"]))
        table.setdefault((str(r["scheme"]), at), {}).setdefault(_design(r), {})[int(r["seed"])] = r
    known = {s for s, _ in table}
    missing = sorted({n for c in contrasts for n in c} - known)
    if missing:
        raise ValueError(f"no rows for scheme(s) {missing}; the file has {sorted(known)}")
    raw = []
    for a, b in contrasts:
        for at in sorted({p for s, p in table if s == a} & {p for s, p in table if s == b}):
            da, db = table[(a, at)], table[(b, at)]
            pairs = [(d, d, d) for d in sorted(set(da) & set(db))]
            if not pairs and len(da) == 1 and len(db) == 1:     # each designs for its own SNR (broadcast variants)
                (x,), (y,) = da, db
                pairs = [(f"{x} vs {y}", x, y)]
            for label, x, y in pairs:
                sa, sb = da[x], db[y]
                seeds = sorted(set(sa) & set(sb))
                d, unit = [float(sa[s]["acc_mean"]) - float(sb[s]["acc_mean"]) for s in seeds], "seeds"
                if len(seeds) == 1:
                    draws = common_draws(sa[seeds[0]], sb[seeds[0]])
                    if draws is not None:
                        d, unit = [u - v for u, v in zip(*draws)], "draws"
                raw.append((a, b, (*at, label), d, unit, len(seeds)))
    testable = [i for i, (_, _, _, d, _, _) in enumerate(raw) if len(d) >= 2 and _sd(d) > 0]
    adjusted = dict(zip(testable, holm([_paired_p(raw[i][3]) for i in testable])))
    m = max(1, len(testable))
    out = []
    for i, (a, b, point, d, unit, n_seeds) in enumerate(raw):
        n = len(d)
        mean = sum(d) / n if n else math.nan
        if i not in adjusted:
            out.append(ContrastResult(a, b, point, n_seeds, unit, mean, math.nan, math.nan, math.nan, math.nan,
                                      math.nan, "untestable"))
            continue
        se = _sd(d) / math.sqrt(n)
        half = float(stats.t.ppf(0.975, n - 1)) * se
        detectable = (float(stats.t.ppf(1 - alpha / (2 * m), n - 1)) + float(stats.t.ppf(power, n - 1))) * se
        p, ph = _paired_p(d), adjusted[i]
        verdict = "not resolved" if ph >= alpha else (f"{a} > {b}" if mean > 0 else f"{b} > {a}")
        out.append(ContrastResult(a, b, point, n_seeds, unit, mean, mean - half, mean + half, p, ph, detectable,
                                  verdict, _sd(d)))
    return out


def _sd(d: Sequence[float]) -> float:
    if len(d) < 2:
        return 0.0
    mean = sum(d) / len(d)
    return math.sqrt(sum((x - mean) ** 2 for x in d) / (len(d) - 1))


def _paired_p(d: Sequence[float]) -> float:
    from scipy import stats

    n = len(d)
    t = (sum(d) / n) / (_sd(d) / math.sqrt(n))
    return float(2 * stats.t.sf(abs(t), n - 1))


def seeds_needed(sd: float, delta: float, tests: int, alpha: float = 0.05, power: float = 0.8,
                 most: int = 200) -> int | None:
    """Training seeds a paired t-test needs to find a true difference ``delta`` with ``power`` at the Bonferroni
    level ``alpha / tests`` (Holm's first step), given the seed-to-seed sd of the paired difference.

    Input
    -----
    sd : float
        Standard deviation of the per-seed differences (as observed).
    delta : float
        The difference to detect (accuracy units).
    tests : int
        Size of the family.

    Output
    ------
    : int (at least 2), or None when more than ``most`` would be needed
    """
    from scipy import stats

    if not sd > 0:
        return 2
    for n in range(2, most + 1):
        crit = float(stats.t.ppf(1 - alpha / (2 * max(1, tests)), n - 1)) + float(stats.t.ppf(power, n - 1))
        if crit * sd / math.sqrt(n) <= delta:
            return n
    return None


@dataclass(frozen=True)
class PowerRow:
    """Seeds one contrast needs, from the seed-to-seed sd of its paired difference over its points: at the median
    point (``sd``, ``needed``) and at the point that needs the most (``sd_max``, ``needed_max``); ``needed`` maps a
    difference to the seeds that find it (None: more than 200)."""

    a: str
    b: str
    seeds: int
    points: int
    sd: float
    sd_max: float
    needed: dict[float, int | None]
    needed_max: dict[float, int | None]


def power_table(results: Sequence[ContrastResult], deltas: Sequence[float] = (0.02, 0.05, 0.1),
                alpha: float = 0.05, power: float = 0.8) -> list[PowerRow]:
    """Per contrast (paired over seeds), the seeds needed to detect each of ``deltas``, from the spread observed in
    ``results`` at the median and the worst point (contrasts paired over draws, one seed, have no seed spread:
    left out). With 3 seeds the sd itself is uncertain (its 95 % interval spans 0.52x..6.3x): a guide, not a
    guarantee."""
    tests = sum(1 for r in results if r.verdict != "untestable")
    rows = []
    for a, b in dict.fromkeys((r.a, r.b) for r in results):
        mine = [r for r in results if (r.a, r.b) == (a, b) and r.unit == "seeds" and r.seeds >= 2
                and r.verdict != "untestable"]
        if not mine:
            continue
        sds = sorted(r.sd for r in mine)
        sd, sd_max = sds[(len(sds) - 1) // 2], sds[-1]
        rows.append(PowerRow(a, b, max(r.seeds for r in mine), len(mine), sd, sd_max,
                             {d: seeds_needed(sd, d, tests, alpha, power) for d in deltas},
                             {d: seeds_needed(sd_max, d, tests, alpha, power) for d in deltas}))
    return rows
