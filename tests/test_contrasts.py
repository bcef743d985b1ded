"""Planned contrasts: paired t over seeds equal scipy's, Holm over the family only, detectable sizes, untestable."""
import math

import pytest
from scipy import stats

from airnet.run.contrasts import planned_contrasts


def rows_for(values, snr, scheme, ratio=0.5):
    return [dict(scheme=scheme, seed=s, bandwidth_ratio=ratio, snr_db=snr, matched="True", design_snr_db=snr,
                 acc_mean=v) for s, v in enumerate(values)]


def test_paired_contrast_matches_scipy_and_holm_runs_over_the_family_only():
    b0, b1 = [0.50, 0.61, 0.55, 0.58], [0.70, 0.72, 0.69, 0.75]
    a0 = [x + d for x, d in zip(b0, [0.10, 0.12, 0.08, 0.11])]       # clearly better
    a1 = [x + d for x, d in zip(b1, [0.01, -0.02, 0.03, 0.0])]      # not resolved
    rows = rows_for(a0, 0, "A") + rows_for(b0, 0, "B") + rows_for(a1, 10, "A") + rows_for(b1, 10, "B") \
        + rows_for([0.9] * 4, 0, "C") + rows_for([0.3] * 4, 10, "C")          # not in the family: no effect on it
    res = planned_contrasts(rows, [("A", "B")])
    assert [r.point[1] for r in res] == [0.0, 10.0]
    p = [stats.ttest_rel(a0, b0).pvalue, stats.ttest_rel(a1, b1).pvalue]
    assert [r.p for r in res] == pytest.approx(p, rel=1e-12)
    small, large = sorted(p)
    assert [r.p_holm for r in res] == pytest.approx([min(1, 2 * small), max(min(1, 2 * small), large)], rel=1e-12)
    d = [x - y for x, y in zip(a0, b0)]
    lo, hi = stats.t.interval(0.95, 3, loc=sum(d) / 4, scale=stats.sem(d))
    assert (res[0].low, res[0].high) == pytest.approx((lo, hi), rel=1e-12)
    assert res[0].verdict == "A > B" and res[1].verdict == "not resolved"
    d1 = [x - y for x, y in zip(a1, b1)]
    expected = (stats.t.ppf(1 - 0.05 / 4, 3) + stats.t.ppf(0.8, 3)) * stats.sem(d1)
    assert res[1].detectable == pytest.approx(expected, rel=1e-12)
    assert res[1].describe() == f"not resolved (detectable >= {expected:.3f})"


def test_constant_differences_and_single_seeds_are_untestable_not_ties():
    rows = rows_for([0.1, 0.1, 0.1], 0, "A") + rows_for([0.1, 0.1, 0.1], 0, "B") \
        + rows_for([0.5], 5, "A") + rows_for([0.4], 5, "B")
    res = planned_contrasts(rows, [("A", "B")])
    assert [r.verdict for r in res] == ["untestable", "untestable"]
    assert "every seed" in res[0].describe() and "one seed, no common draws" in res[1].describe()
    assert math.isnan(res[0].p_holm)


def test_unknown_schemes_and_bad_levels_are_named():
    rows = rows_for([0.1, 0.2], 0, "A")
    with pytest.raises(ValueError, match=r"no rows for scheme\(s\) \['Z'\]"):
        planned_contrasts(rows, [("A", "Z")])
    with pytest.raises(ValueError, match="alpha and power"):
        planned_contrasts(rows, [("A", "A")], alpha=1.5)


def test_cli_prints_a_markdown_row_per_contrast_and_point(tmp_path, capsys):
    import csv
    from experiments.contrasts import main
    rows = rows_for([0.6, 0.7, 0.65], 0, "a_x") + rows_for([0.5, 0.52, 0.49], 0, "b_y")
    path = tmp_path / "results.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    main([str(path), "a_x-b_y"])
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("| contrast |") and out[2].startswith("| a_x - b_y | 0.5 | 0 | matched | 3 | seeds | +0.147 |")


def test_one_seed_pairs_common_draws_and_says_so():
    a = rows_for([0.8], 10, "A")
    b = rows_for([0.7], 10, "B")
    a[0].update(acc_draws="0.8/0.82/0.79/0.81", draws_shape="analog 100 reals")
    b[0].update(acc_draws="0.7/0.69/0.72/0.7", draws_shape="analog 100 reals")
    (r,) = planned_contrasts(a + b, [("A", "B")])
    d = [0.1, 0.13, 0.07, 0.11]
    assert r.unit == "draws" and r.seeds == 1 and r.p == pytest.approx(stats.ttest_1samp(d, 0).pvalue, rel=1e-9)


