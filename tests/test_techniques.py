import pytest
import torch

from channels import make_channel
from airnet.delivery.plan import expansion_keep, layer_expansion_plan, uniform_expansion_plan
from airnet.zoo.models import build_model
from airnet.zoo.params import ParamLayout, model_vector
from airnet.training.pruning import iterative_prune, magnitude_mask, prune_schedule
from airnet.schemes import make_scheme
from airnet.training.spectrum import Spectrum, SpectrumLevel
from airnet.delivery.plan import TransmissionPlan
from airnet.delivery.transmit import transmit_vector
from airnet.training.uep import allocate_expansion
from airnet.training.distillation import distillation_loss
from conftest import recipes_and_options


@pytest.mark.parametrize("keep", [0, 1, 17, 999, 1000])
def test_magnitude_mask_keeps_exactly_budget_even_with_ties(keep):
    w = torch.zeros(1000)
    w[:300] = torch.arange(300.0)  # 700 tied zeros
    m = magnitude_mask(w, keep)
    assert int(m.sum()) == keep
    if 0 < keep <= 299:
        assert m[300 - keep:300].all()  # the largest ones


def test_iterative_prune_meets_budget_exactly():
    torch.manual_seed(0)
    model = build_model("mlp", (1, 8, 8), 10)
    seen = []
    mask = iterative_prune(model, 1234, 3, lambda m, mk: seen.append(int(mk.sum())))
    assert int(mask.sum()) == 1234 and seen[-1] == 1234 and seen == sorted(seen, reverse=True)
    w = model_vector(model)
    assert int((w != 0).sum()) <= 1234 and torch.all(w[~mask] == 0)
    assert prune_schedule(1000, 100, 2) == [316, 100]


@pytest.mark.parametrize("factor", [2, 4])
def test_expansion_combining_divides_noise_variance_by_factor(factor, gen):
    w = torch.randn(5000, generator=gen)
    ch = make_channel("awgn")
    plain = transmit_vector(w, ch, 5.0, 64, TransmissionPlan.full(5000), gen)
    plan = uniform_expansion_plan(torch.ones(5000, dtype=torch.bool), factor)
    assert plan.num_reals == 5000 * factor
    expanded = transmit_vector(w, ch, 5.0, 64, plan, gen)
    ratio = (plain - w).pow(2).mean() / (expanded - w).pow(2).mean()
    assert ratio.item() == pytest.approx(factor, rel=0.03)


def test_mmse_combining_on_fading_matches_diversity_theory(gen):
    from scipy import integrate, stats
    w = torch.randn(4000, generator=gen)
    ch = make_channel("rayleigh", block_length=1, equalizer="mmse")
    for r in (1, 3):
        rx = transmit_vector(w, ch, 0.0, 32, uniform_expansion_plan(torch.ones(4000, dtype=torch.bool), r), gen)
        nmse = ((rx - w).pow(2).mean() / w.pow(2).mean()).item()
        # MMSE over r independent Rayleigh branches at SNR 1: E[1/(1+X)], X ~ Gamma(r, 1)
        theory = integrate.quad(lambda x: stats.gamma.pdf(x, r) / (1 + x), 0, float("inf"))[0]
        assert nmse == pytest.approx(theory, rel=0.03), (r, nmse, theory)


def test_uep_allocation_never_exceeds_budget():
    g = torch.Generator().manual_seed(0)
    for _ in range(200):
        L = int(torch.randint(1, 8, (1,), generator=g))
        sizes = torch.randint(0, 500, (L,), generator=g)
        sens = torch.rand(L, generator=g) * torch.randint(0, 2, (L,), generator=g)
        budget = int(sizes.sum()) + int(torch.randint(0, 3000, (1,), generator=g))
        r = allocate_expansion(sizes, sens, budget, max_factor=8)
        assert int((sizes * r).sum()) <= budget and (r >= 1).all() and (r <= 8).all()
    # the most sensitive layer per weight gets the most copies
    r = allocate_expansion(torch.tensor([100, 100]), torch.tensor([10.0, 1.0]), 500)
    assert r[0] > r[1] and int((torch.tensor([100, 100]) * r).sum()) <= 500
    with pytest.raises(ValueError, match="budget is 50"):
        allocate_expansion(torch.tensor([40, 40]), torch.tensor([1.0, 1.0]), 50)


