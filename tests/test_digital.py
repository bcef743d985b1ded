import math

import pytest
import torch

from channels import make_channel
from airnet.digital.payload import rank_payloads
from airnet.side_info.transports import MCS, CapacityTransport, LDPCTransport, mcs_ladder, nr_mcs_table, segment_bits, segment_uses, select_robust_mcs
from airnet.digital.quantization import quantize
from airnet.side_info.bits import quantization_header_bits


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
    assert int(q.codes.max()) <= 2 ** bits - 1 and quantization_header_bits(q.offset.numel()) == 128


def test_quantize_rejects_bad_bits():
    with pytest.raises(ValueError, match="bits must be"):
        quantize(torch.ones(3), torch.zeros(3, dtype=torch.long), 0)


def test_ldpc_transport_decodes_at_high_snr_and_erases_at_low_snr():
    mcs = MCS(-1, 4, 0.5)
    t = LDPCTransport(segment_uses(mcs, 2000, k_max=512), num_iter=20)
    assert t.channel_uses <= 2000 and t.payload_bits == t.seg.codewords * (t.seg.k - 24)
    g = torch.Generator().manual_seed(0)
    bits = torch.randint(0, 2, (4, t.payload_bits), generator=g).float()
    for name in ("awgn", "rayleigh"):
        ch = make_channel(name, **({"block_length": 8} if name == "rayleigh" else {}))
        rx, ok = t.send(bits, ch, 25.0, g)
        assert bool(ok.all()) and torch.equal(rx, bits), name
        rx, ok = t.send(bits, ch, -5.0, g)
        assert float(ok.float().mean()) < 0.1, name
        assert ((rx == bits) | ~ok).all(), name   # a block that passes its (ideal) CRC is right


def test_early_stopped_decoder_matches_the_full_decoder_and_stops_early_at_high_snr():
    # same LLRs into both decoders: identical decisions at every SNR (waterfall included); at high SNR the batch
    # converges (all parity checks hold) within a few of the 20 iterations, below the waterfall it runs all 20
    from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder
    from sionna.phy.mapping import Demapper, Mapper

    from airnet.side_info.ldpc_decoder import EarlyStopLDPC5GDecoder

    assert EarlyStopLDPC5GDecoder.supported()       # the installed Sionna has the hook (else links fall back)
    g = torch.Generator().manual_seed(0)
    enc = LDPC5GEncoder(200, 400, num_bits_per_symbol=2)
    full, early = LDPC5GDecoder(enc, num_iter=20, hard_out=True), EarlyStopLDPC5GDecoder(enc, 20)
    mapper, demapper = Mapper("qam", 2), Demapper("app", "qam", 2)
    iterations, bler = {}, {}
    for snr in (-2.0, 1.0, 2.0, 10.0):
        u = torch.randint(0, 2, (200, 200), generator=g).float()
        x = mapper(enc(u))
        no = 10 ** (-snr / 10)
        y = x + torch.complex(torch.randn(x.shape, generator=g), torch.randn(x.shape, generator=g)) * math.sqrt(no / 2)
        llr = demapper(y.to(torch.complex64), torch.tensor(no))
        a, b = full(llr), early(llr)
        assert torch.equal(a, b), snr
        iterations[snr], bler[snr] = early.iterations, float((b != u).any(1).float().mean())
    assert bler[-2.0] > 0.5 and bler[10.0] == 0.0
    assert iterations[-2.0] == 20 and iterations[10.0] <= 3, iterations


def test_row_copy_polar_decoder_gives_sionnas_decisions_bit_for_bit():
    # the same LLRs into Sionna's SCL decoder and ours: identical bits over the waterfall (every block right,
    # some, none), for punctured, shortened and repeated 5G rate matching and list sizes 8 and 2
    from sionna.phy.fec.polar import Polar5GDecoder, Polar5GEncoder

    from airnet.side_info.polar_decoder import RowCopySCLDecoder, polar_5g_decoder

    assert RowCopySCLDecoder.supported()            # the installed Sionna has the hook (else it decodes its way)
    g = torch.Generator().manual_seed(0)
    outcomes = set()
    for k, n, list_size in [(52, 214, 8), (64, 622, 8), (32, 146, 2), (20, 1080, 8)]:
        enc = Polar5GEncoder(k, n, channel_type="uplink")
        ours, sionna = polar_5g_decoder(enc, list_size), Polar5GDecoder(enc, dec_type="SCL", list_size=list_size)
        assert type(ours._polar_dec) is RowCopySCLDecoder
        for sigma in (0.6, 1.2, 2.0, 4.0):
            u = torch.randint(0, 2, (48, k), generator=g).float()
            x = 2 * enc(u) - 1
            llr = 2 * (x + sigma * torch.randn(x.shape, generator=g)) / sigma ** 2
            a, b = sionna(llr), ours(llr)
            assert torch.equal(a, b), (k, n, list_size, sigma)
            right = float((a == u).all(1).float().mean())
            outcomes.add("all" if right == 1 else "none" if right == 0 else "some")
    assert outcomes == {"all", "some", "none"}      # the comparison covered the waterfall


