"""Noise injection's standard normals: the fresh stream keeps torch.randn's numbers; the pooled stream (large models
on the CPU) is i.i.d. N(0, 1) within a step, uncorrelated across steps, fully redrawn every 8 steps."""
import math

import pytest
import torch
from scipy import stats

from channels import make_channel
from airnet.training.loop import _FlatParams
from airnet.training.noise import POOL_MIN_WEIGHTS, ChannelNoise, NormalPool


def test_pool_windows_are_standard_normal_and_uncorrelated_across_steps():
    n = 40_000
    pool = NormalPool(n, torch.Generator().manual_seed(0))
    first = pool.draw().clone()
    second = pool.draw().clone()
    for z in (first, second):
        assert stats.kstest(z.double().numpy(), "norm").pvalue > 1e-3
    # a weight's values at two steps: correlation within 4 standard errors of 0
    r = float(torch.corrcoef(torch.stack([first, second]))[0, 1])
    assert abs(r) < 4 / math.sqrt(n)
    # the offset moves the window: the values are not those of the last step shifted by nothing
    assert not torch.equal(first, second)


def test_pool_redraws_every_normal_within_its_refresh_cycle():
    pool = NormalPool(1_000, torch.Generator().manual_seed(1))
    start = pool.pool.clone()
    for _ in range(NormalPool.REFRESH_STEPS):
        pool.draw()
    assert not (pool.pool == start).any()


def test_fresh_stream_uses_the_channels_own_draw():
    # the fresh stream's reused buffer gives exactly the numbers of the channel drawing its own normals (torch.randn)
    ch = make_channel("awgn")
    for n in (301, 300):                           # odd: a whole complex symbol's second real is drawn, unused
        w = torch.randn(n)
        a = ChannelNoise(ch, 5.0, generator=torch.Generator().manual_seed(3), stream="fresh").perturbation(w)
        b = ch.reals_perturbation(w, 5.0, torch.Generator().manual_seed(3))
        assert torch.equal(a, b)


@pytest.mark.parametrize("equalizer", ["zf", "mmse"])
def test_pooled_fused_perturbation_has_the_channels_noise_power(equalizer):
    n = 200_000
    ch = make_channel("awgn", equalizer=equalizer)
    w = torch.randn(n) * 0.3
    noise = ChannelNoise(ch, 10.0, generator=torch.Generator().manual_seed(0), stream="pool")
    out = torch.empty(n)
    assert noise.perturbed(w, out) is out
    # ZF: y - w = s z, s^2 = mean(w^2) N0/P; MMSE: c (w + s z) with c = 1/(1 + N0/P)
    n0 = 10 ** -1.0
    c = 1.0 if equalizer == "zf" else 1 / (1 + n0)
    z = (out / c - w) / math.sqrt(float(w.square().mean()) * n0)
    assert abs(float(z.var()) - 1) < 0.02 and abs(float(z.mean())) < 0.01
    assert stats.kstest(z[:20_000].double().numpy(), "norm").pvalue > 1e-3


def test_auto_pools_only_large_vectors_on_cpu_and_only_where_the_channel_takes_normals():
    awgn = ChannelNoise(make_channel("awgn"), 5.0, stream="auto")
    cpu = torch.device("cpu")
    assert awgn.uses_pool(POOL_MIN_WEIGHTS, cpu) and not awgn.uses_pool(POOL_MIN_WEIGHTS - 1, cpu)
    assert not awgn.uses_pool(POOL_MIN_WEIGHTS, torch.device("cuda"))
    assert not ChannelNoise(make_channel("rayleigh"), 5.0, stream="pool").uses_pool(10 ** 8, cpu)
    assert ChannelNoise(make_channel("awgn"), 5.0, stream="pool").uses_pool(10, cpu)
    with pytest.raises(ValueError, match="noise stream must be one of"):
        ChannelNoise(make_channel("awgn"), 5.0, stream="recycled")


def test_flat_params_restore_the_exact_weights_and_pooled_steps_repeat_for_a_seed():
    def steps(seed: int) -> list[torch.Tensor]:
        torch.manual_seed(7)
        lin = torch.nn.Linear(50, 40)
        before = [p.detach().clone() for p in lin.parameters()]
        flat = _FlatParams(list(lin.parameters()))
        noise = ChannelNoise(make_channel("awgn"), 0.0, generator=torch.Generator().manual_seed(seed),
                             stream="pool")
        seen = []
        for _ in range(3):
            flat.perturb(noise)
            seen.append(torch.cat([p.detach().reshape(-1).clone() for p in lin.parameters()]))
            flat.restore()
            assert all(torch.equal(p, b) for p, b in zip(lin.parameters(), before))
        return seen

    a, b = steps(0), steps(0)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(a[0], a[1])


def test_cache_keys_name_the_stream_only_where_it_is_pooled():
    from conftest import recipes_and_options
    small, _ = recipes_and_options("model=mlp")
    assert "noise_stream" not in small.key(label="x")["train"]          # the keys (and seeds) of 0.4.0
    big, _ = recipes_and_options("model=mlp", "model.kwargs.hidden=[1100,1000]")
    assert big.context.num_params >= POOL_MIN_WEIGHTS
    assert big.key(label="x")["train"]["noise_stream"] == "pool"
    fresh, _ = recipes_and_options("model=mlp", "model.kwargs.hidden=[1100,1000]", "train.noise_stream=fresh")
    assert "noise_stream" not in fresh.key(label="x")["train"]


def test_fused_and_two_step_pooled_paths_draw_the_same_stream():
    # an SNR range draws from the generator too: both paths draw the SNR first, then the normals
    w = torch.randn(1000)
    a = ChannelNoise(make_channel("awgn"), (0.0, 10.0), generator=torch.Generator().manual_seed(2), stream="pool")
    b = ChannelNoise(make_channel("awgn"), (0.0, 10.0), generator=torch.Generator().manual_seed(2), stream="pool")
    for _ in range(3):
        fused = a.perturbed(w, torch.empty(1000))
        torch.testing.assert_close(fused, w + b.perturbation(w), rtol=0, atol=1e-6)
