"""Side information: the mask code against the entropy bound, structured masks, and the budget with it counted."""
import math

import pytest
import torch

from airnet.side_info.mask_code import binary_entropy, code_length, decode_mask, encode_mask, entropy_bound, expected_code_length
from airnet.zoo.models import build_model
from airnet.zoo.params import load_vector, model_vector
from airnet.training.structure import UnitGroups


@pytest.mark.parametrize("p", [0.02, 0.1, 0.3, 0.5, 0.7, 0.95])
def test_mask_code_is_lossless_and_within_a_few_percent_of_the_entropy_bound(p):
    g = torch.Generator().manual_seed(int(p * 1000))
    mask = torch.rand(40_000, generator=g) < p
    bits = encode_mask(mask, [40_000])
    assert torch.equal(decode_mask(bits, [40_000]), mask)
    assert len(bits) == code_length(mask, [40_000])
    # Golomb-coded runs / raw bitmap: at most 3.5 % above n H(p) (measured 0.5-3.2 %)
    assert len(bits) <= 1.035 * entropy_bound(mask) + 64
    assert len(bits) >= entropy_bound(mask) - 64          # no code beats the bound by more than its rounding
    assert expected_code_length(40_000, int(mask.sum())) == pytest.approx(len(bits), rel=0.02)


def test_per_layer_code_exploits_layers_of_different_density():
    g = torch.Generator().manual_seed(0)
    mask = torch.cat([torch.rand(20_000, generator=g) < 0.02, torch.ones(5_000, dtype=torch.bool),
                      torch.rand(10_000, generator=g) < 0.5])
    segments = [20_000, 5_000, 10_000]
    assert torch.equal(decode_mask(encode_mask(mask, segments), segments), mask)
    per_layer = code_length(mask, segments)
    assert per_layer < 0.75 * entropy_bound(mask)          # one i.i.d. code over all would need the global bound
    assert per_layer <= 1.04 * (20_000 * binary_entropy(0.02) + 10_000) + 100


def test_structured_mask_removes_whole_neurons_and_costs_a_few_bits():
    torch.manual_seed(0)
    model = build_model("mlp", (1, 8, 8), 10, hidden=(32,))
    groups = UnitGroups.of(model)
    w = model_vector(model)
    mask = groups.select(w, 1000)
    kept = groups.units_of(mask)
    assert int(mask.sum()) <= 1000 and torch.equal(groups.mask(kept), mask)
    assert groups.code_bits(kept) <= 32 + 2          # one bit per hidden neuron at most
    # the masked network computes exactly what the network with those neurons deleted computes
    small = build_model("mlp", (1, 8, 8), 10, hidden=(int(kept.sum()),))
    lin1, lin2 = model.net[1], model.net[3]
    with torch.no_grad():
        small.net[1].weight.copy_(lin1.weight[kept])
        small.net[1].bias.copy_(lin1.bias[kept])
        small.net[3].weight.copy_(lin2.weight[:, kept])
        small.net[3].bias.copy_(lin2.bias)
    load_vector(model, w * mask)
    x = torch.rand(16, 1, 8, 8)
    assert torch.allclose(model(x), small(x), atol=1e-5)


