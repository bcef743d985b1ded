"""The strongest digital opponent: a capacity bound that bounds, outage on fading, and layered broadcast."""
import math

import pytest
import torch

from channels import make_channel
from airnet.side_info.transports import CapacityTransport


def test_outage_design_holds_its_target_where_the_ergodic_rate_fails_half_the_codewords():
    """Block fading, 5,122 uses (80 blocks of 64): a codeword at the ergodic capacity is in outage about half the
    time; the 1e-3-outage design carries about 78 % of it and fails at about its target. AWGN: no difference."""
    ray = make_channel("rayleigh", block_length=64)
    uses = 5122
    ergodic = CapacityTransport.for_uses(ray, 0.0, uses, "shannon", 1e-3, "ergodic")
    outage = CapacityTransport.for_uses(ray, 0.0, uses, "shannon", 1e-3, "outage", draws=2000)
    assert ergodic.payload_bits == math.floor(uses * ray.capacity(0.0))
    assert 0.72 < outage.payload_bits / ergodic.payload_bits < 0.84
    g = torch.Generator().manual_seed(5)
    at_ergodic = CapacityTransport(ergodic.payload_bits, uses, "shannon", 1e-3, "outage").block_error(ray, 0.0, 4000, g)
    assert 0.4 < float(at_ergodic.mean()) < 0.6
    assert float(outage.block_error(ray, 0.0, 4000, g).mean()) < 4e-3
    assert float(outage.block_error(ray, 10.0, 500, g).mean()) == 0.0          # far above its design
    awgn = make_channel("awgn")
    a, b = (CapacityTransport.for_uses(awgn, 3.0, 1000, "shannon", 1e-3, f) for f in ("ergodic", "outage"))
    assert a.payload_bits == b.payload_bits == math.floor(1000 * math.log2(1 + 10 ** 0.3))
    assert float(b.block_error(awgn, 3.0, 8, g).max()) == 0.0 and float(b.block_error(awgn, 2.9, 8, g).min()) == 1.0


def test_normal_approximation_on_fading_uses_each_codewords_fades():
    ray = make_channel("rayleigh", block_length=64)
    t = CapacityTransport.for_uses(ray, 5.0, 2000, "normal", 1e-2, "outage", draws=2000)
    p = t.block_error(ray, 5.0, 4000, torch.Generator().manual_seed(1))
    assert 0.003 < float(p.mean()) < 0.02 and float(p.min()) < 1e-6 < float(p.max())


def accuracy(delivery, data):
    from airnet.delivery.evaluation import accuracy_of_vectors
    return float(accuracy_of_vectors(delivery.model, delivery.vectors, data.x_test, data.y_test).mean())


@pytest.mark.slow
def test_capacity_bound_is_at_least_amc_at_every_point_and_seed(digits):
    """Matched, ratio 0.5 and 1, two training seeds: the bound's accuracy is never below adaptive MCS's."""
    from conftest import make, recipes_and_options
    from airnet.run.sweep import budget_for
    rec0, opts = recipes_and_options("model=mlp", "model.kwargs.hidden=[24]", "train.epochs=8",
                                     "scheme.pruning_kd.finetune_epochs=3", "scheme.pruning_kd.steps=1",
                                     "scheme.digital_capacity.bits=[1,2,4]", "scheme.digital_capacity.validation_draws=4",
                                     "link.k_max=2048", data=digits)
    seen = []
    for seed in (0, 1):
        rec = rec0.for_seed(seed)
        for ratio in (0.5, 1.0):
            budget = budget_for(ratio, rec.context)
            cap, amc = make("digital_capacity", rec, opts, budget), make("digital_amc", rec, opts, budget)
            for snr in (0.0, 10.0):
                g = rec.context.generator("test", seed, ratio, snr)
                a_cap = accuracy(cap.deliver(snr, 16, g), rec.context.data)
                a_amc = accuracy(amc.deliver(snr, 16, g), rec.context.data)
                seen.append((seed, ratio, snr, a_cap, a_amc))
    assert all(c >= a for *_, c, a in seen), seen
    assert any(c > 0.5 for *_, c, _ in seen)


