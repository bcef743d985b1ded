"""RigL sparse training (Evci et al., "Rigging the lottery", ICML 2020): train at the target sparsity from the start,
every ``interval`` steps drop the smallest active weights and regrow as many inactive ones with the largest
gradient, so the number of weights sent never changes.

The drop fraction decays as ``alpha/2 (1 + cos(pi t / T_end))`` and updates stop at ``T_end`` (75 % of training,
as in the paper). Regrown weights start at zero. Dense gradients come from one extra backward pass through the
masked weight vector itself (its zero entries are still inputs of the network).
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from airnet.zoo.params import ParamLayout, call_with_vector
from airnet.training.loop import flat_params


class RigL:
    """A ``mask_update`` hook for :func:`airnet.training.loop.train_model`.

    Parameters
    ----------
    total_steps : int
        Optimizer steps of the whole training (updates stop at 75 % of them).
    interval : int
        Steps between mask updates.
    alpha : float
        Initial fraction of the active weights that is dropped and regrown.
    protect : [n] bool, optional
        Weights never dropped (biases, when they fit).
    loss : callable (logits, x, y) -> scalar, optional
        Loss whose gradient picks the regrown weights (cross-entropy by default).
    on_change : callable (mask) -> None, optional
        Told about every new mask (e.g. to update a noise-injection plan).
    """

    def __init__(self, total_steps: int, interval: int, alpha: float, protect: torch.Tensor | None = None,
                 loss: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
                 on_change: Callable[[torch.Tensor], None] | None = None) -> None:
        if interval < 1 or not 0 < alpha < 1:
            raise ValueError(f"RigL needs interval >= 1 and alpha in (0, 1), got {interval}, {alpha}")
        self.end = int(0.75 * total_steps)
        self.interval, self.alpha = int(interval), float(alpha)
        self.protect = protect
        self.loss = loss or (lambda logits, x, y: F.cross_entropy(logits, y))
        self.on_change = on_change
        self.updates = 0

    def fraction(self, step: int) -> float:
        """Drop fraction at ``step`` (cosine decay to 0 at the end of the update phase)."""
        return self.alpha / 2 * (1 + math.cos(math.pi * step / max(1, self.end)))

    def __call__(self, step: int, model: nn.Module, mask: torch.Tensor, xb: torch.Tensor,
                 yb: torch.Tensor) -> torch.Tensor | None:
        if step % self.interval or step >= self.end:
            return None
        active = int(mask.sum())
        droppable = mask if self.protect is None else mask & ~self.protect.to(mask.device)
        k = min(int(self.fraction(step) * active), int(droppable.sum()), int((~mask).sum()))
        if k < 1:
            return None
        w = flat_params(model).detach()
        v = (w * mask).requires_grad_(True)
        grad, = torch.autograd.grad(self.loss(call_with_vector(model, v, xb, ParamLayout.of(model)), xb, yb), v)
        score_drop = torch.where(droppable, w.abs(), torch.full_like(w, float("inf")))
        drop = torch.topk(score_drop, k, largest=False).indices
        score_grow = torch.where(mask, torch.full_like(w, -1.0), grad.abs())
        grow = torch.topk(score_grow, k).indices
        new = mask.clone()
        new[drop] = False
        new[grow] = True
        with torch.no_grad():                      # regrown weights start at zero
            for p, m in zip(model.parameters(), ParamLayout.of(model).unflatten(new & ~mask).values()):
                p.masked_fill_(m, 0.0)
        self.updates += 1
        if self.on_change is not None:
            self.on_change(new)
        return new
