"""Channel expansion: prune below the budget and send surviving weights several times (receiver combines copies)."""
from __future__ import annotations

import torch

from airnet.transmission import TransmissionPlan


def expansion_keep(budget_reals: int, factor: int) -> int:
    """Weights that fit when each is sent ``factor`` times within ``budget_reals`` reals."""
    if isinstance(factor, bool) or int(factor) != factor or factor < 1:
        raise ValueError(f"expansion factor must be a positive integer, got {factor!r}")
    if budget_reals < 0:
        raise ValueError(f"budget must be non-negative, got {budget_reals}")
    return int(budget_reals) // int(factor)


def uniform_expansion_plan(mask: torch.Tensor, factor: int) -> TransmissionPlan:
    """Every surviving weight (mask [n] bool) sent ``factor`` times."""
    expansion_keep(0, factor)
    return TransmissionPlan.from_repeats(mask.long() * int(factor))


def layer_expansion_plan(mask: torch.Tensor, layer_of: torch.Tensor, factors: torch.Tensor) -> TransmissionPlan:
    """Surviving weights of layer l sent ``factors[l]`` times: mask [n], layer_of [n] long, factors [L]."""
    return TransmissionPlan.from_repeats(mask.long() * factors.long()[layer_of])