@pytest.mark.slow
def test_layered_broadcast_serves_its_range_in_steps_where_single_layer_digital_cliffs(digits):
    """digital_layered (1/2/3 bits at 0/10/20 dB, default training): nothing below 0 dB, a model above chance + 0.3
    from 0 dB (0.65 measured), each layer decoding from its own design SNR on; digital AMC designed for 20 dB has
    nothing below 20 dB."""
    from conftest import make, recipes_and_options
    rec, opts = recipes_and_options("scheme.digital_capacity.bits=[2,4]", "scheme.digital_capacity.validation_draws=4",
                                    "scheme.digital_capacity.mixed_precision=false", "link.k_max=2048", data=digits)
    budget = rec.context.full_channel_uses
    layered, amc = make("digital_layered", rec, opts, budget), make("digital_amc", rec, opts, budget)
    chance = 1.0 / digits.num_classes
    acc, layers = {}, {}
    for snr in (-5.0, 0.0, 10.0, 20.0):
        d = layered.deliver(snr, 16, rec.context.generator("layered", snr), design_snr_db=20.0)
        acc[snr], layers[snr] = accuracy(d, digits), d.info["layers_ok"]
        assert d.channel_uses <= budget
    assert layers == {-5.0: "0.000/0.000/0.000", 0.0: "1.000/0.000/0.000", 10.0: "1.000/1.000/0.000",
                      20.0: "1.000/1.000/1.000"}, layers
    assert acc[-5.0] <= chance + 0.05 and acc[0.0] >= chance + 0.3
    assert acc[10.0] >= acc[0.0] + 0.05 and acc[20.0] >= acc[10.0] - 0.03, acc   # the 3rd bit adds little here
    top = {snr: accuracy(amc.deliver(snr, 16, rec.context.generator("amc", snr), design_snr_db=20.0), digits)
           for snr in (0.0, 10.0, 20.0)}
    assert top[0.0] <= chance + 0.05 and top[10.0] <= chance + 0.05 and top[20.0] > acc[20.0], top


def test_screening_fine_tunes_only_the_finalists_fully_and_sends_the_best_of_them(digits):
    """Successive halving: every candidate is screened (one pruning step, ``screen_epochs`` epochs), the
    ``finalists`` best screened ones get the full recipe, and the payload sent is the full fine-tune of one of them,
    bit for bit the model the full recipe gives that candidate without screening."""
    from conftest import make, recipes_and_options
    from airnet.run.sweep import budget_for
    from airnet.training.loop import tally_training
    common = ("model=mlp", "model.kwargs.hidden=[24]", "train.epochs=4", "scheme.pruning_kd.finetune_epochs=2",
              "scheme.pruning_kd.steps=2", "scheme.digital_capacity.bits=[1,2,4]",
              "scheme.digital_capacity.structures=[unstructured]", "scheme.digital_capacity.mixed_precision=false")
    rec, opts = recipes_and_options(*common, "scheme.digital_capacity.screen_epochs=1",
                                    "scheme.digital_capacity.finalists=1", data=digits)
    n_train = len(rec.context.data.y_train)
    cap = make("digital_capacity", rec, opts, budget_for(1.0, rec.context))
    bits = cap.transport(5.0)[0].payload_bits
    dry_rec, _ = recipes_and_options(*common, data=digits)          # its own cache: the dry models stay there
    with tally_training() as tally:              # counts what training would do (models stay untrained)
        make("digital_capacity", dry_rec, opts, budget_for(1.0, dry_rec.context)).payload(bits)
    # the teacher (4 epochs), 3 candidates x (1 step, 1 epoch), 1 finalist x (2 steps, 2 epochs)
    assert (tally.calls, tally.sample_passes) == (1 + 3 + 2, (4 + 3 * 1 + 2 * 2) * n_train)
    assert tally.teacher_passes == n_train     # each fine-tune distils the same teacher: its logits once in all
    model, payload = cap.payload(bits)
    screened = [cap.trained_payload(p, p.bits, bits, screen=True) for p in
                [proxy for _, proxy in cap.candidates(bits)]]
    assert payload is not None and payload.bits == max(zip([a for *_, a in screened], [p.bits for _, p, _ in screened
                                                                                       if p is not None]))[1]
    rec1, opts1 = recipes_and_options(*common, f"scheme.digital_capacity.bits=[{payload.bits}]",
                                      "scheme.digital_capacity.screen_epochs=0", data=digits)
    alone = make("digital_capacity", rec1, opts1, budget_for(1.0, rec1.context)).payload(bits)
    assert alone[1] is not None and torch.equal(alone[1].mask, payload.mask)
    assert all(torch.equal(a, b) for a, b in zip(alone[0].state_dict().values(), model.state_dict().values()))