def test_low_rate_mcs_repeats_the_mother_code_and_gains_snr():
    # MCS 0 (R = 0.117 < 1/5) uses the circular buffer; 4 repetitions add 6 dB: at -9 dB, x4 decodes, x1 does not
    ch, g = make_channel("awgn"), torch.Generator().manual_seed(1)
    outcomes = {}
    for reps in (1, 4):
        mcs = MCS(0, 2, 0.1172, reps)
        t = LDPCTransport(segment_bits(mcs, 40 * 200, k_max=200), num_iter=20)
        ok = t.send(torch.randint(0, 2, (1, t.payload_bits), generator=g).float(), ch, -9.0, g)[1]
        outcomes[reps] = float(ok.float().mean())
    assert outcomes[4] == 1.0 and outcomes[1] < 0.5, outcomes


@pytest.mark.parametrize("uses", [60, 500, 3045, 40_000])
def test_segmentation_fits_the_channel_uses(uses):
    for mcs in mcs_ladder(8):
        seg = segment_uses(mcs, uses, k_max=8448)
        if seg is None:
            continue
        assert seg.channel_uses <= uses and seg.k <= 8448 and seg.k - 24 >= 12
        back = segment_bits(mcs, seg.payload_bits, k_max=8448)
        assert back.payload_bits >= seg.payload_bits and back.channel_uses <= seg.channel_uses * 1.02 + 8


def test_mcs_ladder_is_the_nr_table_then_repetitions():
    table = nr_mcs_table()
    assert len(table) == 28 and (table[0].bits_per_symbol, table[27].bits_per_symbol) == (2, 8)
    assert table[0].rate == pytest.approx(120 / 1024, abs=1e-3) and table[27].rate == pytest.approx(948 / 1024, abs=1e-3)
    eff = [m.efficiency for m in mcs_ladder(16)]
    assert eff == sorted(eff, reverse=True) and mcs_ladder(16)[-1].repetitions == 16


def test_robust_mcs_grows_with_snr_and_stays_below_capacity():
    ch = make_channel("awgn")
    picked = [select_robust_mcs(ch, snr, 256, 20, 16, 16, torch.Generator().manual_seed(0)) for snr in (-8, 2, 12)]
    eff = [m.efficiency for m in picked]
    assert eff[0] < eff[1] < eff[2]
    assert all(e < ch.capacity(snr) for e, snr in zip(eff, (-8, 2, 12)))


def test_capacity_transport_shannon_cliff_and_normal_approximation():
    ch = make_channel("awgn")
    t = CapacityTransport.for_uses(ch, 10.0, 1000, "shannon", 1e-3)
    assert t.payload_bits == math.floor(1000 * math.log2(11))
    g = torch.Generator().manual_seed(0)
    assert t.send(torch.ones(8, 10), ch, 10.0, g)[1].all()
    assert not t.send(torch.ones(8, 10), ch, 9.5, g)[1].any()       # above capacity: the receiver gets nothing
    na = CapacityTransport.for_uses(ch, 10.0, 1000, "normal", 1e-3)
    v = ch.dispersion(10.0)
    expected = 1000 * math.log2(11) - math.sqrt(1000 * v) * 3.0902323 + 0.5 * math.log2(1000)
    assert na.payload_bits == math.floor(expected) < t.payload_bits
    # at its design SNR the normal-approximation code fails with about its target probability
    fails = 1 - na.send(torch.ones(20_000, 1), ch, 10.0, g)[1].float().mean().item()
    assert fails == pytest.approx(1e-3, abs=1e-3)
    back = CapacityTransport.for_bits(ch, 10.0, na.payload_bits, "normal", 1e-3)
    assert back.channel_uses == 1000


def test_awgn_dispersion_by_hand():
    # V = (1 - 1/(1+snr)^2) log2(e)^2; at 0 dB: 0.75 * 2.0813689 = 1.5610267
    assert make_channel("awgn").dispersion(0.0) == pytest.approx(1.5610267, rel=1e-6)
    # block fading adds block_length x Var[C(h)]: much larger than AWGN's
    assert make_channel("rayleigh", block_length=64).dispersion(0.0) > 10 * make_channel("awgn").dispersion(0.0)


def choose_payload(*args):
    """The best payload of :func:`rank_payloads` (None when nothing fits)."""
    ranked = rank_payloads(*args)
    return ranked[0][1] if ranked else None


