"""``plan=true``: a dry run counts points, trainings and draws, estimates the time, and leaves nothing behind."""
import pytest

from conftest import compose

SMALL = ["experiment.snr_db=[0,10]", "experiment.schemes=[clean,noise_injection]", "train.epochs=2",
         "experiment.num_realizations=4", "side_info.mode=free", "progress=false"]


def test_plan_counts_the_work_writes_nothing_and_sees_finished_points(tmp_path, capsys):
    from experiments.sweep import main
    cache, out = tmp_path / "cache", tmp_path / "out"
    assert main(compose(*SMALL, f"cache_dir={cache}", "plan=true"), out) == []
    printed = capsys.readouterr().out
    assert "points: 4 to run (0 already in the results)" in printed
    # clean and noise injection at the one design SNR: 2 trainings of 2 epochs on the training split
    from airnet.zoo.data import load_data
    n_train = len(load_data("digits").y_train)
    assert f"trainings: 2 ({2 * 2 * n_train:,} sample passes)" in printed
    assert "channel draws per point: 4" in printed and "estimated time on this machine:" in printed
    by_scheme = printed.split("trainings by scheme")[1]
    for name in ("clean", "noise_injection"):                # one training of 2 epochs each, where it is first needed
        assert f"{name}" in by_scheme and f"1 trainings {2 * n_train:>14,} sample passes" in by_scheme
    assert not list(cache.glob("*.pt"))                     # the dry pass's untrained models stay in memory
    assert not (out / "results.csv").exists() or (out / "results.csv").read_text().count("\n") <= 1
    rows = main(compose(*SMALL, f"cache_dir={cache}"), out)     # the real run, then the plan again
    assert len(rows) == 4
    main(compose(*SMALL, f"cache_dir={cache}", "plan=true"), out)
    again = capsys.readouterr().out
    assert "points: 0 to run (4 already in the results)" in again and "trainings: 0 (0 sample passes)" in again


def test_plan_of_new_points_counts_only_models_not_in_the_cache(tmp_path, capsys):
    from experiments.sweep import main
    cache = tmp_path / "cache"
    main(compose(*SMALL, f"cache_dir={cache}"), tmp_path / "a")
    capsys.readouterr()
    main(compose(*SMALL[1:], "experiment.snr_db=[5]", f"cache_dir={cache}", "plan=true"), tmp_path / "b")
    printed = capsys.readouterr().out
    assert "points: 2 to run" in printed and "trainings: 0 " in printed   # both models are cached


def test_cli_plan_flag_is_the_plan_override(tmp_path, monkeypatch, capsys):
    from experiments.cli import main
    monkeypatch.chdir(tmp_path)
    main(["sweep", "--plan", *SMALL, f"cache_dir={tmp_path}/cache"])
    printed = capsys.readouterr().out
    assert "points: 4 to run" in printed
    assert (tmp_path / "outputs" / "snr_sweep").is_dir() and not list((tmp_path / "outputs").rglob("*.png"))


def test_the_scoring_rate_is_measured_on_different_models(monkeypatch):
    # equal rows are scored once: a rate from copies of one model would be the rate of one draw, not of each
    from airnet.run.plan import measure_rates
    from conftest import recipes_and_options, train_settings
    from test_airnet_core import scored_rows
    recipes, _ = recipes_and_options()
    scored = scored_rows(monkeypatch)
    rates = measure_rates(recipes.context, train_settings(epochs=1))
    assert scored[-2:] == [2, 2] and rates["score_s_per_draw"] > 0      # both timed calls score both draws


def test_the_scoring_rate_is_measured_in_the_run_precision(monkeypatch):
    # eval_precision=bfloat16 scores at its own plan and speed: the estimate times that, not float32
    import airnet.run.plan as plan
    from conftest import recipes_and_options, train_settings
    recipes, _ = recipes_and_options()
    seen, real = [], plan.accuracy_of_vectors
    monkeypatch.setattr(plan, "accuracy_of_vectors", lambda *a, **k: seen.append(k.get("precision")) or real(*a, **k))
    plan.measure_rates(recipes.context, train_settings(epochs=1), "bfloat16")
    plan.measure_rates(recipes.context, train_settings(epochs=1))
    assert seen == ["bfloat16", "bfloat16", "float32", "float32"]


def test_delivery_is_priced_at_its_marginal_cost_per_draw(monkeypatch):
    # a point's draws share its decoder calls: a delivery costing a + b per draw (plus one-time work on the first
    # call) must be priced at b per draw, not at a + b; a fake clock that each delivery advances checks the sums
    import types
    import airnet.run.plan as plan
    from airnet.run.sweep import SchemeRun
    from conftest import recipes_and_options, train_settings
    clock = [0.0]
    once, fixed, per_draw = 3.0, 0.5, 0.01

    class Priced:
        first = True

        def deliver(self, snr_db, draws, generator, design_snr_db=None):
            clock[0] += fixed + per_draw * draws + (once if self.first else 0.0)
            self.first = False

    monkeypatch.setattr(plan, "time", types.SimpleNamespace(perf_counter=lambda: clock[0]))
    monkeypatch.setattr(plan, "make_scheme", lambda *a, **k: Priced())
    monkeypatch.setattr(plan, "measure_rates", lambda *a: dict(train_s_per_sample=0.0, score_s_per_draw=0.0,
                                                                test_size=1.0))
    recipes, _ = recipes_and_options()
    got = plan.plan_sweep(recipes.context, train_settings(epochs=1), [SchemeRun("clean", "clean", None, "x")],
                          [0.0, 10.0], [1.0], 32)
    assert abs(got.rates["deliver_s_per_draw"] - per_draw) < 1e-9
    # one scheme serves both points: its one-time work once, then each point's call and its 32 draws
    assert abs(got.rates["deliver_s_first"] - (once / 2 + fixed + per_draw)) < 1e-9
    assert abs(got.deliver_s[0] - (once + 2 * (fixed + 32 * per_draw))) < 1e-9


