import math

import pytest
import torch

import channels as C
from channels.base import complex_normal


def unit_symbols(b, n, g):
    return complex_normal((b, n), g)  # E|x|^2 = 1


@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 10.0, 20.0])
def test_awgn_noise_variance_and_output_power_match_snr(snr_db, gen):
    x = unit_symbols(8, 50_000, gen)
    y = C.AWGNChannel()(x, snr_db, gen)
    n0 = 10 ** (-snr_db / 10)
    noise = y - x
    # 400k complex samples: relative std of the variance estimate ~ 0.16%
    assert noise.abs().pow(2).mean().item() == pytest.approx(n0, rel=0.01)
    assert noise.real.var().item() == pytest.approx(n0 / 2, rel=0.01)
    assert noise.imag.var().item() == pytest.approx(n0 / 2, rel=0.01)
    assert y.abs().pow(2).mean().item() == pytest.approx(1 + n0, rel=0.01)


def test_signal_power_scales_noise(gen):
    x = unit_symbols(4, 50_000, gen) * 2.0  # P = 4
    y = C.AWGNChannel(signal_power=4.0)(x, 10.0, gen)
    assert (y - x).abs().pow(2).mean().item() == pytest.approx(0.4, rel=0.01)


def test_per_realization_snr(gen):
    x = unit_symbols(3, 40_000, gen)
    y = C.AWGNChannel()(x, torch.tensor([0.0, 10.0, 20.0]), gen)
    var = (y - x).abs().pow(2).mean(dim=1)
    assert torch.allclose(var, torch.tensor([1.0, 0.1, 0.01]), rtol=0.02)


def test_matches_sionna_awgn_convention(gen):
    sionna_ch = pytest.importorskip("sionna.phy.channel")
    x = torch.zeros(4, 50_000, dtype=torch.complex64)
    ys = sionna_ch.AWGN()(x, 0.1)
    ours = C.AWGNChannel()(x, 10.0, gen)
    for y in (ys, ours):
        assert y.abs().pow(2).mean().item() == pytest.approx(0.1, rel=0.02)
        assert y.real.var().item() == pytest.approx(0.05, rel=0.02)


@pytest.mark.parametrize("name", ["rayleigh", "rician"])
def test_fading_perfect_csi_zf_recovers_input_at_high_snr(name, gen):
    x = unit_symbols(16, 4096, gen)
    ch = C.make_channel(name, block_length=16, csi="perfect", equalizer="zf")
    y = ch(x, 80.0, gen)
    err = (y - x).abs()
    # ZF divides by h: a rare deep fade still amplifies the (tiny) noise, so check typical and mean error
    assert torch.quantile(err.flatten()[:100_000], 0.999).item() < 1e-2
    assert err.pow(2).mean().item() < 1e-4


def test_rayleigh_gain_statistics_and_blocks(gen):
    ch = C.RayleighChannel(block_length=8)
    h = ch.gains(torch.Size([64, 8000]), gen, torch.complex64, None)
    assert h.abs().pow(2).mean().item() == pytest.approx(1.0, rel=0.03)
    blocks = h.reshape(64, 1000, 8)
    assert torch.equal(blocks, blocks[..., :1].expand_as(blocks))  # constant within a block
    assert not torch.equal(blocks[:, 0, 0], blocks[:, 1, 0])         # independent across blocks


def test_rician_los_component(gen):
    ch = C.RicianChannel(k_factor=4.0, block_length=1)
    h = ch.gains(torch.Size([16, 20000]), gen, torch.complex64, None)
    assert h.mean().real.item() == pytest.approx(math.sqrt(4 / 5), abs=0.01)
    assert h.abs().pow(2).mean().item() == pytest.approx(1.0, rel=0.02)


def test_mmse_beats_zf_on_rayleigh_at_low_snr():
    x = unit_symbols(8, 20000, torch.Generator().manual_seed(0))
    zf = C.RayleighChannel(block_length=4, equalizer="zf")(x, 0.0, torch.Generator().manual_seed(5))
    mmse = C.RayleighChannel(block_length=4, equalizer="mmse")(x, 0.0, torch.Generator().manual_seed(5))
    assert (mmse - x).abs().pow(2).mean() < 0.5 * (zf - x).abs().pow(2).mean()


