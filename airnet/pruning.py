"""Magnitude pruning to a bandwidth budget (exact count of surviving weights)."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn


def magnitude_mask(w: torch.Tensor, keep: int, always_keep: torch.Tensor | None = None) -> torch.Tensor:
    """Bool mask [n] keeping exactly ``keep`` entries of w [n]: ``always_keep`` first, then largest |w| (ties by index)."""
    n = w.numel()
    if isinstance(keep, bool) or int(keep) != keep or not 0 <= keep <= n:
        raise ValueError(f"keep must be an integer in [0, {n}], got {keep!r}")
    keep = int(keep)
    score = w.detach().abs().double().clone()
    if always_keep is not None:
        if int(always_keep.sum()) > keep:
            raise ValueError(f"{int(always_keep.sum())} weights must always be kept but the budget allows {keep}")
        score[always_keep] = float("inf")
    order = torch.argsort(score, descending=True, stable=True)
    mask = torch.zeros(n, dtype=torch.bool)
    mask[order[:keep]] = True
    return mask


def bias_mask(model: nn.Module) -> torch.Tensor:
    """Flat bool mask [n] of 1-D parameters (biases, norm scales): cheap to send and kept when they fit."""
    return torch.cat([torch.full((p.numel(),), p.dim() <= 1) for p in model.parameters()])


def prune_schedule(total: int, keep: int, steps: int) -> list[int]:
    """Geometric sequence of surviving-weight counts from ``total`` down to exactly ``keep`` in ``steps`` steps."""
    if steps < 1:
        raise ValueError(f"pruning steps must be >= 1, got {steps}")
    if not 0 < keep <= total:
        raise ValueError(f"cannot keep {keep} of {total} weights")
    counts = [int(round(total * (keep / total) ** (s / steps))) for s in range(1, steps + 1)]
    counts[-1] = keep
    return [max(c, keep) for c in counts]


def iterative_prune(model: nn.Module, keep: int, steps: int,
                    finetune: Callable[[nn.Module, torch.Tensor], None]) -> torch.Tensor:
    """Prune ``model`` in place to exactly ``keep`` weights, fine-tuning after each step; return mask [n] bool.

    Global magnitude criterion; 1-D parameters (biases) are always kept if they take at most half the budget.
    """
    from airnet.params import load_vector, model_vector

    w = model_vector(model)
    protect = bias_mask(model)
    protect = protect if int(protect.sum()) * 2 <= keep else None
    mask = torch.ones_like(w, dtype=torch.bool)
    for count in prune_schedule(w.numel(), keep, steps):
        w = model_vector(model) * mask
        mask = magnitude_mask(w, count, protect)
        load_vector(model, w * mask)
        finetune(model, mask)
    return mask