def test_rank_reads_the_runs_declared_contrasts_and_skips_absent_schemes(tmp_path, capsys):
    from experiments.rank import declared_contrasts, report_contrasts
    (tmp_path / ".hydra").mkdir()
    (tmp_path / ".hydra" / "config.yaml").write_text("experiment:\n  contrasts: [[A, B], [A, Z]]\n")
    assert declared_contrasts(tmp_path / "results.csv") == [("A", "B"), ("A", "Z")]
    assert declared_contrasts(tmp_path / "elsewhere" / "results.csv") == []
    rows = rows_for([0.6, 0.7, 0.65], 0, "A") + rows_for([0.5, 0.52, 0.49], 0, "B")
    report_contrasts(rows, declared_contrasts(tmp_path / "results.csv"), 0.05, 0.8)
    out = capsys.readouterr().out
    assert "1 in the family" in out and "skipped (scheme not in the file): A-Z" in out and "| A - B |" in out


def test_schemes_with_their_own_designs_pair_at_each_point_and_huge_detectables_say_so():
    a = rows_for([0.6, 0.7, 0.65], 5, "layered")
    b = rows_for([0.8, 0.2, 0.5], 5, "amc_at_0")
    for r in a:
        r.update(matched="False", design_snr_db=5.0)
    for r in b:
        r.update(matched="False", design_snr_db=0.0)
    (r,) = planned_contrasts(a + b, [("layered", "amc_at_0")])
    assert r.point == (0.5, 5.0, "5 dB vs 0 dB") and r.seeds == 3
    assert r.verdict == "not resolved" and r.detectable > 1
    assert r.describe() == "not resolved (no difference detectable with 3 seeds)"


def test_seeds_needed_matches_the_textbook_paired_t_and_its_power_holds():
    """d = 1 (sd 1, difference 1), two-sided 5 %, 80 % power: the paired t-test needs 10 pairs (G*Power says 10);
    a simulation at the returned n reaches the power, at n - 1 it falls short of the approximation's margin."""
    import numpy as np
    from scipy import stats
    from airnet.run.contrasts import seeds_needed
    assert seeds_needed(1.0, 1.0, tests=1) == 10
    assert seeds_needed(1.0, 0.5, tests=1) == 34          # textbook: 34 for d = 0.5
    assert seeds_needed(0.0, 0.1, tests=5) == 2 and seeds_needed(1.0, 0.01, tests=1) is None
    n = seeds_needed(0.05, 0.05, tests=3)                 # Bonferroni level 0.05 / 3
    rng = np.random.default_rng(0)
    d = rng.normal(0.05, 0.05, size=(20000, n))
    t = d.mean(1) / (d.std(1, ddof=1) / np.sqrt(n))
    power = float((np.abs(t) > stats.t.ppf(1 - 0.05 / 6, n - 1)).mean())
    assert 0.78 < power < 0.9, power


def test_rank_prints_the_power_table_with_seeds_or_says_why_not(tmp_path, capsys):
    import numpy as np
    from experiments.rank import report_contrasts
    rows = []
    for seed, (a, b) in enumerate([(0.90, 0.80), (0.95, 0.82), (0.88, 0.81)]):
        for scheme, acc in (("x", a), ("y", b)):
            rows.append(dict(scheme=scheme, seed=seed, snr_db=0, bandwidth_ratio=1, matched=True, design_snr_db=0,
                             acc_mean=acc, acc_std=0.01, num_realizations=4, test_size=100))
    report_contrasts(rows, [("x", "y")], 0.05, 0.8)
    text = capsys.readouterr().out
    line = next(ln for ln in text.splitlines() if ln.startswith("| x - y | 3 | 1 |"))
    sd = float(np.std([0.10, 0.13, 0.07], ddof=1))
    assert f"{sd:.3f}; {sd:.3f}" in line                    # one point: median and worst are the same sd
    report_contrasts([r for r in rows if r["seed"] == 0], [("x", "y")], 0.05, 0.8)
    text = capsys.readouterr().out
    assert "seed variability is not included" in text and "power table: needs contrasts paired over 2" in text
