"""Confidence intervals over seeds and draws, significance, and the ranking command."""
import random
import subprocess
import sys
from pathlib import Path

import pytest

from airnet.run.statistics import (DRAWS_ESTIMATOR, SEEDS_ESTIMATOR, UNTESTABLE, compare, estimate, holm, rank,
                                   t_quantile)

ROOT = Path(__file__).resolve().parents[1]


def rows_for(seeds: int, draws: int, rng: random.Random, mean: float = 0.7, between: float = 0.03,
             within: float = 0.1, scheme: str = "a") -> list[dict]:
    """Per-seed rows: each seed's model has its own accuracy (between-seed sd), draws scatter around it."""
    out = []
    for s in range(seeds):
        mu = rng.gauss(mean, between)
        accs = [rng.gauss(mu, within) for _ in range(draws)]
        m = sum(accs) / draws
        sd = (sum((a - m) ** 2 for a in accs) / (draws - 1)) ** 0.5
        out.append(dict(scheme=scheme, seed=s, acc_mean=m, acc_std=sd, num_realizations=draws))
    return out


def mean_width(seeds: int, draws: int, trials: int = 200) -> float:
    rng = random.Random(seeds * 1000 + draws)
    return sum((e.high - e.low) / 2 for e in (estimate(rows_for(seeds, draws, rng)) for _ in range(trials))) / trials


def test_t_quantiles_from_the_table():
    # two-sided 95 %: 12.706 (1 dof), 4.303 (2), 2.040 (31); the normal 1.960 in the limit
    assert [round(t_quantile(0.975, d), 3) for d in (1, 2, 31, 10 ** 7)] == [12.706, 4.303, 2.04, 1.96]


def test_confidence_band_narrows_as_seeds_and_draws_grow():
    assert mean_width(3, 16) > mean_width(8, 16) > mean_width(32, 16)          # more seeds
    assert mean_width(5, 4) > mean_width(5, 64)                                # more draws (within-seed noise)
    assert mean_width(1, 16) > mean_width(1, 256)                              # one seed: draws only


def test_interval_covers_the_true_mean_about_95_percent():
    rng = random.Random(7)
    covered = 0
    for _ in range(600):
        e = estimate(rows_for(5, 32, rng))
        covered += e.low <= 0.7 <= e.high
    assert 0.92 <= covered / 600 <= 0.98


def test_estimator_is_named():
    rng = random.Random(0)
    assert estimate(rows_for(3, 8, rng)).estimator == SEEDS_ESTIMATOR
    assert estimate(rows_for(1, 8, rng)).estimator == DRAWS_ESTIMATOR


def test_paired_test_finds_a_real_difference_and_not_a_fake_one():
    rng = random.Random(1)
    a = rows_for(6, 32, rng, mean=0.80, scheme="a")
    b = [dict(r, scheme="b", acc_mean=r["acc_mean"] - 0.05 + rng.gauss(0, 0.005)) for r in a]   # 5 points worse
    c = [dict(r, scheme="c", acc_mean=r["acc_mean"] + rng.gauss(0, 0.01)) for r in a]
    assert compare(a, b)[1] < 0.001
    assert compare(a, c)[1] > 0.05
    ranked = rank({"a": a, "b": b, "c": c})
    top = {r.group: r for r in ranked}
    assert ranked[-1].group == "b" and "b" in top["a"].better_than and "c" in top["a"].not_different_from


def test_holm_by_hand():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


