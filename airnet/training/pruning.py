"""Pruning to a bandwidth budget: which weights survive, what the receiver must be told, iterative fine-tuning.

A :class:`Pruner` selects exactly-sized masks and prices them as side information: :class:`MagnitudePruner`
(unstructured, global magnitude; the mask is coded per layer, ~``n H(p)`` bits) or
:class:`airnet.training.structure.StructuredPruner` (whole neurons / filters, a few bits per layer).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal, Protocol

import torch
from torch import nn

from airnet.config.options import within
from airnet.side_info.mask_code import code_length, expected_code_length
from airnet.zoo.params import load_vector, model_vector


Structure = Literal["unstructured", "structured"]


class Pruner(Protocol):
    """Mask selection and its cost as side information."""

    min_keep: int   # the fewest weights a mask of this pruner can have
    def select(self, w: torch.Tensor, keep: int) -> torch.Tensor:
        """Mask [n] bool of at most ``keep`` entries of the weight vector w [n] (exactly ``keep`` if unstructured)."""

    def mask_bits(self, mask: torch.Tensor) -> int:
        """Exact code length of ``mask`` [n] for the receiver."""

    def expected_mask_bits(self, keep: int) -> int:
        """Code length to budget for a mask of ``keep`` weights before it exists."""


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
        score[always_keep.to(score.device)] = float("inf")
    order = torch.argsort(score, descending=True, stable=True)
    mask = torch.zeros(n, dtype=torch.bool, device=w.device)
    mask[order[:keep]] = True
    return mask


def bias_mask(model: nn.Module) -> torch.Tensor:
    """Flat bool mask [n] of 1-D parameters (biases, norm scales): cheap to send and kept when they fit."""
    return torch.cat([torch.full((p.numel(),), p.dim() <= 1) for p in model.parameters()])


class MagnitudePruner:
    """Unstructured global magnitude pruning; the mask is coded per parameter tensor (:mod:`airnet.side_info.mask_code`).

    With ``protect_biases_up_to`` set, 1-D parameters are always kept when they take at most half of that many
    weights (cheap and important); ``None`` ranks them like any weight.
    """

    min_keep = 1

    def __init__(self, model: nn.Module, protect_biases_up_to: int | None = None) -> None:
        self.segments = [p.numel() for p in model.parameters()]
        protect = bias_mask(model)
        use = protect_biases_up_to is not None and int(protect.sum()) * 2 <= protect_biases_up_to
        self.protect = protect if use else None

    def select(self, w: torch.Tensor, keep: int) -> torch.Tensor:
        return magnitude_mask(w, keep, self.protect)

    def mask_bits(self, mask: torch.Tensor) -> int:
        return code_length(mask, self.segments)

    def expected_mask_bits(self, keep: int) -> int:
        n = sum(self.segments)
        return expected_code_length(n, keep) + 2 * (len(self.segments) - 1)


def make_pruner(model: nn.Module, structure: str, protect_biases_up_to: int | None = None) -> Pruner:
    """``unstructured`` -> :class:`MagnitudePruner`; ``structured`` -> :class:`airnet.training.structure.StructuredPruner`."""
    if structure == "unstructured":
        return MagnitudePruner(model, protect_biases_up_to)
    if structure == "structured":
        from airnet.training.structure import StructuredPruner
        return StructuredPruner(model)
    raise ValueError(f"unknown pruning structure {structure!r}; choose unstructured or structured")


def prune_schedule(total: int, keep: int, steps: int) -> list[int]:
    """Geometric sequence of surviving-weight counts from ``total`` down to exactly ``keep`` in ``steps`` steps."""
    if steps < 1:
        raise ValueError(f"pruning steps must be >= 1, got {steps}")
    if not 0 < keep <= total:
        raise ValueError(f"cannot keep {keep} of {total} weights")
    counts = [int(round(total * (keep / total) ** (s / steps))) for s in range(1, steps + 1)]
    counts[-1] = keep
    return [max(c, keep) for c in counts]


def iterative_prune(model: nn.Module, keep: int, steps: int, finetune: Callable[[nn.Module, torch.Tensor], None],
                    pruner: Pruner | None = None) -> torch.Tensor:
    """Prune ``model`` in place to at most ``keep`` weights, fine-tuning after each step; return mask [n] bool.

    Default pruner: global magnitude with biases kept when they take at most half the budget (exactly ``keep``).
    """
    pruner = pruner or MagnitudePruner(model, protect_biases_up_to=keep)
    w = model_vector(model)
    mask = torch.ones_like(w, dtype=torch.bool)
    for count in prune_schedule(w.numel(), keep, steps):
        w = model_vector(model) * mask
        mask = pruner.select(w, count) & mask
        load_vector(model, w * mask)
        finetune(model, mask)
    return mask


@dataclass(frozen=True)
class PruneOptions:
    """Pruning to the budget with KD from the clean teacher (or a chain of teacher assistants).

    ``steps``: pruning rounds; ``finetune_epochs`` and ``lr``: fine-tuning after each round; ``temperature`` and
    ``alpha``: KD loss; ``structure``: ``unstructured`` (global magnitude, mask ~H(p) bits per weight) or
    ``structured`` (whole neurons / filters, a few bits per layer); ``method``: ``iterative_magnitude`` (prune in
    ``steps`` rounds) or ``rigl`` (sparse training at the budget from the start for ``steps x finetune_epochs``
    epochs, dropping and regrowing ``rigl_alpha`` of the weights every ``rigl_interval`` steps; unstructured);
    ``assistants``: sizes of teacher assistants as fractions of the full model, largest first (Mirzadeh et al.
    2020): each is pruned and distilled from the one before, and the student from the last; assistants not
    larger than the student are skipped (with none left, the student learns from the teacher).
    """

    steps: int
    finetune_epochs: int
    lr: float
    temperature: float
    alpha: float
    structure: Structure
    method: Literal["iterative_magnitude", "rigl"]
    rigl_interval: int
    rigl_alpha: float
    assistants: tuple[float, ...]

    def __post_init__(self) -> None:
        within("steps", self.steps, 1)
        within("finetune_epochs", self.finetune_epochs, 0)
        within("lr", self.lr, 0, 1, low_open=True)
        within("temperature", self.temperature, 0, low_open=True)
        within("alpha", self.alpha, 0, 1)
        within("rigl_interval", self.rigl_interval, 1)
        within("rigl_alpha", self.rigl_alpha, 0, 1, low_open=True)
        if self.method == "rigl" and self.structure != "unstructured":
            raise ValueError("method=rigl prunes single weights: it needs structure=unstructured")
        a = list(self.assistants)
        if any(not 0 < f < 1 for f in a) or a != sorted(set(a), reverse=True):
            raise ValueError(f"assistants must be fractions in (0, 1), largest first, got {a}")
