"""OFDM over 3GPP TDL/CDL (Sionna), estimated CSI, pilots in the budget, seeding, lazy import."""
import math
import subprocess
import sys

import pytest
import torch

import channels as C

pytest.importorskip("sionna.phy")


@pytest.fixture(scope="module")
def tdl():
    return C.make_channel("tdl", model="A", speed=3.0)


def test_mean_channel_power_is_normalized():
    for name, model in (("tdl", "A"), ("tdl", "C"), ("cdl", "C")):
        h = C.make_channel(name, model=model).frequency_response(2000, 1, torch.Generator().manual_seed(0))
        assert h.shape == (2000, 14, 72)
        # 72 subcarriers x 30 kHz resolve ~1-2 taps: a slot's power is nearly exponential, so the mean over 2000 slots
        # has a standard error of ~2.5 % (measured 3.5 % per 1000 slots); 0.1 is 4 standard errors
        assert h.abs().pow(2).mean().item() == pytest.approx(1.0, abs=0.1), (name, model)


def test_perfect_csi_at_high_snr_returns_the_weights(tdl):
    from airnet.delivery.transmit import transmit_vector
    w = torch.randn(3001, generator=torch.Generator().manual_seed(0))
    for equalizer in ("zf", "mmse"):
        ch = C.make_channel("tdl", model="A", equalizer=equalizer)
        rx = transmit_vector(w, ch, 80.0, 2, generator=torch.Generator().manual_seed(1))
        assert (rx - w).pow(2).mean().item() < 1e-6


def test_ls_estimation_error_variance_matches_theory_at_the_pilots():
    ch = C.make_channel("tdl", model="C", speed=30.0, csi="estimated")
    g = torch.Generator().manual_seed(0)
    h = ch.frequency_response(200, 2, g)
    data = ch._data_symbol_mask(2)
    for snr_db in (0.0, 10.0):
        n0 = torch.tensor([[10 ** (-snr_db / 10)]])
        h_est, err_var = ch.ls_estimate(h, n0, g, data)
        pilots = ~data
        measured = (h_est[:, pilots] - h[:, pilots]).abs().pow(2).mean().item()
        assert measured == pytest.approx(n0.item(), rel=0.03)          # LS: N0 / P with P = 1
        assert torch.allclose(err_var[pilots], torch.full_like(err_var[pilots], n0.item()))
        assert (err_var[data] <= n0.item() + 1e-9).all()               # interpolation averages two pilots


def test_correlation_across_ofdm_symbols_falls_as_speed_grows():
    corr = []
    for speed in (0.5, 10.0, 60.0):
        h = C.make_channel("tdl", model="A", speed=speed).frequency_response(200, 1, torch.Generator().manual_seed(3))
        a, b = h[:, 0], h[:, 13]                                         # first and last OFDM symbol of a slot
        corr.append(((a.conj() * b).mean().abs() / (a.abs().pow(2).mean() * b.abs().pow(2).mean()).sqrt()).item())
    assert corr[0] > 0.99 and corr[0] > corr[1] > corr[2], corr


def test_seeded_runs_are_bit_identical_and_leave_sionnas_global_stream_alone():
    import sionna.phy as sp
    x = C.complex_normal((3, 2000), torch.Generator().manual_seed(0))
    for name in ("tdl", "cdl"):
        ch = C.make_channel(name, model="B", speed=10.0, csi="estimated")
        state = sp.config.torch_rng("cpu").get_state().clone()
        a = ch.observe(x, 5.0, torch.Generator().manual_seed(7))
        torch.rand(5)                                                    # other randomness in between
        b = ch.observe(x, 5.0, torch.Generator().manual_seed(7))
        c = ch.observe(x, 5.0, torch.Generator().manual_seed(8))
        assert torch.equal(a.y, b.y) and torch.equal(a.h, b.h) and not torch.equal(a.y, c.y), name
        assert torch.equal(state, sp.config.torch_rng("cpu").get_state()), name


def test_pilots_are_counted_in_channel_uses(tdl):
    per_slot_data = 12 * 72
    assert tdl.uses_for(per_slot_data) == 14 * 72                     # a full slot of data: the whole slot
    assert tdl.uses_for(100) == 100 and tdl.uses_for(200) == 200 + 72  # data symbols 0, 1; pilot 2; data 3...
    for n in (1, 100, 5000, 20_000):
        assert tdl.symbols_in(tdl.uses_for(n)) == n
    flat = C.make_channel("rayleigh", block_length=8, csi="estimated")
    assert flat.uses_for(70) == 80 and flat.symbols_in(80) == 70 and flat.symbols_in(81) == 70


