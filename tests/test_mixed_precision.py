"""Mixed precision: per-layer quantizers, their payload accounting, and the sensitivity allocation."""
import pytest
import torch

from airnet.digital.quantization import quantize


def test_per_layer_widths_quantize_each_layer_at_its_own_width():
    g = torch.Generator().manual_seed(0)
    w = torch.randn(300, generator=g)
    layer_of = torch.arange(300) // 100
    q = quantize(w, layer_of, (1, 4, 8), 3)
    assert q.mixed and q.bits == 8 and q.layer_bits.tolist() == [1, 4, 8]
    for layer, b in enumerate((1, 4, 8)):
        sel = layer_of == layer
        assert int(q.codes[sel].max()) <= 2 ** b - 1
        uniform = quantize(w[sel], torch.zeros(100, dtype=torch.long), b, 1)
        assert torch.equal(q.codes[sel], uniform.codes)
    assert not quantize(w, layer_of, 4, 3).mixed and not quantize(w, layer_of, (4, 4, 4), 3).mixed
    with pytest.raises(ValueError, match="3 layer widths for 2 layers"):
        quantize(w[:200], layer_of[:200], (1, 4, 8), 2)
    with pytest.raises(ValueError, match=r"integers in \[1, 24\]"):
        quantize(w, layer_of, (0, 4, 8), 3)


def test_mixed_payload_counts_a_width_per_layer_and_erases_per_weight(digits):
    from airnet.digital.payload import build_payload
    from airnet.side_info.bits import WIDTH_BITS
    from airnet.training.pruning import make_pruner
    from airnet.zoo.models import build_model
    torch.manual_seed(0)
    model = build_model("mlp", digits.input_shape, 10, hidden=(16,))       # 4 tensors: 1024 + 16 + 160 + 10
    pruner = make_pruner(model, "unstructured")
    p = build_payload(model, torch.ones(1210, dtype=torch.bool), (2, 3, 5, 4), pruner, 10 ** 6, True, entropy=False)
    assert p.side.parts["width"] == 4 * WIDTH_BITS
    assert p.code_bits == 1024 * 2 + 16 * 3 + 160 * 5 + 10 * 4
    assert p.stream_bits(True) == p.side.bits + p.code_bits
    ok = torch.ones(1, p.stream_bits(True), dtype=torch.bool)
    ok[0, p.side.bits + 1024 * 2 + 16 * 3 + 4] = False      # a bit of the 1st weight of layer 2 (weights 1040...)
    rx = p.received(ok, True)
    full = p.received(torch.ones_like(ok), True)
    assert rx[0, 1040] == 0 and torch.equal(rx[0, :1040], full[0, :1040]) and torch.equal(rx[0, 1041:], full[0, 1041:])


def test_allocation_fits_the_budget_and_narrows_as_it_shrinks(digits):
    from airnet.digital.allocation import allocate_widths, layer_sensitivity
    from airnet.training.loop import TrainSettings, train_model
    from airnet.zoo.models import build_model
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = build_model("mlp", digits.input_shape, 10, hidden=(16,))
    train_model(model, digits.x_train, digits.y_train, TrainSettings(5, 64, 3e-3, 0.0, "fresh", 0, 1e-3, "float32"), g)
    mask = torch.ones(1210, dtype=torch.bool)
    sens = layer_sensitivity(model, mask, (1, 2, 4, 8), digits.x_val, digits.y_val)
    assert sens.shape == (4, 4) and float(sens[:, 0].max()) > float(sens[:, 3].abs().max())  # 1 bit hurts most
    counts = torch.tensor([1024, 16, 160, 10])
    big = allocate_widths(model, mask, (1, 2, 4, 8), 10 ** 6, digits.x_val, digits.y_val, entropy=False)
    assert big == (8, 8, 8, 8)
    previous = big
    for budget in (6000, 4000, 2500, 1500):
        widths = allocate_widths(model, mask, (1, 2, 4, 8), budget, digits.x_val, digits.y_val, entropy=False)
        assert int((torch.tensor(widths) * counts).sum()) <= budget
        assert all(a <= b for a, b in zip(widths, previous))
        previous = widths
    assert allocate_widths(model, mask, (1, 2, 4, 8), 1000, digits.x_val, digits.y_val, entropy=False) is None
    coded = allocate_widths(model, mask, (1, 2, 4, 8), 2500, digits.x_val, digits.y_val, entropy=True)
    assert sum(coded) >= sum(allocate_widths(model, mask, (1, 2, 4, 8), 2500, digits.x_val, digits.y_val,
                                             entropy=False))            # coded layers are cheaper: wider
