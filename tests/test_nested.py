"""Methods from the nested-network literature: ordered widths, sandwich training, RigL, teacher assistants."""
import pytest
import torch

from airnet.zoo.models import build_model
from airnet.training.spectrum import OrderedWidths
from conftest import make, recipes_and_options


def test_ordered_width_is_exactly_the_leading_units_of_the_full_network():
    torch.manual_seed(0)
    model = build_model("mlp", (1, 8, 8), 10, hidden=(32,))
    widths = OrderedWidths(model)
    for width, units in ((0.25, 8), (0.5, 16), (1.0, 32)):
        mask = widths.mask(width)
        rows = mask[:64 * 32].view(32, 64)                                # first layer's weight rows
        assert rows[:units].all() and not rows[units:].any(), width
        assert mask[64 * 32:64 * 32 + 32].tolist() == [True] * units + [False] * (32 - units)   # biases
        second = mask[64 * 32 + 32:64 * 32 + 32 + 10 * 32].view(10, 32)  # the next layer reads the kept units only
        assert second[:, :units].all() and not second[:, units:].any()
    assert widths.width_for(int(widths.mask(0.5).sum())) == 0.5
    cnn = OrderedWidths(build_model("cnn", (1, 8, 8), 10))
    m = cnn.mask(0.5)                                                     # conv1: 16 filters of 9+1 weights
    assert m[:8 * 9].all() and not m[8 * 9:16 * 9].any()


@pytest.fixture(scope="module")
def tiny(digits):
    return recipes_and_options("model=mlp", "model.kwargs.hidden=[32]", "train.epochs=4", "scheme.spectrum.epochs=2",
                             "scheme.pruning_kd.steps=1", "scheme.pruning_kd.finetune_epochs=2",
                             "scheme.pruning_kd.rigl_interval=3", "side_info.snr_db=design", "side_info.margin_db=0", data=digits)


@pytest.mark.slow
def test_ordered_width_levels_cost_a_few_bits_of_side_information(tiny, digits):
    from airnet.delivery.evaluation import accuracy_of_vectors
    from airnet.side_info.protection import Design
    rec, opts = tiny
    budget = rec.context.full_channel_uses
    ordered = make("spectrum_ordered", rec, opts, budget)
    magnitude = make("spectrum", rec, opts, budget)
    spec = ordered.spectrum(Design(10.0))[1]
    keeps = [spec.keep(lv) for lv in spec.levels]
    assert keeps == sorted(keeps)                                         # nested: worse channel, smaller network
    for snr in (0.0, 10.0):
        d = ordered.deliver(snr, 4, torch.Generator().manual_seed(0), design_snr_db=snr)
        m = magnitude.deliver(snr, 4, torch.Generator().manual_seed(0), design_snr_db=snr)
        assert d.info["params_sent"] > 0 and m.info["params_sent"] > 0
        assert "mask" not in d.info["side_info_parts"] and d.side_info_bits <= 32 + 2 + 5 * 4   # scale, factors, level
        assert "mask" in m.info["side_info_parts"] and m.side_info_bits > d.side_info_bits
        assert d.channel_uses <= budget
    acc = accuracy_of_vectors(d.model, d.vectors, digits.x_test, digits.y_test).mean().item()
    assert acc > 0.5                                                      # chance is 0.1


@pytest.mark.slow
def test_rigl_keeps_its_sparsity_exactly_through_training(tiny):
    from airnet.zoo.params import model_vector
    from airnet.training.rigl import RigL
    rec, opts = tiny
    seen = []
    original = RigL.__call__

    def spy(self, step, model, mask, xb, yb):
        new = original(self, step, model, mask, xb, yb)
        seen.append((int(mask.sum()), None if new is None else int(new.sum()), None if new is None else
                     int((new != mask).sum())))
        return new

    RigL.__call__ = spy
    try:
        keep = rec.context.num_params // 4
        model, mask = rec.pruned(opts["pruning_kd_rigl"], keep, snr_db=5.0)
    finally:
        RigL.__call__ = original
    updates = [s for s in seen if s[1] is not None]
    assert updates and all(before == after == keep for before, after, _ in updates)
    assert all(changed > 0 for *_, changed in updates)                   # weights really were dropped and regrown
    assert int(mask.sum()) == keep and torch.all(model_vector(model)[~mask] == 0)


@pytest.mark.slow
def test_teacher_assistant_chain_runs_in_the_order_given(tiny):
    rec, opts = tiny
    built = []
    original = rec.trained

    def record(key, build, label):
        if label == "pruned":
            built.append(key["keep"])
        return original(key, build, label)

    object.__setattr__(rec, "trained", record)      # Recipes is frozen: patch this instance only
    o = opts["pruning_kd_assistants"]
    student = rec.context.num_params // 10
    rec.pruned(o, student, snr_db=5.0)
    n = rec.context.num_params
    chain = [k for k in dict.fromkeys(reversed(built))]                   # keys are looked up outside-in
    assert o.assistants == (0.5, 0.25)
    assert chain == [round(0.5 * n), round(0.25 * n), student]
    built.clear()
    rec.pruned(o, round(0.3 * n), snr_db=5.0)                   # 0.25 is smaller: only 0.5 assists
    assert [k for k in dict.fromkeys(reversed(built))] == [round(0.5 * n), round(0.3 * n)]


def test_bad_nested_options_are_named():
    from airnet.config.options import OptionError
    from conftest import compose
    from experiments.config import scheme_options
    with pytest.raises(OptionError, match="assistants must be fractions in .0, 1., largest first"):
        scheme_options(compose("scheme.pruning_kd.assistants=[0.25,0.5]"), "pruning_kd")
    with pytest.raises(OptionError, match="method=rigl prunes single weights"):
        scheme_options(compose("scheme.pruning_kd.method=rigl", "scheme.pruning_kd_structured.method=rigl"),
                       "pruning_kd_structured")
    with pytest.raises(OptionError, match="scheme.spectrum.nesting must be one of"):
        scheme_options(compose("scheme.spectrum.nesting=random"), "spectrum")
