"""Transmission plans: which weights go on the air and how often (pruning and channel expansion).

A :class:`TransmissionPlan` says which weights are sent and with how many copies; weights that are not sent
(pruned) are known to be zero at the receiver, which knows the plan (its side information). Two reals share one
complex channel use, so a plan with ``m`` transmitted reals needs ``ceil(m/2)`` channel uses.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import torch
from torch import nn

from channels import channel_uses
from airnet.zoo.params import ParamLayout


@dataclass(frozen=True)
class TransmissionPlan:
    """Which of ``num_params`` weights are sent and with how many copies each.

    ``index`` [m] lists, for each transmitted real, the weight it carries (a weight sent r times appears r times).
    """

    index: torch.Tensor
    num_params: int

    @classmethod
    def full(cls, num_params: int) -> "TransmissionPlan":
        """Every weight once (no pruning, no expansion)."""
        return cls(torch.arange(num_params), num_params)

    @classmethod
    def from_repeats(cls, repeats: torch.Tensor) -> "TransmissionPlan":
        """Plan from copies per weight [num_params] (0 = pruned), copies interleaved.

        Copy c of every weight is sent before copy c+1 of any weight, so the copies of one weight are far apart
        in the stream: they never share a complex symbol and, on block fading, see different blocks (diversity).
        """
        repeats = torch.as_tensor(repeats, dtype=torch.long)
        if (repeats < 0).any():
            raise ValueError("repeats must be non-negative")
        rounds = [torch.nonzero(repeats > c).flatten() for c in range(int(repeats.max()) if repeats.numel() else 0)]
        index = torch.cat(rounds) if rounds else torch.zeros(0, dtype=torch.long)
        return cls(index, repeats.numel())

    @cached_property
    def repeats(self) -> torch.Tensor:
        """Copies per weight [num_params]."""
        return torch.bincount(self.index, minlength=self.num_params)

    @cached_property
    def single_copy(self) -> bool:
        """Whether no weight is sent more than once (no combining needed)."""
        return bool((self.repeats <= 1).all())

    @cached_property
    def is_full(self) -> bool:
        """Whether every weight is sent once, in order (the transmitted stream is the weight vector itself)."""
        return self.num_reals == self.num_params and bool(
            torch.equal(self.index, torch.arange(self.num_params, device=self.index.device)))

    @property
    def mask(self) -> torch.Tensor:
        """Weights that are sent at least once [num_params] bool."""
        return self.repeats > 0

    @property
    def num_reals(self) -> int:
        """Transmitted reals, copies included."""
        return int(self.index.numel())

    @property
    def channel_uses(self) -> int:
        """Complex channel uses this plan occupies."""
        return channel_uses(self.num_reals)


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


def expansion_columns(model: nn.Module, plan: TransmissionPlan) -> dict[str, Any]:
    """``expansion``: mean copies per sent weight (a number); ``expansion_per_layer``: copies of each parameter
    tensor's sent weights, ``/``-separated (0 where none is sent)."""
    most = layer_copies(model, plan)[1]
    return {"expansion": round(plan.num_reals / max(1, int(plan.mask.sum())), 4),
            "expansion_per_layer": "/".join(map(str, most.tolist()))}


def layer_copies(model: nn.Module, plan: TransmissionPlan) -> tuple[torch.Tensor, torch.Tensor]:
    """Fewest and most copies among each parameter tensor's sent weights: two [num_tensors] long (0 where none
    is sent), on the CPU."""
    reps, mask = plan.repeats.cpu(), plan.mask.cpu()
    layout = ParamLayout.of(model)
    layer_of = layout.layer_of()[mask]
    zeros = torch.zeros(len(layout.names), dtype=torch.long)
    # include_self=False: a tensor with no sent weight keeps its 0
    return (zeros.scatter_reduce(0, layer_of, reps[mask], "amin", include_self=False),
            zeros.scatter_reduce(0, layer_of, reps[mask], "amax", include_self=False))