def test_a_training_probe_prices_one_more_epoch_not_the_one_time_work(monkeypatch):
    # a training costing `once` (optimizer, a teacher's logits) + `per_epoch` per epoch, slowed down once by a busy
    # machine: the probe must return per_epoch per sample pass (the fastest 2-epoch run minus the fastest 1-epoch
    # run: one-time work and the slow run drop out), divided by the counted views
    import types
    import torch
    import airnet.training.loop as loop
    clock = [0.0]
    once, per_epoch, views = 2.0, 0.3, 3
    seen = []

    def fake_train(model, x, y, settings, generator, **kwargs):
        seen.append((x.shape[0], settings.epochs, kwargs["mask"] is mask))
        clock[0] += once + per_epoch * settings.epochs + (5.0 if len(seen) == 3 else 0.0)   # the 3rd call: busy

    monkeypatch.setattr(loop, "time", types.SimpleNamespace(perf_counter=lambda: clock[0]))
    monkeypatch.setattr(loop, "train_model", fake_train)
    from conftest import train_settings
    settings = train_settings(epochs=30, batch_size=16)
    x, y = torch.zeros(1000, 4), torch.zeros(1000, dtype=torch.long)
    mask = torch.ones(4, dtype=torch.bool)
    rate = loop.training_probe(torch.nn.Linear(4, 2), x, y, settings, torch.device("cpu"), views, mask=mask)()
    m = loop.PROBE_BATCHES * 16                             # the first few batches, not the whole training set
    assert abs(rate - per_epoch / (m * views)) < 1e-12
    # warm-up, then 1 and 2 epochs, PROBE_REPEATS times, with the same arguments
    assert seen == [(m, 1, True)] + [(m, 1, True), (m, 2, True)] * loop.PROBE_REPEATS


def test_the_plan_prices_each_kind_of_training_at_its_own_rate(monkeypatch, capsys):
    # clean and pruned fine-tunes (mask, channel noise by a transmission plan, KD)
    # are timed apart; every sample pass belongs to one kind, and the estimate is their sum plus the teacher's share
    import airnet.run.plan as plan
    from airnet.run.sweep import SchemeRun
    from conftest import recipes_and_options, train_settings
    recipes, options = recipes_and_options()
    runs = [SchemeRun(name, name, options[name], name) for name in ("clean", "pruning_kd")]
    got = plan.plan_sweep(recipes.context, train_settings(epochs=2), runs, [5.0], [0.5], 2, seeds=(7,))
    assert set(got.kinds) >= {"module", "module: mask, ChannelNoise, KD"}
    assert sum(p for p, _ in got.kinds.values()) == got.sample_passes > 0
    assert all(rate > 0 for _, rate in got.kinds.values())
    expected = (sum(p * r for p, r in got.kinds.values())
                + plan.TEACHER_PASS_SHARE * got.teacher_passes * got.rates["train_s_per_sample"])
    assert abs(got.train_s - expected) < 1e-9 and got.teacher_passes > 0
    assert "module: mask, ChannelNoise, KD" in got.describe()
    # the same passes split by the scheme that needs them first
    assert {k: sum(split.get(k, 0) for split in got.scheme_kinds.values()) for k in got.kinds} == \
        {k: p for k, (p, _) in got.kinds.items()}
    assert sum(got.scheme_kinds["pruning_kd"].values()) == got.by_scheme["pruning_kd"][1]


def test_plan_with_workers_shares_whole_schemes_out():
    from airnet.run.plan import SweepPlan
    # scheme b trains 3x as much as a; each has one unit of two points (1 s of scoring each)
    plan = SweepPlan(points=4, todo=4, trainings=2, sample_passes=400, teacher_passes=0, draws=(4, 4),
                     score_s=(4.0, 4.0), deliver_s=(0.0, 0.0), rates={"train_s_per_sample": 0.01},
                     by_scheme={"a": (1, 100, 0), "b": (1, 300, 0)}, shares={"a": (1, 2), "b": (1, 2)}, workers=1)
    assert plan.total_s == (8.0, 8.0)
    assert plan.unit_s("a") == 3.0 and plan.unit_s("b") == 5.0
    assert plan.wall_s == 5.0                       # not 8 / 2: b is one process's work
    assert SweepPlan(**{**vars(plan), "workers": 0}).wall_s == 8.0


def test_plan_names_its_workers(tmp_path, capsys):
    import sys
    if not sys.platform.startswith("linux"):
        pytest.skip("workers are forks on Linux only")
    from experiments.sweep import main
    main(compose(*SMALL, f"cache_dir={tmp_path}", "plan=true", "workers=1"), tmp_path / "out")
    assert "in one process; with 1 worker(s) about" in capsys.readouterr().out
    main(compose(*SMALL, f"cache_dir={tmp_path}", "plan=true", "workers=0"), tmp_path / "out")
    assert "worker(s) about" not in capsys.readouterr().out
