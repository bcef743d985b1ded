"""bfloat16 training (autocast) and scoring: what runs in which dtype, the cache keys, the config edge."""
import copy

import pytest
import torch

from airnet.training.loop import View, train_model
from airnet.zoo.models import build_model
from tests.conftest import recipes_and_options, train_settings


def _conv_dtypes(model):
    seen = []
    conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    conv.register_forward_hook(lambda mod, inp, out: seen.append(out.dtype))
    return seen


@pytest.mark.parametrize("path", ["module", "flat vector"])
def test_bfloat16_training_runs_the_forward_in_bfloat16_and_keeps_float32_weights(digits, path):
    """Under ``precision=bfloat16`` the convolutions compute in bfloat16 on both training paths (the module's own
    forward, and the functional call on the flat vector that nested views take); parameters, gradients and the
    optimizer stay float32; the losses are close to float32's and not equal to them."""
    from airnet.training.noise import ChannelNoise
    from channels import make_channel

    torch.manual_seed(0)
    start = build_model("cnn", digits.input_shape, 10)
    x, y = digits.x_train[:256], digits.y_train[:256]
    losses, dtypes = {}, {}
    for precision in ("float32", "bfloat16"):
        model = copy.deepcopy(start)
        seen = _conv_dtypes(model)
        g = torch.Generator().manual_seed(0)
        views = None
        if path == "flat vector":
            n = sum(p.numel() for p in model.parameters())
            noise = ChannelNoise(make_channel("awgn"), 10.0, generator=g, stream="fresh")
            views = [View(torch.ones(n, dtype=torch.bool), noise), View(torch.rand(n, generator=g) < 0.5, noise)]
        losses[precision] = train_model(model, x, y, train_settings(epochs=2, batch_size=64, precision=precision),
                                        g, views=views)
        dtypes[precision] = set(seen)
        assert all(p.dtype == torch.float32 for p in model.parameters())
    assert dtypes == {"float32": {torch.float32}, "bfloat16": {torch.bfloat16}}
    for a, b in zip(losses["float32"], losses["bfloat16"]):
        assert a != b and abs(a - b) < 0.05 * a        # bfloat16 rounds (8 bits of mantissa), but trains alike


def test_training_precision_enters_the_cache_key_only_for_bfloat16(monkeypatch):
    """float32 models keep the keys (and so the cached models and seeds) they had before the option existed."""
    from airnet.zoo import precision

    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)      # any CPU: the fallback is the next test's
    plain, _ = recipes_and_options("device=cpu")
    half, _ = recipes_and_options("device=cpu", "train.precision=bfloat16")
    assert "precision" not in plain.key(label="clean")["train"]
    key = half.key(label="clean")
    assert key["train"]["precision"] == "bfloat16"
    assert {k: v for k, v in key["train"].items() if k != "precision"} == plain.key(label="clean")["train"]


def test_training_precision_falls_back_at_the_config_edge_on_a_cpu_without_bfloat16(monkeypatch, caplog):
    import logging

    from airnet.zoo import precision

    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: False)
    monkeypatch.setattr(precision, "_WARNED", set())
    with caplog.at_level(logging.WARNING, logger="airnet"):
        recipes, _ = recipes_and_options("train.precision=bfloat16", "device=cpu")
    assert recipes.settings.precision == "float32"
    assert "train.precision=bfloat16: this CPU has no native bfloat16" in caplog.text
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)
    assert recipes_and_options("train.precision=bfloat16", "device=cpu")[0].settings.precision == "bfloat16"


def test_a_bad_training_precision_is_one_line_naming_the_key():
    from airnet.config.options import OptionError

    with pytest.raises(OptionError, match=r"train\.precision must be one of 'float32', 'bfloat16', got 'half'"):
        recipes_and_options("train.precision=half")


def test_bfloat16_scoring_has_its_own_measured_plan(digits, tmp_path, monkeypatch):
    """The bfloat16 plan is measured under its own key (copy only: the model is cast once), and scores what
    float32 scores up to bfloat16 rounding; the float32 plan's key is unchanged by the option."""
    import airnet.delivery.evaluation as ev

    monkeypatch.setattr(ev, "_PLANS", {})
    monkeypatch.setenv("AIRNET_CACHE_HOME", "none")
    m = build_model("cnn", digits.input_shape, 10).eval()
    assert ev.scoring_key(m, digits.x_test) == ev.scoring_key(m, digits.x_test, "float32")
    assert ev.scoring_key(m, digits.x_test) != ev.scoring_key(m, digits.x_test, "bfloat16")
    plan = ev.tune_scoring(m, digits.x_test, tmp_path / "plans.json", "bfloat16")
    assert plan.strategy == "copy"
    assert len(ev._PLANS) == 1
    from airnet.zoo.params import model_vector

    w = model_vector(m)
    vecs = w + 1e-3 * torch.randn(3, w.numel(), generator=torch.Generator().manual_seed(0))
    full = ev.accuracy_of_vectors(m, vecs, digits.x_test, digits.y_test)
    half = ev.accuracy_of_vectors(m, vecs, digits.x_test, digits.y_test, precision="bfloat16")
    assert ((half - full).abs() * len(digits.y_test)).max() <= 5          # a few borderline images at most


def test_row_ids_name_the_precision_that_ran(monkeypatch):
    """Rows trained or scored in bfloat16 get their own ``config_id`` (a run folder never mixes them with float32
    rows); a bfloat16 request that falls back to float32 gives the float32 rows' ids."""
    from airnet.zoo import precision
    from experiments.config import experiment_options, scheme_runs
    from tests.conftest import compose

    def ids(*overrides):
        cfg = compose("device=cpu", *overrides)
        return {r.name: r.config_id for r in scheme_runs(cfg, experiment_options(cfg))}

    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)
    base, train, score = ids(), ids("train.precision=bfloat16"), ids("eval_precision=bfloat16")
    assert len({base["clean"], train["clean"], score["clean"]}) == 3
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: False)
    assert ids("train.precision=bfloat16", "eval_precision=bfloat16") == base


def test_bfloat16_training_computes_its_losses_on_float32_logits(digits, monkeypatch):
    """CPU autocast leaves log_softmax in bfloat16; KD's KL between two close distributions would then round to
    noise. The loop hands both losses float32 logits."""
    import airnet.training.loop as loop
    from airnet.training.loop import Distillation

    seen = []
    real_kd, real_ce = loop.distillation_loss, loop.F.cross_entropy
    monkeypatch.setattr(loop, "distillation_loss", lambda s, t, *a: seen.append(("kd", s.dtype)) or real_kd(s, t, *a))
    torch.manual_seed(0)
    teacher = build_model("cnn", digits.input_shape, 10).eval()
    x, y = digits.x_train[:128], digits.y_train[:128]
    for distill in (None, Distillation(teacher, 4.0, 0.7)):
        model = build_model("cnn", digits.input_shape, 10)
        if distill is None:
            monkeypatch.setattr(loop.F, "cross_entropy", lambda s, t: seen.append(("ce", s.dtype)) or real_ce(s, t))
        train_model(model, x, y, train_settings(epochs=1, batch_size=64, precision="bfloat16"),
                    torch.Generator().manual_seed(0), distill=distill)
        monkeypatch.setattr(loop.F, "cross_entropy", real_ce)
    assert set(seen) == {("ce", torch.float32), ("kd", torch.float32)}
