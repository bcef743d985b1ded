"""Accuracy of received models, vectorized over K channel realizations with ``torch.func.vmap``."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.func import vmap

from channels import Channel
from airnet.params import ParamLayout, call_with_vector, check_model_data
from airnet.transmission import TransmissionPlan, transmit_vector


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


STRATEGIES = ("auto", "vmap", "loop")


def pick_strategy(model: nn.Module, device: torch.device) -> str:
    """``vmap`` except for convolutional models on CPU, where K-times larger activations make vmap slower
    than a loop of cache-resident passes (measured in benchmarks/vectorized_eval.py)."""
    has_conv = any(isinstance(m, nn.modules.conv._ConvNd) for m in model.modules())
    return "loop" if has_conv and device.type == "cpu" else "vmap"


@torch.no_grad()
def accuracy_of_vectors(model: nn.Module, vecs: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                        batch_size: int = 1024, realization_chunk: int = 64, strategy: str = "auto") -> torch.Tensor:
    """Accuracy of ``model`` with each flat parameter vector in vecs [K, n] on (x [N, ...], y [N]): [K]."""
    if vecs.dim() != 2:
        raise ValueError(f"vecs must be [K, n], got shape {tuple(vecs.shape)}")
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {STRATEGIES}")
    model.eval()
    check_model_data(model, x)
    vecs = vecs.to(x.device)
    layout = ParamLayout.of(model)
    if vecs.shape[1] != layout.total:
        raise ValueError(f"vectors have {vecs.shape[1]} entries, the model has {layout.total} parameters")
    if (pick_strategy(model, vecs.device) if strategy == "auto" else strategy) == "loop":
        return accuracy_of_vectors_loop(model, vecs, x, y, batch_size)
    correct = torch.zeros(vecs.shape[0], dtype=torch.long, device=vecs.device)

    def predict(v: torch.Tensor, xb: torch.Tensor) -> torch.Tensor:
        return call_with_vector(model, v, xb, layout).argmax(dim=-1)

    batched = vmap(predict, in_dims=(0, None))
    for k in range(0, vecs.shape[0], realization_chunk):
        vk = vecs[k:k + realization_chunk]
        for i in range(0, x.shape[0], batch_size):
            pred = batched(vk, x[i:i + batch_size])
            correct[k:k + vk.shape[0]] += (pred == y[i:i + batch_size]).sum(dim=1)
    return correct.double().cpu() / x.shape[0]


@torch.no_grad()
def accuracy_of_vectors_loop(model: nn.Module, vecs: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                             batch_size: int = 1024) -> torch.Tensor:
    """Same as :func:`accuracy_of_vectors` with a Python loop over the K realizations: [K]."""
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
