"""Entropy coding of quantized weights: bits per weight of the coded payload against fixed width and against the
empirical entropy of the codes, per built-in model and bit width, all weights sent.

Not timings: the figures are bits per weight (tables included). ``vs fixed width`` is the saving, ``vs entropy``
how close the coder (with its tables, method signals and 32-bit word alignment) comes to the per-layer empirical
entropy, the floor for a code built on each layer's histogram. Models are trained here (seeded): the CNN and MLP
on the built-in digits (the default ``conf/train`` settings), ResNet-20 for ``RESNET_EPOCHS`` epochs on synthetic
CIFAR-shaped data (no CIFAR ships), so its weights are those of a briefly trained network.
"""
from __future__ import annotations

import torch

from benchmarks.common import Figure, cifar_like

WIDTHS = (2, 4, 8)
RESNET_EPOCHS = 2


def trained(name: str, quick: bool) -> tuple[torch.nn.Module, str]:
    from airnet.training.loop import TrainSettings, train_model
    from airnet.zoo.data import load_digits_data
    from airnet.zoo.models import build_model

    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    if name == "resnet20":
        x, y = cifar_like(256 if quick else 2048)
        model = build_model("resnet20", (3, 32, 32), 10)
        train_model(model, x, y, TrainSettings(RESNET_EPOCHS, 128, 3e-3, 0.0, "fresh", 0, 1e-3, "float32"), g)
        return model, f"synthetic CIFAR, {RESNET_EPOCHS} epochs"
    data = load_digits_data(seed=0)
    model = build_model(name, data.input_shape, 10)
    settings = TrainSettings(5 if quick else 30, 64, 3e-3, 0.0, "fresh", 0, 1e-3, "float32")
    train_model(model, data.x_train, data.y_train, settings, g)
    return model, "digits"


def run(quick: bool = False) -> list[Figure]:
    from airnet.digital.entropy import code_layers, empirical_entropy
    from airnet.digital.quantization import quantize
    from airnet.zoo.params import ParamLayout, model_vector

    figs = []
    for name in ("mlp", "cnn", "resnet20"):
        model, trained_on = trained(name, quick)
        layout = ParamLayout.of(model)
        layer_of = layout.layer_of()
        w = model_vector(model).detach().cpu()
        for b in WIDTHS:
            q = quantize(w, layer_of, b, len(layout.names))
            coded = code_layers(q.codes, layer_of, b, len(layout.names))
            bpw = sum(c.bits for c in coded) / w.numel()
            entropy = sum(empirical_entropy(q.codes[layer_of == i].numpy()) * int((layer_of == i).sum())
                          for i in range(len(layout.names))) / w.numel()
            methods = "/".join(sorted({c.method for c in coded if c.count}))
            label = f"{name} ({w.numel():,} weights, {trained_on}), {b} bits"
            figs.append(Figure(f"{label}: coded vs fixed width", bpw, float(b), "b/w", "fixed width", methods))
            figs.append(Figure(f"{label}: coded vs entropy", bpw, entropy, "b/w", "empirical entropy"))
    return figs
