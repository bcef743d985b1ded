"""Noise-injection training cost over clean training: same model, data and steps."""
from __future__ import annotations

import torch

from benchmarks.common import Figure, interleaved


def run(quick: bool = False) -> list[Figure]:
    from channels import make_channel
    from airnet.zoo.data import load_data
    from airnet.zoo.models import build_model
    from airnet.training.noise import ChannelNoise
    from airnet.training.loop import TrainSettings, train_model

    data = load_data("digits")
    settings = TrainSettings(epochs=2 if quick else 5, batch_size=64, lr=3e-3, weight_decay=0.0)
    figs = []
    for name in ("mlp", "cnn"):
        def train(noise: bool):
            torch.manual_seed(0)
            model = build_model(name, data.input_shape, 10)
            g = torch.Generator().manual_seed(0)
            inject = ChannelNoise(make_channel("awgn"), 5.0, generator=g) if noise else None
            train_model(model, data.x_train, data.y_train, settings, g, weight_noise=inject)

        t = interleaved({"clean": lambda: train(False), "noise": lambda: train(True)}, repeats=5)
        figs.append(Figure(f"{name}: noise-injection / clean training", t["noise"], t["clean"], "s",
                           "clean training", "target <= 1.10"))
    return figs