def test_flat_estimated_csi_error_and_effective_noise():
    ch = C.make_channel("rayleigh", block_length=4, csi="estimated", equalizer="zf")
    x = C.complex_normal((16, 30_000), torch.Generator().manual_seed(0))
    out = ch.observe(x, 10.0, torch.Generator().manual_seed(1))
    h = C.make_channel("rayleigh", block_length=4)                       # same stream: pilot gains first
    err = out.y / out.h - x
    # ZF with an estimate: the error is (n - e x)/h_est; its variance per |h_est|^2 is the effective noise 2 N0
    normalized = (err.abs().pow(2) * out.h.abs().pow(2)).mean().item()
    assert normalized == pytest.approx(2 * 0.1, rel=0.05) and torch.allclose(out.noise_var, torch.tensor(0.2))
    del h


def test_capacity_of_ofdm_channels_lies_between_rayleigh_and_awgn():
    awgn = C.make_channel("awgn").capacity(10.0)
    ray = C.make_channel("rayleigh").capacity(10.0)
    perfect = C.make_channel("tdl", model="A").capacity(10.0)
    est = C.make_channel("tdl", model="A", csi="estimated").capacity(10.0)
    assert ray * 0.95 < perfect < awgn            # per-RE Rayleigh-like fading (frequency diversity is not coded)
    assert est < perfect


def test_importing_channels_does_not_import_sionna():
    code = "import channels, sys; assert not any(m.startswith('sionna') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_bad_ofdm_options_are_named():
    for kwargs, msg in [({"model": "Z"}, "model must be one of"), ({"pilot_symbols": [14]}, "pilot_symbols"),
                        ({"csi": "none"}, r"TDLChannel implements csi perfect \| estimated, not 'none'"), ({"speed": -1}, "speed"),
                        ({"csi": "estimated", "pilot_symbols": []}, "needs pilot_symbols")]:
        with pytest.raises(ValueError, match=msg):
            C.make_channel("tdl", **kwargs)
    with pytest.raises(ValueError, match=r"AWGNChannel implements csi perfect \| none, not 'estimated'"):
        C.make_channel("awgn", csi="estimated")


@pytest.mark.parametrize("name", ["tdl", "cdl"])
def test_nlos_capacity_is_the_closed_form_and_iid_draws_agree(name):
    """Perfect-CSI NLOS capacity equals e^{1/snr} E1(1/snr)/ln2; 8,000 independent resource elements (one per
    realization, so they are independent) agree within 3 standard errors."""
    import math
    from channels.capacity import rayleigh_ergodic_capacity
    ch = C.make_channel(name, model="A", num_subcarriers=12)
    h = ch.frequency_response(8000, 1, torch.Generator().manual_seed(0))[:, 0, 0].to(torch.complex128)
    for snr_db in (0.0, 20.0):
        snr = 10 ** (snr_db / 10)
        assert ch.capacity(snr_db) == rayleigh_ergodic_capacity(snr)
        c = torch.log2(1 + h.abs() ** 2 * snr)
        assert abs(float(c.mean()) - ch.capacity(snr_db)) < 3 * float(c.std()) / math.sqrt(len(c)), snr_db


def test_nr_slot_timing_includes_the_cyclic_prefix():
    for scs, slot in ((15e3, 1e-3), (30e3, 0.5e-3), (120e3, 0.125e-3)):
        assert C.make_channel("tdl", subcarrier_spacing=scs).slot_duration == pytest.approx(slot, rel=1e-12)


@pytest.mark.slow
def test_cdl_ue_moving_along_the_ground_decorrelates_as_jakes():
    """CDL-A at 30 m/s, 3.5 GHz: the time correlation of one subcarrier follows J0(2 pi f_D tau) when the UE moves
    horizontally (the default), and stays far above it with Sionna's 3-D random direction (part of the speed
    points away from the nearly horizontal arrivals)."""
    import math
    from scipy.special import j0
    lags = (14, 21, 28)
    corr = {}
    for direction in ("horizontal", "random_3d"):
        ch = C.make_channel("cdl", model="A", speed=30.0, direction=direction, num_subcarriers=12)
        h = ch.frequency_response(2048, 3, torch.Generator().manual_seed(1))
        power = (h[:, 0].abs() ** 2).mean()
        corr[direction] = [float(((h[:, lag] * h[:, 0].conj()).mean() / power).real) for lag in lags]
    fd = 30.0 * 3.5e9 / 299792458.0
    jakes = [j0(2 * math.pi * fd * lag * ch.symbol_duration) for lag in lags]
    assert all(abs(c - j) < 0.09 for c, j in zip(corr["horizontal"], jakes)), (corr, jakes)
    assert all(c3 > j + 0.15 for c3, j in zip(corr["random_3d"][1:], jakes[1:])), (corr, jakes)
    with pytest.raises(ValueError, match="direction must be one of"):
        C.make_channel("cdl", direction="up")
