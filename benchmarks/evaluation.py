"""Scoring K received models: ours vs a naive deep-copy loop and vs K bare forward passes; bfloat16 scoring."""
from __future__ import annotations

import copy

import torch

from benchmarks.common import Figure, interleaved


def run(quick: bool = False) -> list[Figure]:
    from channels import make_channel
    from airnet.zoo.data import load_data
    from airnet.delivery.evaluation import accuracy_of_vectors, pick_strategy
    from airnet.zoo.models import build_model
    from airnet.zoo.params import load_vector, model_vector
    from airnet.training.loop import TrainSettings, train_model
    from airnet.delivery.transmit import transmit_vector

    data = load_data("digits")
    x, y = data.x_test, data.y_test
    k = 16 if quick else 64
    figs = []
    for name in ("mlp", "cnn"):
        torch.manual_seed(0)
        model = build_model(name, data.input_shape, 10)
        train_model(model, data.x_train, data.y_train, TrainSettings(5, 64, 3e-3, 0.0, "fresh"),
                    torch.Generator().manual_seed(0))
        rx = transmit_vector(model_vector(model), make_channel("awgn"), 15.0, k,
                             generator=torch.Generator().manual_seed(0))

        def naive():
            with torch.no_grad():
                return [(load_vector(copy.deepcopy(model), v)(x).argmax(-1) == y).double().mean() for v in rx]

        def bare():
            with torch.no_grad():
                return [model(x).argmax(-1) for _ in range(k)]

        t = interleaved({"auto": lambda: accuracy_of_vectors(model, rx, x, y), "naive": naive, "bare": bare,
                         "bf16": lambda: accuracy_of_vectors(model, rx, x, y, precision="bfloat16")})
        strategy = pick_strategy(model, torch.device("cpu"))
        figs += [Figure(f"{name}: K={k} scoring, naive loop / ours ({strategy})", t["naive"], t["auto"], "s",
                        "ours", "speed-up"),
                 Figure(f"{name}: ours ({strategy}) / K bare forward passes", t["auto"], t["bare"], "s",
                        "K bare passes", "target <= 1.1"),
                 Figure(f"{name}: float32 / bfloat16 scoring (time)", t["auto"], t["bf16"], "s", "bfloat16",
                        "speed-up")]
        full = accuracy_of_vectors(model, rx, x, y)
        half = accuracy_of_vectors(model, rx, x, y, precision="bfloat16")
        figs.append(Figure(f"{name}: bfloat16 accuracy change (images of {len(y)})",
                           float((half - full).abs().max() * len(y)), 1.0, "img", "one image", "max over K"))
    return figs
