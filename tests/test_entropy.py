"""Entropy coding of quantized weights: lossless, near the empirical entropy, never worse than fixed width."""
import numpy as np
import pytest
import torch

from airnet.digital.entropy import (METHOD_BITS, WORD_BITS, code_layer, code_layers, decode_layer, describe_layer,
                                    elias_gamma_bits, empirical_entropy, encode_layer)


def laplace_codes(n, bits, scale, seed=0):
    rng = np.random.default_rng(seed)
    mid = (2 ** bits - 1) / 2
    return np.clip(np.round(rng.laplace(mid, scale, n)), 0, 2 ** bits - 1).astype(np.int64)


def test_elias_gamma_lengths():
    assert elias_gamma_bits(np.array([1, 2, 3, 4, 7, 8, 255, 256])) == 1 + 3 + 3 + 5 + 5 + 7 + 15 + 17
    with pytest.raises(ValueError):
        elias_gamma_bits(np.array([0]))


@pytest.mark.parametrize("method", ["fixed", "table", "laplace"])
@pytest.mark.parametrize("bits", [2, 4, 8])
def test_every_code_decodes_to_the_codes(method, bits):
    codes = laplace_codes(3000, bits, scale=2 ** bits / 8)
    stream, _ = encode_layer(codes, bits, method)
    back = decode_layer(stream, codes.size, bits, method, describe_layer(codes, method))
    assert np.array_equal(back, codes)


def test_single_code_layer_costs_only_its_table():
    codes = np.full(500, 5)
    c = code_layer(codes, 4)
    assert c.method == "table" and c.data_bits == 0
    assert c.table_bits == METHOD_BITS + 2 * 4 + elias_gamma_bits(np.array([501]))
    assert np.array_equal(decode_layer(np.zeros(0, np.uint32), 500, 4, "table", describe_layer(codes, "table")), codes)


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_histogram_code_is_within_a_word_and_half_a_percent_of_the_entropy(bits):
    codes = laplace_codes(20_000, bits, scale=2 ** bits / 10)
    stream, table = encode_layer(codes, bits, "table")
    entropy_bits = empirical_entropy(codes) * codes.size
    assert entropy_bits <= WORD_BITS * stream.size <= 1.005 * entropy_bits + WORD_BITS


def test_incompressible_codes_stay_fixed_width_and_nothing_costs_more_than_the_signal():
    rng = np.random.default_rng(1)
    uniform = rng.integers(0, 16, 4000)
    c = code_layer(uniform, 4)
    assert c.method == "fixed" and c.bits == 4 * 4000 + METHOD_BITS
    peaked = laplace_codes(4000, 8, scale=3.0)
    assert code_layer(peaked, 8).bits < 0.6 * 8 * 4000      # entropy about 4.1 bits of 8


def test_layers_are_coded_separately():
    codes = torch.tensor([0, 1, 1, 1, 3, 3, 3, 3])
    layer_of = torch.tensor([0, 0, 0, 0, 2, 2, 2, 2])
    out = code_layers(codes, layer_of, 2, 3)
    assert [c.count for c in out] == [4, 0, 4] and out[1].bits == 0


def test_an_erased_bit_loses_its_whole_layer(digits):
    from airnet.digital.payload import build_payload
    from airnet.training.pruning import make_pruner
    from airnet.zoo.models import build_model
    torch.manual_seed(0)
    model = build_model("mlp", digits.input_shape, 10, hidden=(16,))
    pruner = make_pruner(model, "unstructured")
    p = build_payload(model, torch.ones(1210, dtype=torch.bool), 6, pruner, 10 ** 6, True)
    assert p.coding is not None and p.stream_bits(True) == p.side.bits + sum(c.data_bits for c in p.coding)
    assert p.side.parts["tables"] == sum(c.table_bits for c in p.coding)
    first = p.coding[0]
    ok = torch.ones(2, p.stream_bits(True), dtype=torch.bool)
    ok[1, p.side.bits + first.data_bits] = False          # the first bit of layer 1's stream
    rx = p.received(ok, True)
    assert torch.equal(rx[0], p.received(ok[:1], True)[0])
    assert torch.equal(rx[1, :first.count], rx[0, :first.count])              # layer 0 intact
    assert torch.count_nonzero(rx[1, first.count:first.count + p.coding[1].count]) == 0
    assert torch.equal(rx[1, first.count + p.coding[1].count:], rx[0, first.count + p.coding[1].count:])