@pytest.mark.parametrize("name,shape", [("cnn", (1, 8, 8)), ("resnet20", (3, 32, 32))])
def test_unit_groups_of_conv_nets_keep_every_layer_connected(name, shape):
    torch.manual_seed(0)
    model = build_model(name, shape, 10)
    groups = UnitGroups.of(model)
    w = model_vector(model)
    free = int((groups.owners < 0).all(dim=1).sum())
    mask = groups.select(w, free + (w.numel() - free) // 10)
    kept = groups.units_of(mask)
    bounds = torch.cumsum(torch.tensor((0,) + groups.units_per_layer), 0).tolist()
    assert all(bool(kept[a:b].any()) for a, b in zip(bounds[:-1], bounds[1:]))
    assert groups.code_bits(kept) <= groups.num_units + 2 * len(groups.units_per_layer)


def _greedy_reference(groups, w, keep):
    """The structured selection written plainly, unit by unit (the rule :meth:`UnitGroups.select` vectorizes)."""
    owners, U = groups.owners, groups.num_units
    sq = w.double().pow(2)
    owned = [torch.nonzero((owners == u).any(dim=1)).flatten() for u in range(U)]
    score = [float(sq[o].mean()) if o.numel() else 0.0 for o in owned]
    first = torch.cumsum(torch.tensor((0,) + groups.units_per_layer), 0).tolist()
    best = [max(range(a, b), key=lambda u: score[u]) for a, b in zip(first[:-1], first[1:]) if b > a]
    order = sorted(range(U), key=lambda u: -score[u])
    kept, room = set(), keep - int((owners < 0).all(dim=1).sum())
    for u in best + order:
        if u in kept:
            continue
        cost = sum(1 for i in owned[u].tolist() if all(o < 0 or o == u or o in kept for o in owners[i].tolist()))
        if cost <= room:
            kept.add(u)
            room -= cost
    return groups.mask(torch.tensor([u in kept for u in range(U)]))


@pytest.mark.parametrize("name,shape", [("mlp", (1, 8, 8)), ("cnn", (1, 8, 8))])
def test_structured_selection_equals_the_plain_greedy_rule(name, shape):
    torch.manual_seed(1)
    model = build_model(name, shape, 10)
    groups = UnitGroups.of(model)
    w = model_vector(model) * (torch.rand(groups.owners.shape[0]) > 0.2)      # some dead weights: ties at 0
    free = int((groups.owners < 0).all(dim=1).sum())
    for keep in [free, *(free + (w.numel() - free) * k // 7 for k in range(1, 8))]:
        assert torch.equal(groups.select(w, keep), _greedy_reference(groups, w, keep)), keep


@pytest.fixture(scope="module")
def counted(digits):
    from conftest import recipes_and_options
    return recipes_and_options("model=mlp", "model.kwargs.hidden=[32]", "train.epochs=4", "scheme.pruning_kd.steps=1",
                             "scheme.pruning_kd.finetune_epochs=2", "scheme.uep.draws=2", "scheme.spectrum.epochs=2",
                             "scheme.digital_capacity.bits=[2,4]", "scheme.digital_capacity.finetune=false",
                             "scheme.digital_capacity.validation_draws=2", "link.k_max=2048", "side_info.snr_db=design", "side_info.margin_db=0",
                             data=digits)


SCHEMES = ["clean", "noise_injection", "pruning_kd", "pruning_kd_structured", "expansion", "uep", "spectrum",
           "digital_capacity", "digital_ldpc", "digital_amc"]


@pytest.mark.slow
@pytest.mark.parametrize("name", SCHEMES)
def test_channel_uses_with_side_information_never_exceed_the_budget(counted, name):
    from conftest import make
    rec, opts = counted
    for ratio in (0.3, 1.0):
        budget = int(ratio * rec.context.full_channel_uses)
        scheme = make(name, rec, opts, budget)
        for snr in (0.0, 25.0):
            d = scheme.deliver(snr, 2, torch.Generator().manual_seed(0), design_snr_db=5.0)
            assert d.channel_uses <= budget, (name, ratio, snr, d.channel_uses, budget)
            assert 0 <= d.side_info_channel_uses <= d.channel_uses
            if d.info.get("params_sent", 0):
                assert d.side_info_bits >= 32              # at least a scale or a quantization header


@pytest.mark.slow
def test_unstructured_mask_costs_more_than_structured_at_the_same_budget(counted):
    from conftest import make
    rec, opts = counted
    budget = rec.context.full_channel_uses // 2
    d = {n: make(n, rec, opts, budget).deliver(10.0, 2, torch.Generator().manual_seed(0), 10.0)
         for n in ("pruning_kd", "pruning_kd_structured")}
    assert d["pruning_kd"].side_info_bits > 10 * d["pruning_kd_structured"].side_info_bits
    assert d["pruning_kd"].info["params_sent"] < d["pruning_kd_structured"].info["params_sent"]


@pytest.mark.slow
def test_side_information_lost_below_its_design_means_no_model(counted):
    from airnet.schemes import make_scheme
    rec, opts = counted
    scheme = make_scheme("noise_injection", rec.context, rec, opts["noise_injection"], rec.context.full_channel_uses)
    lost = scheme.deliver(-15.0, 4, torch.Generator().manual_seed(0), design_snr_db=20.0)
    assert lost.info["side_info_ok"] == 0.0 and torch.count_nonzero(lost.vectors) == 0
    kept = scheme.deliver(25.0, 4, torch.Generator().manual_seed(0), design_snr_db=20.0)
    assert kept.info["side_info_ok"] == 1.0


@pytest.mark.slow
def test_free_side_information_costs_nothing_and_never_fails(digits):
    from airnet.schemes import make_scheme
    from conftest import recipes_and_options
    rec, opts = recipes_and_options("model=mlp", "model.kwargs.hidden=[32]", "train.epochs=4", "side_info.mode=free",
                                    data=digits)
    d = make_scheme("clean", rec.context, rec, opts["clean"], rec.context.full_channel_uses).deliver(
        -15.0, 2, torch.Generator().manual_seed(0), design_snr_db=20.0)
    assert d.side_info_channel_uses == 0 and d.channel_uses == rec.context.full_channel_uses
    assert d.info["params_sent"] == rec.context.num_params and torch.count_nonzero(d.vectors) > 0


@pytest.mark.slow
def test_side_link_protects_for_the_configured_snr(counted):
    from dataclasses import replace
    from airnet.side_info.protection import SideLink
    rec, _ = counted
    link = rec.context.side_link
    assert link.design(3.0, None).side_snr() == 3.0                       # matched: the actual SNR
    assert link.design(3.0, 10.0).side_snr() == 10.0                     # side_info.snr_db=design
    lowest = SideLink(rec.context.channel, "k", replace(rec.context.side_link.options, snr_db=-8.0), rec.context.side_link.link)
    assert lowest.design(3.0, 10.0).side_snr() == -8.0 and lowest.design(3.0, None).side_snr() == 3.0
    hi, lo = link.transport(200, 20.0), link.transport(200, -5.0)
    assert hi.channel_uses < lo.channel_uses
    assert lo.channel_uses >= math.ceil(200 / rec.context.channel.capacity(-5.0))   # no code beats capacity


@pytest.mark.slow
@pytest.mark.parametrize("name", ["digital_capacity", "digital_amc", "pruning_kd_structured", "clean"])
def test_a_budget_too_small_for_anything_gives_no_model_instead_of_an_error(counted, name):
    from conftest import make
    rec, opts = counted
    d = make(name, rec, opts, 8).deliver(-5.0, 2, torch.Generator().manual_seed(0), design_snr_db=-5.0)
    assert d.channel_uses <= 8 and torch.count_nonzero(d.vectors) == 0


@pytest.mark.slow
def test_a_point_does_not_depend_on_the_grid_and_a_resume_with_another_grid_matches(tmp_path):
    """Side information is protected for a stated SNR (design - margin), never for the grid's lowest point: the
    10 dB row of [0, 10, 20], of [10] alone, and of a resume of the first folder with [10, 30] are the same row."""
    from experiments.sweep import main
    from conftest import compose
    base = ("model=mlp", "model.kwargs.hidden=[16]", "train.epochs=3", "experiment.num_realizations=4",
            "experiment.schemes=[clean,noise_injection]", f"cache_dir={tmp_path}/cache", "progress=false")

    def rows(folder, snrs):
        got = main(compose(*base, f"experiment.snr_db={snrs}"), tmp_path / folder)
        return {(r["scheme"], float(r["snr_db"])): {k: str(v) for k, v in r.items()} for r in got}

    grid = rows("grid", "[0,10,20]")
    alone = rows("alone", "[10]")
    resumed = rows("grid", "[10,30]")                      # the 10 dB rows come from the first run's CSV
    for scheme in ("clean", "noise_injection"):
        assert grid[(scheme, 10.0)] == alone[(scheme, 10.0)] == resumed[(scheme, 10.0)]
        assert float(alone[(scheme, 10.0)]["side_info_snr_db"]) == 5.0 - 5.0        # design 5 dB, margin 5 dB
    assert (("clean", 30.0) in resumed) and len(list((tmp_path / "grid").glob("results.csv"))) == 1


@pytest.mark.slow
def test_degenerate_points_are_warned_with_their_reason_and_carry_the_delivered_fraction(tmp_path, caplog):
    import logging
    from experiments.sweep import main
    from conftest import compose
    cfg = compose("model=mlp", "model.kwargs.hidden=[16]", "train.epochs=2", "experiment.num_realizations=4",
                  "experiment.schemes=[clean]", "experiment.snr_db=[-20,20]", "experiment.bandwidth_ratio=[0.02,1.0]",
                  f"cache_dir={tmp_path}/cache", "progress=false")
    with caplog.at_level(logging.WARNING, logger="airnet"):
        rows = main(cfg, tmp_path / "out")
    by = {(float(r["bandwidth_ratio"]), float(r["snr_db"])): r for r in rows}
    n = 16 * 64 + 16 + 16 * 10 + 10
    tiny, lost, fine = by[(0.02, 20.0)], by[(1.0, -20.0)], by[(1.0, 20.0)]
    assert float(fine["delivered_fraction"]) > 0.5
    assert float(fine["delivered_fraction"]) == pytest.approx(int(fine["params_sent"]) / n, abs=1e-6)
    assert float(tiny["delivered_fraction"]) == 0 == int(tiny["params_sent"])            # 12 channel uses
    assert float(lost["delivered_fraction"]) == 0 == float(lost["side_info_ok"])         # protected for 0 dB
    text = caplog.text
    assert ("clean at 20 dB (ratio 0.02, seed 0) delivers 0.0 % of the weights: not one weight fits the budget of "
            "12 channel uses beside its side information protected for 0 dB") in text
    assert ("clean at -20 dB (ratio 1, seed 0) delivers 0.0 % of the weights: its side information, protected for "
            "0 dB, failed its CRC in 100 % of the draws") in text
    assert "clean at 20 dB (ratio 1," not in text
    assert (tmp_path / "out" / "accuracy_vs_snr.png").exists()


def test_polar_transport_decodes_above_its_threshold_and_erases_below():
    from channels import make_channel
    from airnet.side_info.transports import PolarConfig, PolarTransport
    g = torch.Generator().manual_seed(0)
    t = PolarTransport(PolarConfig(k=100, n=256).for_bits(300))          # 3 blocks of 100 bits, rate ~0.43
    assert (t.config.blocks, t.config.k, t.payload_bits, t.channel_uses) == (3, 100, 300, 3 * 128)
    bits = torch.randint(0, 2, (16, 250), generator=g).float()
    rx, ok = t.send(bits, make_channel("awgn"), 8.0, g)
    assert bool(ok.all()) and torch.equal(rx, bits)
    rx, ok = t.send(bits, make_channel("awgn"), -6.0, g)
    assert not bool(ok.all())                                             # below threshold: blocks erased
    assert torch.equal(rx[ok], bits[ok])                                  # what is not erased is right


def test_robust_polar_respects_capacity_and_grows_with_snr():
    from channels import make_channel
    from airnet.side_info.transports import select_robust_polar
    ch = make_channel("awgn")
    uses = []
    for snr in (-5.0, 0.0, 5.0):
        c = select_robust_polar(ch, snr, 64, 32, 64, torch.Generator().manual_seed(1))
        assert c is not None and c.channel_uses >= 64 / ch.capacity(snr)          # no code beats capacity
        uses.append(c.channel_uses)
    assert uses[0] > uses[1] > uses[2]


def test_nr_side_link_codes_short_messages_with_polar_and_long_ones_with_ldpc():
    from dataclasses import replace
    from channels import make_channel
    from airnet.config.run import SideInfoOptions
    from airnet.side_info.protection import SideLink
    from airnet.config.options import build_options
    from omegaconf import OmegaConf
    from conftest import CONF
    from airnet.side_info.protection import LinkOptions
    link = build_options(LinkOptions, OmegaConf.to_container(OmegaConf.load(f"{CONF}/link/nr.yaml")), "link")
    link = replace(link, selection_trials=16)
    opts = SideInfoOptions("counted", "nr", "design", 5.0)
    side = SideLink(make_channel("awgn"), "awgn", opts, link)
    short, long = side.transport(100, 0.0), side.transport(4000, 5.0)
    ldpc_short = SideLink(make_channel("awgn"), "awgn", replace(opts, link="ldpc"), link).transport(100, 0.0)
    assert short.describe().startswith("polar") and short.channel_uses < ldpc_short.channel_uses
    assert long.describe().startswith("MCS") and long.payload_bits >= 4000


def test_batchnorm_running_statistics_are_paid_side_information():
    from airnet.delivery.plan import TransmissionPlan
    from airnet.side_info.bits import analog_side_info, payload_side_info, state_bits
    from airnet.training.pruning import make_pruner
    from airnet.zoo.models import build_model
    net = build_model("resnet20", (3, 32, 32), 10, width=4, blocks=1)
    bn = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    expected = 32 * sum(2 * m.num_features for m in bn)                     # running mean and variance, float32
    assert state_bits(net) == expected > 0
    n = sum(p.numel() for p in net.parameters())
    side = analog_side_info(net, TransmissionPlan.full(n), make_pruner(net, "unstructured"))
    assert side.parts == {"scale": 32, "state": expected}
    digital = payload_side_info(make_pruner(net, "unstructured"), torch.ones(n, dtype=torch.bool), 10, state_bits(net))
    assert digital.parts["state"] == expected
    assert state_bits(build_model("cnn", (1, 8, 8), 10)) == 0              # the digits models have no buffers


@pytest.mark.slow
def test_common_draws_reduce_the_variance_of_a_paired_difference_on_fading(digits):
    """Noise injection vs clean at one point on Rayleigh: with common draws (the sweep's generator per point) the
    per-draw difference varies less than with independent draws (both networks lose the same weights in a fade)."""
    import statistics
    from conftest import make, recipes_and_options
    from airnet.delivery.evaluation import accuracy_of_vectors
    rec, opts = recipes_and_options("channel=rayleigh", "model=mlp", "model.kwargs.hidden=[32]", "train.epochs=6",
                                    data=digits)
    budget = rec.context.full_channel_uses
    clean, ni = make("clean", rec, opts, budget), make("noise_injection", rec, opts, budget)

    def accs(scheme, seed):
        d = scheme.deliver(10.0, 256, torch.Generator().manual_seed(seed), 5.0)
        return accuracy_of_vectors(d.model, d.vectors, digits.x_test, digits.y_test).tolist()

    a = accs(ni, 1)
    common = statistics.variance([x - y for x, y in zip(a, accs(clean, 1))])
    independent = statistics.variance([x - y for x, y in zip(a, accs(clean, 2))])
    assert common < 0.78 * independent            # below the 95 % range of a variance ratio at 255 / 255 dof
