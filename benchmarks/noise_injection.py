"""Noise-injection training cost over clean training (same model, data, steps), at 6k, 272k and 10M weights: the
fresh stream (one new normal per weight per step, torch.randn's numbers) and ``auto`` (pooled normals from 1M
weights on, :class:`airnet.training.noise.NormalPool`), and the cost of the normals alone against ``normal_``."""
from __future__ import annotations

import torch

from benchmarks.common import Figure, best_of, cifar_like, interleaved


def cases(quick: bool):
    """(label, model factory, x, y, epochs): the digits CNN, ResNet-20 on CIFAR-shaped data, a 10M-weight MLP."""
    from airnet.zoo.data import load_data
    from airnet.zoo.models import build_model

    digits = load_data("digits")
    xc, yc = cifar_like(64 * (2 if quick else 6))
    g = torch.Generator().manual_seed(0)
    xm, ym = torch.randn(64 * (5 if quick else 60), 64, generator=g), torch.randint(0, 10, (64 * (5 if quick else 60),))
    return [("cnn (digits)", lambda: build_model("cnn", digits.input_shape, 10), digits.x_train, digits.y_train,
             1 if quick else 3),
            ("resnet20 (CIFAR-shaped)", lambda: build_model("resnet20", (3, 32, 32), 10), xc, yc, 1),
            ("mlp 64-3072-3072-10", lambda: build_model("mlp", (64,), 10, hidden=(3072, 3072)), xm, ym, 1)]


def run(quick: bool = False) -> list[Figure]:
    from channels import make_channel
    from airnet.zoo.models import num_parameters
    from airnet.training.noise import ChannelNoise
    from airnet.training.loop import TrainSettings, train_model

    figs = []
    for label, make, x, y, epochs in cases(quick):
        n = num_parameters(make())

        def train(stream: str | None) -> None:
            torch.manual_seed(0)
            model = make()
            g = torch.Generator().manual_seed(0)
            inject = None if stream is None else ChannelNoise(make_channel("awgn"), 5.0, generator=g, stream=stream)
            train_model(model, x, y, TrainSettings(epochs, 64, 1e-3, 0.0, "auto", 0, 1e-3, "float32"), g,
                        weight_noise=inject)

        t = interleaved({"clean": lambda: train(None), "fresh": lambda: train("fresh"),
                         "auto": lambda: train("auto")}, repeats=2 if quick else 3)
        auto = ChannelNoise(make_channel("awgn"), 5.0, stream="auto").uses_pool(n, torch.device("cpu"))
        figs += [Figure(f"{label}, {n:,} w: noise injection (fresh) / clean", t["fresh"], t["clean"], "s",
                        "clean training", ""),
                 Figure(f"{label}, {n:,} w: noise injection (auto: {'pool' if auto else 'fresh'}) / clean",
                        t["auto"], t["clean"], "s", "clean training", "target <= 1.2")]
    # the floor of a fresh stream: torch's CPU generator per normal, into a buffer (nothing allocated)
    buf = torch.empty(10_000_000 if not quick else 1_000_000)
    g = torch.Generator().manual_seed(0)
    per = best_of(lambda: buf.normal_(generator=g)) / buf.numel()
    add = best_of(lambda: torch.add(buf, buf, out=buf)) / buf.numel()
    figs.append(Figure("torch normal_ per value / one fused add per value", per * 1e9, add * 1e9, "ns", "add",
                       "why fresh noise costs"))
    return figs
