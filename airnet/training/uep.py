"""Unequal error protection: per-layer expansion factors chosen by the loss's sensitivity to channel noise."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from channels import Channel
from airnet.zoo.params import ParamLayout, call_with_vector
from airnet.delivery.plan import TransmissionPlan
from airnet.delivery.transmit import transmit_vector


@torch.no_grad()
def layer_sensitivity(model: nn.Module, w: torch.Tensor, plan: TransmissionPlan, channel: Channel, snr_db: float,
                      x: torch.Tensor, y: torch.Tensor, draws: int = 8,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """Mean increase of held-out loss when only layer l is received through the channel (others clean): [L].

    Uses the real delivery path (``plan`` sent at ``snr_db``), ``draws`` independent realizations.
    """
    layout = ParamLayout.of(model)
    layer_of = layout.layer_of().to(w.device)
    rx = transmit_vector(w, channel, snr_db, draws, plan, generator)  # [draws, n]
    base = F.cross_entropy(call_with_vector(model, w, x, layout), y)
    sens = torch.zeros(len(layout.names), dtype=torch.float64)
    for l in range(len(layout.names)):
        sel = layer_of == l
        losses = []
        for d in range(draws):
            v = w.clone()
            v[sel] = rx[d, sel]
            losses.append(F.cross_entropy(call_with_vector(model, v, x, layout), y))
        sens[l] = (torch.stack(losses).mean() - base).clamp_min(0.0).double()
    return sens


def allocate_expansion(sizes: torch.Tensor, sensitivity: torch.Tensor, budget_reals: int,
                       max_factor: int = 16) -> torch.Tensor:
    """Integer factors r_l >= 1 minimizing sum_l S_l / r_l subject to sum_l n_l r_l <= budget: [L] long.

    Loss increase is modelled as linear in noise variance, which combining divides by r. The objective is
    convex and separable, so greedy increments by best marginal gain per channel real is optimal over the
    lattice up to the final, budget-limited step.
    """
    sizes = sizes.long()
    if sizes.shape != sensitivity.shape:
        raise ValueError(f"sizes {tuple(sizes.shape)} and sensitivity {tuple(sensitivity.shape)} differ")
    used = int(sizes.sum())
    if used > budget_reals:
        raise ValueError(f"sending every surviving weight once needs {used} reals, budget is {budget_reals}")
    r = torch.ones_like(sizes)
    s = sensitivity.double().clamp_min(0)
    while True:
        gain = s * (1.0 / r - 1.0 / (r + 1)) / sizes.clamp_min(1)
        ok = (sizes > 0) & (r < max_factor) & (sizes <= budget_reals - used)
        if not ok.any():
            break
        gain = torch.where(ok, gain, torch.full_like(gain, -1.0))
        best = int(torch.argmax(gain))
        if gain[best] < 0:
            break
        r[best] += 1
        used += int(sizes[best])
    return r
