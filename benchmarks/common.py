"""Shared helpers: best-of-n timing and the result figure."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable


@dataclass
class Figure:
    """One measured figure: ``value`` against ``reference`` (same unit), their ratio, and the issue's target."""

    name: str
    value: float
    reference: float
    unit: str
    reference_name: str
    target: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.reference if self.reference else float("nan")

    def row(self) -> str:
        return (f"{self.name:<52} {self.value:>10.4g} {self.unit:<4} vs {self.reference_name:<22} "
                f"{self.reference:>10.4g}  ratio {self.ratio:6.2f}x  {self.target}")


def best_of(fn: Callable[[], object], repeats: int = 3) -> float:
    """Shortest wall time of ``repeats`` calls after one warm-up call (seconds)."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def interleaved(fns: dict[str, Callable[[], object]], repeats: int = 3) -> dict[str, float]:
    """Best times of several functions measured in alternation, so load changes hit all of them alike."""
    for fn in fns.values():
        fn()
    best = {k: float("inf") for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t)
    return best


def cifar_like(n: int, seed: int = 0):
    """``n`` learnable CIFAR-shaped images and labels (no CIFAR ships): x [n, 3, 32, 32] float32, y [n] long; the
    class shifts the mean, so a network trained on it learns (its weights are not those of random training)."""
    import torch

    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 10, (n,), generator=g)
    x = torch.randn(n, 3, 32, 32, generator=g) * 0.5 + (y.float() / 10.0)[:, None, None, None]
    return x, y


def matmul_peak(size: int = 1024) -> float:
    """This process's float32 matmul rate (FLOP/s, best of 3): the compute floor figures are measured against."""
    import torch

    a = torch.randn(size, size)
    return 2 * size ** 3 / best_of(lambda: a @ a)


def forward_flops(model, x1) -> int:
    """FLOPs of one forward pass on ``x1`` (a batch of one): 2 x multiply-adds of every conv and linear layer."""
    import torch

    total = [0]

    def hook(mod, inp, out):
        if isinstance(mod, torch.nn.Conv2d):
            k = mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]
            total[0] += 2 * out.numel() * k
        elif isinstance(mod, torch.nn.Linear):
            total[0] += 2 * out.numel() * mod.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    try:
        with torch.no_grad():
            model.eval()(x1)
    finally:
        for h in handles:
            h.remove()
    return total[0]


def layer_floor(model, xb, backward: bool) -> float:
    """Seconds of ``model``'s conv and linear layers alone on batch ``xb``, each run in isolation on its own input
    (recorded in one forward pass, in the layout the model takes), forward only or forward + backward: a floor
    for the whole network's pass that the kernels' own speed sets (oneDNN's 3x3 convolutions beat the dense
    matmul rate, so FLOPs at that rate are no floor for them)."""
    import torch
    import torch.nn.functional as F

    from airnet.zoo.models import as_model_input

    calls: list[tuple[torch.nn.Module, torch.Tensor]] = []

    def hook(mod, inp, out):
        if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear)):
            calls.append((mod, inp[0].detach()))

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    try:
        with torch.no_grad():
            model.eval()(as_model_input(model, xb))
    finally:
        for h in handles:
            h.remove()
    total = 0.0
    for i, (mod, inp) in enumerate(calls):
        w = mod.weight.detach().clone().requires_grad_(backward)
        b = None if mod.bias is None else mod.bias.detach().clone().requires_grad_(backward)
        x = inp.clone().requires_grad_(backward and i > 0)        # no gradient for the images themselves

        def op(mod=mod, x=x, w=w, b=b):
            if isinstance(mod, torch.nn.Conv2d):
                return F.conv2d(x, w, b, mod.stride, mod.padding, mod.dilation, mod.groups)
            return F.linear(x, w, b)

        if backward:
            grad = torch.ones_like(op())

            def run(op=op, grad=grad):
                op().backward(grad)
        else:
            def run(op=op):
                with torch.no_grad():
                    op()
        total += best_of(run)
    return total
