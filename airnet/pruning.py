"""Magnitude pruning to a bandwidth budget (exact count of surviving weights)."""
from __future__ import annotations

import torch


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
