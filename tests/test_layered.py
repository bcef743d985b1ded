"""Layered digital payloads: nested quantizers, prefix decoding, and the options' checks."""
import pytest
import torch

from airnet.digital.layered import LayeredPayload, dequantize_at
from airnet.digital.quantization import quantize
from airnet.side_info.bits import SideInfo


def quantized(n=400, bits=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(n, generator=g)
    layer_of = (torch.arange(n) >= n // 2).long()
    return w, quantize(w, layer_of, bits, 2)


def test_full_width_is_the_quantizer_and_coarser_widths_are_nested_uniform_quantizers():
    w, q = quantized()
    assert torch.allclose(dequantize_at(q, torch.full_like(q.codes, 8)), q.dequantize())
    step = q.step[q.layer_of]
    for width in (1, 2, 4, 6):
        cell = 2 ** (8 - width)
        coarse = dequantize_at(q, torch.full_like(q.codes, width))
        assert float(((w.double() - coarse).abs() / (cell * step)).max()) <= 0.5 + 1e-9   # within half a coarse cell
        assert len(torch.unique(coarse[q.layer_of == 0])) <= 2 ** width
    assert torch.count_nonzero(dequantize_at(q, torch.zeros_like(q.codes))) == 0


def test_prefix_decoding_keeps_each_weight_at_the_longest_decoded_prefix():
    w, q = quantized(n=6)
    mask = torch.ones(6, dtype=torch.bool)
    p = LayeredPayload(mask, q, SideInfo({"header": 10}), (2, 4, 8))
    assert p.layer_bits(True) == [10 + 12, 12, 24] and p.layer_bits(False) == [12, 12, 24]
    oks = [torch.ones(4, b, dtype=torch.bool) for b in p.layer_bits(True)]
    oks[0][1, 10] = False            # realization 1: weight 0's base bits lost -> weight 0 is 0, others full
    oks[1][2, 2] = False             # realization 2: weight 1's second layer lost -> weight 1 at 2 bits
    oks[2][2, :] = True
    oks[0][3, 3] = False             # realization 3: side information lost -> no model
    rx = p.received(oks, True)
    full = q.dequantize().float()
    assert torch.allclose(rx[0], full)
    assert rx[1, 0] == 0 and torch.allclose(rx[1, 1:], full[1:])
    assert torch.isclose(rx[2, 1], dequantize_at(q, torch.full_like(q.codes, 2))[1].float())
    assert torch.allclose(rx[2, 2:], full[2:]) and torch.count_nonzero(rx[3]) == 0


def test_training_once_for_all_widths_has_one_straight_through_view_per_width():
    from airnet.digital.layered import nested_quantization
    w, q = quantized(n=100)
    views = nested_quantization((1, 3, 8), q.layer_of, torch.ones(100, dtype=torch.bool))
    x = w.clone().requires_grad_(True)
    outs = [v.noise(x) for v in views]
    levels = [len(torch.unique(torch.round(o[:50].detach(), decimals=4))) for o in outs]   # w + (t - w): rounding
    assert levels[0] <= 2 and levels[1] <= 8 and levels[2] > 8
    assert torch.allclose(outs[2].detach(), quantize(w, q.layer_of, 8, 2).dequantize().float(), atol=1e-6)
    outs[0].sum().backward()
    assert torch.equal(x.grad, torch.ones(100))


@pytest.mark.parametrize("bad, message", [
    (dict(widths=(4, 2), layer_snr_db=(0.0, 10.0)), "widths must increase"),
    (dict(widths=(2, 4), layer_snr_db=(10.0, 0.0)), "layer_snr_db must be ascending"),
    (dict(widths=(2, 4), layer_snr_db=(0.0,)), "one value per layer"),
    (dict(widths=(2, 40), layer_snr_db=(0.0, 10.0)), "widths"),
])
def test_layered_options_are_checked(bad, message):
    from airnet.schemes.layered import LayeredOptions
    with pytest.raises(ValueError, match=message):
        LayeredOptions(structure="structured", prune=None, **bad)
