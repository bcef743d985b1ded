"""Scoring K received models at 6k, 272k and 10M weights: the measured plan (``tune_scoring``) against K bare
forward passes, against the FLOP floor (forward FLOPs at this process's matmul rate), for conv nets against their
layers alone (``layer_floor``: on AVX-512, 3x3 convolutions beat the matmul rate, so FLOPs there are no floor), and
against the fixed rule it replaced (1,024-image batches, grouped for models with ``forward_grouped``); bfloat16
scoring on the digits, and where the CPU computes bfloat16, its speed at each size."""
from __future__ import annotations

import torch

from benchmarks.common import Figure, cifar_like, forward_flops, interleaved, layer_floor, matmul_peak


def cases(quick: bool):
    """(label, model, x, y): digits MLP and CNN, ResNet-20 on CIFAR-shaped images, a 10M-weight MLP."""
    from airnet.zoo.data import load_data
    from airnet.zoo.models import build_model

    d = load_data("digits")
    torch.manual_seed(0)
    # large models: fewer images (the cost per image and draw is what matters; ~2 min each at these sizes)
    xc, yc = cifar_like(128 if quick else 512)
    xm = torch.randn(128 if quick else 512, 64, generator=torch.Generator().manual_seed(0))
    return [("mlp (digits)", build_model("mlp", d.input_shape, 10), d.x_test, d.y_test),
            ("cnn (digits)", build_model("cnn", d.input_shape, 10), d.x_test, d.y_test),
            ("resnet20 (CIFAR-shaped)", build_model("resnet20", (3, 32, 32), 10), xc, yc),
            ("mlp 64-3072-3072-10", build_model("mlp", (64,), 10, hidden=(3072, 3072)), xm,
             torch.randint(0, 10, (len(xm),)))]


def run(quick: bool = False) -> list[Figure]:
    from channels import make_channel
    from airnet.delivery.evaluation import accuracy_of_vectors, tune_scoring
    from airnet.delivery.transmit import transmit_vector
    from airnet.zoo.models import num_parameters
    from airnet.zoo.params import model_vector

    from airnet.zoo.precision import native_bf16

    peak = matmul_peak()
    figs = [Figure("float32 matmul rate (1024^3)", peak / 1e9, 1.0, "GF/s", "1 GFLOP/s", "the floor's rate")]
    bf16_hardware = native_bf16(torch.device("cpu"))
    for label, model, x, y in cases(quick):
        model.eval()
        n = num_parameters(model)
        k = (8 if quick else 32) if n < 100_000 else 8
        rx = transmit_vector(model_vector(model), make_channel("awgn"), 15.0, k,
                             generator=torch.Generator().manual_seed(0))
        plan = tune_scoring(model, x)
        old = dict(strategy="grouped" if hasattr(model, "forward_grouped") else "copy", batch_size=1024,
                   realization_chunk=64)

        def bare():
            with torch.no_grad():
                return [model(x).argmax(-1) for _ in range(k)]

        t = interleaved({"tuned": lambda: accuracy_of_vectors(model, rx, x, y), "bare": bare,
                         "old": lambda: accuracy_of_vectors(model, rx, x, y, **old)}, repeats=2 if quick or n > 100_000 else 3)
        floor = k * len(x) * forward_flops(model, x[:1]) / peak
        name = f"{label}, {n:,} w, K={k} x {len(x)} images"
        figs += [Figure(f"{name}: tuned ({plan.strategy}, batch {plan.batch_size}) / K bare passes", t["tuned"],
                        t["bare"], "s", "K bare passes", "target <= 1"),
                 Figure(f"{name}: tuned / FLOP floor", t["tuned"], floor, "s", "FLOPs at matmul rate",
                        "share of peak = 1/ratio"),
                 Figure(f"{name}: fixed rule (batch 1024) / tuned", t["old"], t["tuned"], "s", "tuned", "speed-up")]
        # conv nets scored model by model (the digits models stack K in one op, below a per-model floor):
        # oneDNN's 3x3 convolutions may beat the matmul rate, so their layers alone are the floor
        if x.dim() == 4 and n >= 100_000:
            kernels = layer_floor(model, x[:64], backward=False) / min(64, len(x)) * k * len(x)
            figs.append(Figure(f"{name}: tuned / its layers alone", t["tuned"], kernels, "s", "layers alone, fwd",
                               "kernel floor"))
        if bf16_hardware:          # bfloat16 at its own measured plan, where the hardware computes it
            half_plan = tune_scoring(model, x, precision="bfloat16")
            t16 = interleaved({"float32": lambda: accuracy_of_vectors(model, rx, x, y),
                               "bfloat16": lambda: accuracy_of_vectors(model, rx, x, y, precision="bfloat16")},
                              repeats=2 if quick or n > 100_000 else 3)
            figs.append(Figure(f"{name}: bfloat16 (copy, batch {half_plan.batch_size}) / float32 tuned", t16["bfloat16"],
                               t16["float32"], "s", "float32 tuned", "speed-up; changes results"))
        if label.endswith("(digits)"):
            full = accuracy_of_vectors(model, rx, x, y)
            half = accuracy_of_vectors(model, rx, x, y, precision="bfloat16")
            figs.append(Figure(f"{label}: bfloat16 accuracy change (images of {len(y)})",
                               float((half - full).abs().max() * len(y)), 1.0, "img", "one image", "max over K"))
    return figs