def test_layer_plan_counts():
    layer_of = torch.tensor([0, 0, 1, 1, 1])
    mask = torch.tensor([True, False, True, True, False])
    plan = layer_expansion_plan(mask, layer_of, torch.tensor([3, 2]))
    assert plan.repeats.tolist() == [3, 0, 2, 2, 0] and plan.num_reals == 7 and plan.channel_uses == 4
    assert expansion_keep(101, 4) == 25


def test_distillation_loss_is_zero_kl_for_identical_logits():
    s = torch.randn(8, 10)
    y = torch.randint(0, 10, (8,))
    ce = torch.nn.functional.cross_entropy(s, y)
    assert distillation_loss(s, s, y, 4.0, 0.5).item() == pytest.approx(0.5 * ce.item(), rel=1e-5)
    assert distillation_loss(s, s + torch.randn(8, 10), y, 4.0, 1.0) > 0


def _setup(digits, *extra):
    return recipes_and_options("model=mlp", "model.kwargs.hidden=[32]", "train.epochs=10", "side_info.snr_db=design", "side_info.margin_db=0", *extra,
                             "scheme.pruning_kd.steps=2", "scheme.pruning_kd.finetune_epochs=3", "scheme.uep.draws=2",
                             "scheme.spectrum.epochs=6",
                             "scheme.spectrum.levels=[{snr_db:0.0,factor:4},{snr_db:10.0,factor:1}]", data=digits)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["pruning_kd", "expansion", "uep", "spectrum"])
def test_technique_schemes_respect_budget_and_work(digits, name):
    rec, opts = _setup(digits)
    budget = rec.context.full_channel_uses // 3
    scheme = make_scheme(name, rec.context, rec, opts[name], budget)
    d = scheme.deliver(30.0, 4, torch.Generator().manual_seed(0), design_snr_db=30.0)
    assert d.channel_uses <= budget and d.vectors.shape == (4, rec.context.num_params)
    from airnet.delivery.evaluation import accuracy_of_vectors
    acc = accuracy_of_vectors(d.model, d.vectors, digits.x_test, digits.y_test).mean().item()
    noiseless = scheme.deliver(120.0, 1, torch.Generator().manual_seed(0), design_snr_db=30.0)  # same network
    ref = accuracy_of_vectors(d.model, noiseless.vectors, digits.x_test, digits.y_test).item()
    # the network keeps 1/3 (pruning_kd) or 1/6 (expansion, uep) of its weights: measured 0.89 and 0.70 noiseless;
    # delivery at 30 dB costs at most 2 points of that, and the pruned network is far above chance (0.1)
    assert ref > 0.6 and acc > ref - 0.02, (acc, ref)


@pytest.mark.slow
def test_spectrum_gives_working_network_for_each_level(digits):
    from airnet.delivery.evaluation import accuracy_of_vectors
    from airnet.side_info.protection import Design
    rec, opts = _setup(digits, "side_info.mode=free")      # the training itself; side information below
    budget = rec.context.full_channel_uses // 2
    scheme = make_scheme("spectrum", rec.context, rec, opts["spectrum"], budget)
    model, spec = scheme.spectrum(Design(30.0))
    for level in spec.levels:
        plan = spec.plan(level)
        assert plan.channel_uses <= budget
        assert int(plan.repeats.max()) == level.factor
        accs = []
        for snr in (level.snr_db, 40.0):
            rx = transmit_vector(model_vector(model), rec.context.channel, snr, 16, plan, torch.Generator().manual_seed(1))
            accs.append(accuracy_of_vectors(model, rx, digits.x_test, digits.y_test).mean().item())
        # chance is 0.1; the smallest level keeps 1/8 of the weights (measured ~0.48 at 0 dB, ~0.75 at 40 dB)
        assert accs[0] > 0.3 and accs[1] > 0.6, (level, accs)
    assert spec.level_for(-20).factor == 4 and spec.level_for(5).factor == 4 and spec.level_for(12).factor == 1
    mem = spec.memory(rec.context.num_params)
    assert mem["saved_bytes"] == 2 * rec.context.num_params * 4 - rec.context.num_params * 8
    # counted side information (the level's nested mask, protected at the level's SNR) shrinks every level
    counted_rec, counted_opts = _setup(digits)
    counted = make_scheme("spectrum", counted_rec.context, counted_rec, counted_opts["spectrum"], budget)
    spec_c = counted.spectrum(Design(30.0))[1]
    for level in spec.levels:
        assert spec_c.keep(level) < spec.keep(level)
    d = counted.deliver(10.0, 2, torch.Generator().manual_seed(0))
    assert d.channel_uses <= budget and d.side_info_bits > 0 and d.side_info_channel_uses > 0


