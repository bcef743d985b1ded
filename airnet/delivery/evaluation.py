"""Accuracy of received models, vectorized over K channel realizations with ``torch.func.vmap``."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn
from torch.func import vmap

from channels import Channel
from airnet.zoo.params import ParamLayout, call_with_vector, check_model_data
from airnet.delivery.plan import TransmissionPlan
from airnet.delivery.transmit import transmit_vector


@dataclass(frozen=True)
class AccuracyStats:
    """Accuracy over K channel realizations."""

    mean: float
    std: float
    per_realization: tuple[float, ...]

    @classmethod
    def of(cls, accs: torch.Tensor) -> "AccuracyStats":
        accs = accs.double()
        std = float(accs.std(unbiased=True)) if accs.numel() > 1 else 0.0
        return cls(float(accs.mean()), std, tuple(accs.tolist()))


STRATEGIES = ("auto", "grouped", "copy", "vmap", "loop")
PRECISIONS = ("float32", "bfloat16")


def cpu_has_bf16() -> bool | None:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX; from ``/proc/cpuinfo``); None where that
    cannot be read (not Linux)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return None
    return "avx512_bf16" in flags or "amx_bf16" in flags


def effective_precision(precision: str, device: torch.device) -> str:
    """``precision``, except ``bfloat16`` on a CPU without native bfloat16, where it is emulated and 8-21x slower
    than float32 (measured on AVX2): a warning, and float32."""
    if precision == "bfloat16" and device.type == "cpu" and cpu_has_bf16() is False:
        import logging

        logging.getLogger("airnet").warning("eval_precision=bfloat16: this CPU has no native bfloat16 (no AVX512-BF16 "
                                            "or AMX), where it runs 8-21x slower than float32; scoring in float32")
        return "float32"
    return precision


def pick_strategy(model: nn.Module, device: torch.device) -> str:
    """The fastest measured strategy (benchmarks/evaluation.py): ``grouped`` for models that provide
    ``forward_grouped(params, x)`` (the built-in MLP and CNN: several realizations as one stacked or grouped
    product; faster than K plain passes); otherwise on the CPU ``copy`` (weights copied into one model, plain
    forward passes) for convolutional models, whose K-times larger vmap activations fall out of cache, and
    ``vmap`` for the rest and on accelerators, where one batched pass fills the device."""
    if hasattr(model, "forward_grouped"):
        return "grouped"
    has_conv = any(isinstance(m, nn.modules.conv._ConvNd) for m in model.modules())
    return "copy" if has_conv and device.type == "cpu" else "vmap"


@torch.no_grad()
def accuracy_of_vectors(model: nn.Module, vecs: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                        batch_size: int = 1024, realization_chunk: int = 64, strategy: str = "auto",
                        precision: str = "float32") -> torch.Tensor:
    """Accuracy of ``model`` with each flat parameter vector of ``vecs``.

    Input
    -----
    model : nn.Module
    vecs : [K, n], float
        One parameter vector per channel realization.
    x : [N, ...], float; y : [N], long
    strategy : "auto" | "grouped" | "copy" | "vmap" | "loop"
        Same results, different speed (:func:`pick_strategy`).
    precision : "float32" | "bfloat16"
        Scoring precision; bfloat16 (with channels_last for conv nets) is faster and may flip a few
        borderline predictions (measured in benchmarks/evaluation.py).

    Output
    ------
    : [K], float64 accuracies
    """
    if vecs.dim() != 2:
        raise ValueError(f"vecs must be [K, n], got shape {tuple(vecs.shape)}")
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {STRATEGIES}")
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {PRECISIONS}")
    model.eval()
    check_model_data(model, x)
    vecs = vecs.to(x.device)
    layout = ParamLayout.of(model)
    if vecs.shape[1] != layout.total:
        raise ValueError(f"vectors have {vecs.shape[1]} entries, the model has {layout.total} parameters")
    chosen = pick_strategy(model, vecs.device) if strategy == "auto" else strategy
    if precision == "bfloat16" or chosen == "copy":
        return _accuracy_by_copy(model, vecs, x, y, batch_size, precision, layout)
    if chosen == "loop":
        return accuracy_of_vectors_loop(model, vecs, x, y, batch_size)
    if chosen == "grouped" and not hasattr(model, "forward_grouped"):
        raise ValueError(f"strategy 'grouped' needs a model with forward_grouped(params, x); "
                         f"{type(model).__name__} has none")
    correct = torch.zeros(vecs.shape[0], dtype=torch.long, device=vecs.device)

    def predict(v: torch.Tensor, xb: torch.Tensor) -> torch.Tensor:
        return call_with_vector(model, v, xb, layout).argmax(dim=-1)

    batched: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    if chosen == "grouped":
        grouped = getattr(model, "forward_grouped")          # checked above

        def batched(v: torch.Tensor, xb: torch.Tensor) -> torch.Tensor:
            return grouped(layout.unflatten(v), xb).argmax(dim=-1)
    else:
        batched = vmap(predict, in_dims=(0, None))
    for k in range(0, vecs.shape[0], realization_chunk):
        vk = vecs[k:k + realization_chunk]
        for i in range(0, x.shape[0], batch_size):
            pred = batched(vk, x[i:i + batch_size])
            correct[k:k + vk.shape[0]] += (pred == y[i:i + batch_size]).sum(dim=1)
    return correct.double().cpu() / x.shape[0]


def _accuracy_by_copy(model: nn.Module, vecs: torch.Tensor, x: torch.Tensor, y: torch.Tensor, batch_size: int,
                      precision: str, layout: ParamLayout) -> torch.Tensor:
    """Copy each vector into one working copy of the model and run plain forward passes (no functional_call)."""
    work = copy.deepcopy(model)
    params: list[torch.Tensor] = list(work.parameters())
    if precision == "bfloat16":
        work = work.to(torch.bfloat16)
        x = x.to(torch.bfloat16)
        if x.dim() == 4:
            work = work.to(memory_format=torch.channels_last)   # type: ignore[call-overload]  # torch's stub lacks it
            x = x.contiguous(memory_format=torch.channels_last)
        params = list(work.parameters())
    preds = torch.empty(vecs.shape[0], x.shape[0], dtype=torch.long, device=vecs.device)
    for k, v in enumerate(vecs):
        torch._foreach_copy_(params, list(layout.unflatten(v).values()))     # registration order = params order
        for i in range(0, x.shape[0], batch_size):
            preds[k, i:i + batch_size] = work(x[i:i + batch_size]).argmax(-1)
    return (preds == y).sum(dim=1).double().cpu() / x.shape[0]


@torch.no_grad()
def accuracy_of_vectors_loop(model: nn.Module, vecs: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                             batch_size: int = 1024) -> torch.Tensor:
    """Same as :func:`accuracy_of_vectors` with a Python loop of ``functional_call`` passes: [K]."""
    model.eval()
    layout = ParamLayout.of(model)
    correct = torch.zeros(vecs.shape[0], dtype=torch.long, device=vecs.device)
    for k, v in enumerate(vecs):
        for i in range(0, x.shape[0], batch_size):
            correct[k] += (call_with_vector(model, v, x[i:i + batch_size], layout).argmax(-1)
                           == y[i:i + batch_size]).sum()
    return correct.double().cpu() / x.shape[0]


def evaluate_over_channel(model: nn.Module, w: torch.Tensor, channel: Channel, snr_db: float,
                          num_realizations: int, x: torch.Tensor, y: torch.Tensor,
                          generator: torch.Generator | None = None, plan: TransmissionPlan | None = None,
                          combiner: str | None = None) -> AccuracyStats:
    """Send weight vector w [n] over K channel draws (one batched call) and score each received model."""
    rx = transmit_vector(w, channel, snr_db, num_realizations, plan, generator, combiner)
    return AccuracyStats.of(accuracy_of_vectors(model, rx, x, y))