def test_no_csi_returns_raw_observation(gen):
    x = unit_symbols(2, 1000, gen)
    out = C.RayleighChannel(csi="none").observe(x, 100.0, gen)
    assert torch.allclose(out.zf(), out.y)
    assert torch.allclose(C.RayleighChannel(csi="none").equalize(out), out.y)


@pytest.mark.parametrize("name", ["awgn", "rayleigh", "rician"])
def test_seeded_runs_are_bit_identical(name):
    x = unit_symbols(4, 999, torch.Generator().manual_seed(3))
    ch = C.make_channel(name)
    a = ch(x, 5.0, torch.Generator().manual_seed(7))
    b = ch(x, 5.0, torch.Generator().manual_seed(7))
    c = ch(x, 5.0, torch.Generator().manual_seed(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_pair_unpair_roundtrip_odd_length():
    x = torch.arange(7.0).reshape(1, 7)
    z = C.pair_reals(x)
    assert z.shape == (1, 4)
    assert z[0, 0] == complex(0, 1) and z[0, 3] == complex(6, 0)
    assert torch.equal(C.unpair_reals(z, 7), x)


def test_transmit_reals_weight_domain_noise_is_mean_square_over_snr(gen):
    w = torch.randn(4, 100_000, generator=gen) * 0.3 + 0.1
    est, prec = C.transmit_reals_soft(w, C.AWGNChannel(), 10.0, gen)
    target = w.pow(2).mean(dim=1) / 10.0
    assert torch.allclose((est - w).pow(2).mean(dim=1), target, rtol=0.02)
    assert torch.allclose(1.0 / prec[:, 0], target, rtol=1e-5)


def test_normalize_power_gives_unit_symbol_energy(gen):
    x = torch.randn(3, 1001, generator=gen) * 5
    xs, a = C.normalize_power(x, signal_power=2.0)
    assert C.pair_reals(xs).abs().pow(2).mean(dim=1).tolist() == pytest.approx([2.0] * 3, rel=1e-3)
    assert a.shape == (3, 1)


def test_channel_layer_is_differentiable_and_shape_preserving(gen):
    layer = C.ChannelLayer(C.make_channel("awgn"), 20.0, gen)
    x = torch.randn(5, 3, 4, requires_grad=True)
    y = layer(x)
    y.sum().backward()
    assert y.shape == x.shape and x.grad is not None and torch.isfinite(x.grad).all()


def test_channel_uses_two_reals_per_use():
    assert [C.channel_uses(n) for n in (0, 1, 2, 3, 10)] == [0, 1, 1, 2, 5]


@pytest.mark.parametrize("bad,msg", [
    (lambda: C.make_channel("rayliegh"), "rayliegh"),
    (lambda: C.AWGNChannel()(torch.ones(4, dtype=torch.complex64), float("nan")), "nan"),
    (lambda: C.AWGNChannel()(torch.ones(4, dtype=torch.complex64), float("inf")), "inf"),
    (lambda: C.AWGNChannel()(torch.ones(0, dtype=torch.complex64), 10.0), "empty"),
    (lambda: C.AWGNChannel()(torch.ones(4), 10.0), "complex"),
    (lambda: C.RayleighChannel(block_length=0), "block_length"),
    (lambda: C.RicianChannel(k_factor=-1), "k_factor"),
    (lambda: C.AWGNChannel(signal_power=float("nan")), "signal_power"),
    (lambda: C.make_channel("awgn", equalizer="ml"), "ml"),
    (lambda: C.AWGNChannel()(torch.ones(2, 4, dtype=torch.complex64), torch.tensor([1.0, 2.0, 3.0])), "3 entries"),
    (lambda: C.channel_uses(-4), "-4"),
    (lambda: C.pair_reals(torch.ones(0)), "non-empty"),
])
def test_bad_inputs_raise_clear_errors(bad, msg):
    with pytest.raises((ValueError, TypeError)) as exc:
        bad()
    assert msg in str(exc.value)


def test_channels_does_not_import_airnet():
    import subprocess
    import sys
    code = "import channels, sys; assert not any(m.startswith('airnet') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("equalizer", ["zf", "mmse"])
@pytest.mark.parametrize("m", [1000, 1001])
def test_fused_awgn_path_equals_the_generic_path_up_to_rounding(equalizer, m):
    from channels.analog import _received, _send
    ch = C.make_channel("awgn", equalizer=equalizer)
    x = torch.randn(3, m, generator=torch.Generator().manual_seed(0))
    fast = C.transmit_reals(x, ch, 7.0, torch.Generator().manual_seed(5))            # fused AWGN route
    out, a, silent = _send(x, ch, 7.0, torch.Generator().manual_seed(5))              # generic route
    generic = _received(ch.equalize(out), a, silent, x)
    assert torch.allclose(fast, generic, atol=1e-6, rtol=1e-5)
    one = ch.reals_perturbation(x[0], 7.0, torch.Generator().manual_seed(5))           # a single vector
    row = C.transmit_reals(x[:1], ch, 7.0, torch.Generator().manual_seed(5))[0]
    assert torch.allclose(x[0] + one, row, atol=1e-6, rtol=1e-5)


def test_module_apply_reaches_channel_layers():
    """nn.Module.apply(fn) visits a channel inside a model (Channel.observe used to shadow it as Channel.apply)."""
    from channels import ChannelLayer, make_channel
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), ChannelLayer(make_channel("rayleigh"), 10.0))
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "RayleighChannel", "ChannelLayer", "Sequential"]


