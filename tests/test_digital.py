import math

import pytest
import torch

from channels import make_channel
from airnet.digital import LDPCQAMChain, fit_payload, payload_vector
from airnet.quantization import bits_to_codes, codes_to_bits, quantize


def test_awgn_capacity_by_hand():
    awgn = make_channel("awgn")
    assert awgn.capacity(0.0) == pytest.approx(1.0)
    assert awgn.capacity(10.0) == pytest.approx(math.log2(11))        # 3.4594
    assert awgn.capacity(20.0) == pytest.approx(6.658211, rel=1e-6)   # log2(101)


def test_fading_ergodic_capacity():
    # Rayleigh at 0 dB: e * E1(1) / ln 2 = 0.596347 / 0.693147 = 0.86035
    assert make_channel("rayleigh").capacity(0.0) == pytest.approx(0.86035, rel=1e-4)
    # Rician K -> large approaches AWGN; K = 0 equals Rayleigh
    assert make_channel("rician", k_factor=0.0).capacity(0.0) == pytest.approx(0.86035, rel=1e-4)
    ric = make_channel("rician", k_factor=50.0).capacity(10.0)
    assert make_channel("rayleigh").capacity(10.0) < ric < math.log2(11)


def test_rayleigh_capacity_asymptotic_branch_is_continuous():
    # e^x E1(x) switches to its asymptotic series at x = 1/snr = 50; both sides must agree with the quadrature
    from scipy import integrate
    for snr_db in (-16.9, -17.0, -17.1, -30.0):
        snr = 10 ** (snr_db / 10)
        ref = integrate.quad(lambda g: math.exp(-g) * math.log2(1 + snr * g), 0, math.inf)[0]
        assert make_channel("rayleigh").capacity(snr_db) == pytest.approx(ref, rel=1e-6)


def test_fading_capacity_without_csi_is_an_error_not_the_coherent_value():
    with pytest.raises(ValueError, match="csi='none'"):
        make_channel("rayleigh", csi="none").capacity(0.0)


def test_channel_without_capacity_raises():
    from channels import Channel

    class Bare(Channel):
        def gains(self, shape, generator, dtype, device):
            return torch.ones(1, 1, dtype=dtype)

    with pytest.raises(NotImplementedError, match="Bare defines no capacity"):
        Bare().capacity(0.0)


@pytest.mark.parametrize("bits", [1, 3, 8, 12])
def test_quantize_roundtrip_within_half_step(bits, gen):
    w = torch.cat([torch.randn(500, generator=gen), 5 * torch.randn(300, generator=gen)])
    layer_of = torch.cat([torch.zeros(500, dtype=torch.long), torch.ones(300, dtype=torch.long)])
    q = quantize(w, layer_of, bits)
    err = (q.dequantize().float() - w).abs()
    assert (err <= q.step[layer_of].float() / 2 + 1e-5).all()
    assert int(q.codes.max()) <= 2 ** bits - 1 and q.header_bits == 128
    assert torch.equal(bits_to_codes(codes_to_bits(q.codes, bits), bits), q.codes)


def test_bit_flip_of_msb_moves_weight_by_half_range():
    w = torch.tensor([0.0, 1.0, 0.5])
    q = quantize(w, torch.zeros(3, dtype=torch.long), 4)
    b = codes_to_bits(q.codes, 4)
    b[0] = 1 - b[0]  # MSB of weight 0
    assert q.dequantize(bits_to_codes(b, 4))[0].item() == pytest.approx(8 / 15, abs=1e-6)


def test_quantize_rejects_bad_bits():
    with pytest.raises(ValueError, match="bits must be"):
        quantize(torch.ones(3), torch.zeros(3, dtype=torch.long), 0)


def test_ldpc_chain_ber_near_zero_at_high_snr_and_high_at_low_snr():
    chain = LDPCQAMChain(k=256, rate=0.5, bits_per_symbol=4, num_iter=20)
    g = torch.Generator().manual_seed(0)
    bits = torch.randint(0, 2, (4, 8 * 256), generator=g).float()
    for name in ("awgn", "rayleigh"):
        ch = make_channel(name, **({"block_length": 8} if name == "rayleigh" else {}))
        high = chain.transmit(bits, ch, 25.0, g)
        low = chain.transmit(bits, ch, -5.0, g)
        assert (high != bits).float().mean().item() < 1e-3, name
        assert (low != bits).float().mean().item() > 0.1, name
    assert chain.channel_uses(chain.codewords_for(1000)) <= 1000


def test_capacity_payload_fits_and_fails_cleanly(digits):
    from airnet.models import build_model
    torch.manual_seed(0)
    model = build_model("mlp", digits.input_shape, 10, hidden=(16,))
    p = fit_payload(model, 4000, [2, 4, 8], digits.x_val, digits.y_val)
    assert p.payload_bits <= 4000 and p.quantized is not None
    assert int(p.mask.sum()) * p.bits + p.quantized.header_bits == p.payload_bits
    blank = fit_payload(model, 100, [2, 4, 8], digits.x_val, digits.y_val)  # header alone needs 256 bits
    assert blank.quantized is None
    assert torch.equal(payload_vector(blank, 10), torch.zeros(1, 10))


def test_digital_schemes_in_sweep_budget(digits):
    from airnet.schemes import make_scheme
    from conftest import setup_and_options
    setup, opts = setup_and_options("model=mlp", "model.kwargs.hidden=[16]", "train.epochs=5",
                                    "scheme.digital_ldpc.k=256", "scheme.digital_capacity.bits=[2,4]", data=digits)
    assert opts["digital_ldpc"].bits == (2, 4)  # linked to digital_capacity.bits in the YAML
    budget = setup.full_channel_uses
    cap = make_scheme("digital_capacity", setup, opts["digital_capacity"], budget).deliver(
        10.0, 3, torch.Generator().manual_seed(0))
    assert cap.info["payload_bits"] <= math.floor(budget * math.log2(11))
    ldpc = make_scheme("digital_ldpc", setup, opts["digital_ldpc"], budget)
    good = ldpc.deliver(30.0, 3, torch.Generator().manual_seed(0))
    bad = ldpc.deliver(-10.0, 3, torch.Generator().manual_seed(0))
    assert good.channel_uses <= budget and good.info["ber"] == 0.0 and bad.info["ber"] > 0.1