def test_payload_fits_counts_side_info_and_erases_failed_blocks(digits):
    from airnet.zoo.models import build_model
    from airnet.training.pruning import make_pruner
    torch.manual_seed(0)
    model = build_model("mlp", digits.input_shape, 10, hidden=(16,))
    pruner = make_pruner(model, "unstructured")
    p = choose_payload(model, 2000, (2, 4, 8), {"unstructured": pruner}, digits.x_val, digits.y_val, True, False)
    assert p.coding is None and p.stream_bits(True) <= 2000 and int(p.mask.sum()) < 1210   # 1210 weights do not fit: pruned
    assert p.side.parts["header"] == 4 * 64 and p.side.parts["mask"] == pruner.mask_bits(p.mask)
    assert p.stream_bits(True) == p.side.bits + int(p.mask.sum()) * p.bits
    free = choose_payload(model, 2000, (2, 4, 8), {"unstructured": pruner}, digits.x_val, digits.y_val, False,
                          False)
    assert int(free.mask.sum()) * free.bits <= 2000 and int(free.mask.sum()) * free.bits > p.code_bits
    assert choose_payload(model, 100, (2, 4, 8), {"u": pruner}, digits.x_val, digits.y_val, True) is None  # header>100
    ok = torch.ones(2, p.stream_bits(True), dtype=torch.bool)
    ok[0, 0] = False                          # side information lost: no model
    ok[1, p.side.bits] = False                # first weight's first bit erased: that weight is 0
    rx = p.received(ok, True)
    first = torch.nonzero(p.mask)[0, 0]
    assert torch.equal(rx[0], torch.zeros_like(rx[0])) and rx[1, first] == 0
    assert torch.count_nonzero(rx[1]) >= int(p.mask.sum()) - 1 - int((p.quantized.dequantize() == 0).sum())


@pytest.mark.slow
def test_digital_schemes_in_sweep_budget(digits):
    from airnet.schemes import make_scheme
    from conftest import recipes_and_options
    rec, opts = recipes_and_options("model=mlp", "model.kwargs.hidden=[16]", "train.epochs=5",
                                    "scheme.digital_capacity.bits=[2,4]", "scheme.pruning_kd.steps=1",
                                    "scheme.pruning_kd.finetune_epochs=1", "link.k_max=1024", data=digits)
    assert opts["digital_ldpc"].bits == (2, 4)  # linked to digital_capacity.bits in the YAML
    budget = rec.context.full_channel_uses // 2
    cap = make_scheme("digital_capacity", rec.context, rec, opts["digital_capacity"], budget).deliver(
        10.0, 3, torch.Generator().manual_seed(0))
    assert cap.info["payload_bits"] <= math.floor(budget * math.log2(11)) and cap.channel_uses <= budget
    assert cap.side_info_bits > 0 and cap.info["block_ok"] == 1.0
    ldpc = make_scheme("digital_ldpc", rec.context, rec, opts["digital_ldpc"], budget)
    good = ldpc.deliver(30.0, 3, torch.Generator().manual_seed(0))
    bad = ldpc.deliver(-10.0, 3, torch.Generator().manual_seed(0))
    assert good.channel_uses <= budget and good.info["block_ok"] == 1.0 and bad.info["block_ok"] < 0.1
    assert torch.count_nonzero(bad.vectors) == 0      # side information lost at -10 dB: no model


@pytest.mark.slow
def test_amc_picks_a_more_efficient_mcs_at_higher_snr(digits):
    from airnet.schemes import make_scheme
    from conftest import recipes_and_options
    rec, opts = recipes_and_options("model=mlp", "model.kwargs.hidden=[16]", "train.epochs=5",
                                    "+scheme.digital_amc.bits=[4]", "scheme.digital_capacity.validation_draws=2",
                                    "+scheme.digital_amc.finetune=false", "link.k_max=1024", data=digits)
    amc = make_scheme("digital_amc", rec.context, rec, opts["digital_amc"], rec.context.full_channel_uses)
    picked = [amc.transport(snr)[0].seg.mcs for snr in (0.0, 10.0, 20.0)]
    eff = [m.efficiency for m in picked]
    assert eff[0] < eff[1] < eff[2], picked
    assert all(e < rec.context.channel.capacity(s) for e, s in zip(eff, (0.0, 10.0, 20.0)))


def test_long_low_rate_ldpc_blocks_repeat_the_bg1_mother_code():
    """Blocks over 3,840 bits need base graph 1 (lowest rate 1/3): MCS 0 (rate 0.117) repeats its coded bits."""
    from channels import make_channel
    from airnet.side_info.transports import LDPCTransport, MCS, nr_mcs_table, segment_bits
    mcs0 = nr_mcs_table()[0]
    t = LDPCTransport(segment_bits(MCS(0, mcs0.bits_per_symbol, mcs0.rate), 6000, 8448), num_iter=10)
    assert t.seg.k > 3840 and t.seg.k / t.seg.n < 1 / 3
    g = torch.Generator().manual_seed(0)
    bits = torch.randint(0, 2, (2, 6000), generator=g).float()
    rx, ok = t.send(bits, make_channel("awgn"), 3.0, g)
    assert bool(ok.all()) and torch.equal(rx, bits)