@pytest.mark.parametrize("copies", [3, 4])
def test_mrc_combining_on_rayleigh_matches_theory(copies):
    """r copies on independent Rayleigh blocks, ZF per copy, MRC: the error variance is mean(w^2)/SNR / sum|h_i|^2,
    whose mean over fades is mean(w^2)/SNR * E[1/Gamma(r, 1)] = mean(w^2)/SNR / (r - 1)."""
    from airnet.delivery.plan import TransmissionPlan
    from airnet.delivery.transmit import transmit_vector
    g = torch.Generator().manual_seed(3)
    n, snr_db = 4096, 10.0                       # 2048 symbols per copy: 32 blocks, so copies see other fades
    w = torch.randn(n, generator=g)
    ch = C.RayleighChannel(block_length=64, equalizer="zf")
    plan = TransmissionPlan.from_repeats(torch.full((n,), copies))
    rx = transmit_vector(w, ch, snr_db, 64, plan, g, combiner="mrc")          # 64 x 32 independent fade sets
    normalized = ((rx - w) ** 2).mean().item() / (w.pow(2).mean().item() / 10 ** (snr_db / 10))
    assert normalized == pytest.approx(1 / (copies - 1), rel=0.1)
    single = transmit_vector(w, ch, snr_db, 64, plan, g, combiner="average")  # equal weights lose the diversity
    assert ((single - w) ** 2).mean().item() > 1.5 * ((rx - w) ** 2).mean().item()


@pytest.mark.parametrize("name", ["awgn", "rayleigh"])
def test_padded_transmissions_of_different_lengths_share_their_draws(name):
    """Common random numbers: with pad_to, reals 0..m of any transmission see the same noise and fades, whatever
    its length, so paired comparisons across schemes pair the same channel draws."""
    from channels import make_channel, transmit_reals
    ch = make_channel(name, equalizer="zf")
    w = torch.randn(3, 4000, generator=torch.Generator().manual_seed(0))
    short, long = w[:, :1000], torch.cat([w[:, :1000], 2 * w[:, 1000:]], dim=1)

    def normalized_error(x):
        rx = transmit_reals(x, ch, 5.0, torch.Generator().manual_seed(9), pad_to=4000)
        return ((rx - x) / x.pow(2).mean(dim=1, keepdim=True).sqrt())[:, :1000]

    assert torch.allclose(normalized_error(short), normalized_error(long), rtol=1e-4, atol=1e-5)
    unpadded = transmit_reals(short, ch, 5.0, torch.Generator().manual_seed(9)) - short     # rows shift
    assert not torch.allclose((unpadded / short.pow(2).mean(dim=1, keepdim=True).sqrt())[1:],
                              normalized_error(long)[1:], atol=1e-3)