def test_rank_command_prints_each_point(tmp_path):
    import csv
    rng = random.Random(3)
    path = tmp_path / "results.csv"
    rows = []
    for snr in (0.0, 10.0):
        for scheme, mean in (("clean", 0.4 + snr / 50), ("noise_injection", 0.8 - snr / 50)):
            for r in rows_for(5, 16, rng, mean=mean, scheme=scheme):
                rows.append(dict(r, snr_db=snr, bandwidth_ratio=1.0, matched="True", design_snr_db=snr,
                                 test_size=359, label=scheme.replace("_", " ")))
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    out = subprocess.run([sys.executable, "-m", "experiments.rank", str(path), "--all-pairs",
                          "--contrast", "noise_injection-clean"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("bandwidth ratio 1, SNR") == 2
    first = out.stdout.split("SNR 0 dB")[1].splitlines()[1]
    assert "noise injection" in first and "> clean" in first
    assert "planned contrasts (1 in the family" in out.stdout
    assert "| noise_injection - clean | 1 | 0 | matched | 5 | seeds | +0.4" in out.stdout


def test_a_constant_difference_is_untestable_not_significant():
    """Two schemes stuck at different constant outputs: the same difference in every seed has no variance, so it
    gets no p-value (it used to be p = 0, 'significant' by construction) and sits outside the Holm family."""
    import math
    a = [dict(scheme="a", seed=s, acc_mean=0.30, acc_std=0.0, num_realizations=8) for s in range(3)]
    b = [dict(r, scheme="b", acc_mean=0.10) for r in a]
    diff, p, test = compare(a, b)
    assert diff == pytest.approx(0.2) and math.isnan(p) and test.startswith(UNTESTABLE)
    assert compare(a, [dict(r) for r in a])[1:] == (1.0, "identical seeds")
    ranked = {r.group: r for r in rank({"a": a, "b": b})}
    assert ranked["a"].constant_vs == ("b",) and not ranked["a"].better_than and not ranked["a"].not_different_from
    one_a, one_b = [dict(a[0])], [dict(b[0])]                             # one seed, no spread over draws
    assert math.isnan(compare(one_a, one_b)[1])


def test_one_seed_with_common_draws_is_paired_over_the_draws():
    """The same channel draws for both schemes (common random numbers): the paired test over draws sees a small
    consistent gain that Welch's test over independent-looking samples cannot."""
    rng = random.Random(3)
    base = [rng.uniform(0.5, 0.9) for _ in range(32)]                        # draw-to-draw spread: the channel
    gain = [x + 0.02 + rng.gauss(0, 0.005) for x in base]

    def row(scheme, accs, shape="analog 6090 reals"):
        m = sum(accs) / len(accs)
        sd = (sum((x - m) ** 2 for x in accs) / (len(accs) - 1)) ** 0.5
        return dict(scheme=scheme, seed=0, acc_mean=m, acc_std=sd, num_realizations=len(accs),
                    acc_draws="/".join(f"{x:.6g}" for x in accs), draws_shape=shape)

    paired = compare([row("b", gain)], [row("a", base)])
    welch = compare([row("b", gain, "analog 100 reals")], [row("a", base)])   # other shapes: draws not common
    assert paired[2] == "paired t over common draws" and paired[1] < 1e-6
    assert welch[2] == "Welch t over draws" and welch[1] > 0.3


def test_intervals_stay_in_the_unit_interval_and_cover_near_one():
    """Per-seed accuracies near 1 (seed-level accuracies ~ Beta around 0.99, each measured on 359 images): the
    logit-scale interval never leaves [0, 1] and covers about 95 % (the plain t-interval ran past 1.0)."""
    import numpy as np
    rng = np.random.default_rng(0)
    covered, trials = 0, 3000
    for _ in range(trials):
        p = rng.beta(0.99 * 300, 0.01 * 300, 3)
        acc = rng.binomial(359, p) / 359
        e = estimate([dict(acc_mean=a, acc_std=0.0, num_realizations=32, test_size=359) for a in acc])
        assert 0.0 <= e.low <= e.mean <= e.high <= 1.0
        covered += e.low <= 0.99 <= e.high
    assert 0.93 <= covered / trials <= 0.97
    ones = estimate([dict(acc_mean=1.0, acc_std=0.0, num_realizations=32, test_size=359)] * 2
                    + [dict(acc_mean=0.9972, acc_std=0.0, num_realizations=32, test_size=359)])
    assert ones.high <= 1.0 and ones.low < ones.mean


def test_the_test_set_error_option_covers_a_shared_test_set():
    """Seeds share one test set: its sampling error is common to all seeds, so only ``test_error`` covers the
    population accuracy."""
    import numpy as np
    from airnet.run.statistics import TEST_ERROR
    rng = np.random.default_rng(1)
    hits = {False: 0, True: 0}
    trials = 2000
    for _ in range(trials):
        offset = rng.normal(0, (0.9 * 0.1 / 359) ** 0.5)              # this test set's luck, shared by the seeds
        acc = 0.9 + offset + rng.normal(0, 0.004, 5)
        rows = [dict(acc_mean=a, acc_std=0.0, num_realizations=32, test_size=359) for a in acc]
        for flag in hits:
            e = estimate(rows, test_error=flag)
            hits[flag] += e.low <= 0.9 <= e.high
    assert hits[False] / trials < 0.8 and 0.93 <= hits[True] / trials <= 0.995
    assert estimate(rows, test_error=True).estimator.endswith(TEST_ERROR)


def test_the_sequential_rule_stops_at_its_half_width_or_its_maximum():
    from airnet.config.run import DrawRule
    rule = DrawRule(half_width=0.02, max=64)
    rng = random.Random(0)
    wide = [rng.gauss(0.7, 0.2) for _ in range(16)]
    assert not rule.done(wide) and rule.done([0.7] * 16) and rule.done(wide * 4)      # 64 draws: the maximum
    narrow = [rng.gauss(0.7, 0.02) for _ in range(16)]
    half = t_quantile(0.975, 15) * (sum((a - sum(narrow) / 16) ** 2 for a in narrow) / 15) ** 0.5 / 4
    assert rule.done(narrow) == (half <= 0.02)
    with pytest.raises(ValueError, match="half_width"):
        DrawRule(half_width=0.0, max=64)


def test_sequential_draws_add_batches_until_the_rule_holds(tmp_path):
    from experiments.sweep import main
    from conftest import compose
    common = ("model=mlp", "train.epochs=2", "experiment.snr_db=[-5,30]", "experiment.num_realizations=8",
              "experiment.schemes=[noise_injection]", f"cache_dir={tmp_path}/cache", "progress=false")
    fixed = main(compose(*common), tmp_path / "fixed")
    rows = main(compose(*common, "experiment.draws_until={half_width: 0.004, max: 64}"), tmp_path / "rule")
    used = {float(r["snr_db"]): int(r["num_realizations"]) for r in rows}
    assert used[-5.0] > 8 and used[-5.0] in (16, 32, 64)          # noisy: more draws
    assert all(len(r["acc_draws"].split("/")) == used[float(r["snr_db"])] for r in rows)
    first = {float(r["snr_db"]): r["acc_draws"].split("/")[:8] for r in rows}
    assert first == {float(r["snr_db"]): r["acc_draws"].split("/") for r in fixed}   # the first batch is the same