def test_spectrum_rejects_level_without_weights():
    with pytest.raises(ValueError, match="every level leaves no weight"):
        Spectrum(torch.arange(10), [SpectrumLevel(0.0, 8)], budget_reals=4)


def test_distillation_computes_the_teachers_logits_once_per_training_and_trains_the_same(digits):
    """The teacher is fixed and so are the data: its logits once per training (in the steps' batch size), not per
    step. The student equals, bit for bit, one trained with the teacher run on every step's batch."""
    import torch
    from conftest import train_settings
    from airnet.training.distillation import distillation_loss
    from airnet.training.loop import Distillation, train_model
    from airnet.zoo.models import build_model

    x, y = digits.x_train[:300], digits.y_train[:300]
    torch.manual_seed(0)
    teacher = build_model("mlp", tuple(x.shape[1:]), 10, hidden=[16]).eval()
    calls = []
    teacher.register_forward_hook(lambda m, inp, out: calls.append(inp[0].shape[0]))
    settings = train_settings(epochs=3, batch_size=64)
    torch.manual_seed(1)
    student = build_model("mlp", tuple(x.shape[1:]), 10, hidden=[16])
    start = {k: v.clone() for k, v in student.state_dict().items()}
    train_model(student, x, y, settings, torch.Generator().manual_seed(2), distill=Distillation(teacher, 4.0, 0.7))
    assert sum(calls) == 300 and len(calls) == 5                         # one pass over the data, 3 epochs

    # the reference: the same loop by hand, the teacher on every step's batch
    ref = build_model("mlp", tuple(x.shape[1:]), 10, hidden=[16])
    ref.load_state_dict(start)
    g = torch.Generator().manual_seed(2)
    opt = torch.optim.Adam(ref.parameters(), lr=settings.lr, foreach=True)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=settings.epochs)
    for _ in range(settings.epochs):
        perm = torch.randperm(300, generator=g)
        for i in range(0, 300, 64):
            idx = perm[i:i + 64]
            with torch.no_grad():
                soft = teacher(x[idx])
            loss = distillation_loss(ref(x[idx]), soft, y[idx], 4.0, 0.7)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    assert all(torch.equal(a, b) for a, b in zip(student.state_dict().values(), ref.state_dict().values()))


def test_noise_injection_fine_tuned_from_the_clean_model_has_its_own_keys_and_epochs(digits):
    from airnet.training.loop import tally_training
    scratch, _ = recipes_and_options("train.epochs=4")
    tuned, _ = recipes_and_options("train.epochs=4", "train.noise_finetune_epochs=2", "train.noise_finetune_lr=0.002")
    # from scratch (the default): the keys of every model are those without the option
    assert scratch.noise_start() == {} and "noise_finetune_epochs" not in scratch.key(label="x")["train"]
    assert tuned.key(label="clean") == scratch.key(label="clean")            # the teacher (and digital) unchanged
    assert tuned.noise_start() == {"noise_from_clean": {"epochs": 2, "lr": 0.002}}
    n = len(digits.y_train)
    for recipes, passes in ((scratch, 4 * n), (tuned, (4 + 2) * n)):       # the fine-tune trains the teacher first
        with tally_training() as tally:
            recipes.noise_injected(5.0)
        assert (tally.calls, tally.sample_passes) == ((1, passes) if recipes is scratch else (2, passes))
    # trained for real (fresh recipes: the tallied models above stay untrained in their caches): it starts from the
    # teacher and moves away from it; a model from scratch is another one
    scratch, _ = recipes_and_options("train.epochs=4")
    tuned, _ = recipes_and_options("train.epochs=4", "train.noise_finetune_epochs=2", "train.noise_finetune_lr=0.002")
    teacher, model = model_vector(tuned.teacher()), model_vector(tuned.noise_injected(5.0))
    assert 0 < (model - teacher).norm() < 0.5 * teacher.norm()
    assert (model - teacher).norm() < (model_vector(scratch.noise_injected(5.0)) - teacher).norm()
