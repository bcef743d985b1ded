"""Spectrum (ensemble) training: one shared weight vector serves a whole range of channel SNRs.

Weights are ranked once by importance (magnitude of the starting model, 1-D parameters first). The network for
level j keeps the top ``budget // factor_j`` weights (nested sub-networks: a worse channel gets a smaller network
sent more times) and all levels are trained jointly, each under the delivery noise of its own SNR and plan.
The receiver stores one model plus the ranking instead of one model per SNR.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from channels import Channel
from airnet.distillation import distillation_loss
from airnet.expansion import expansion_keep, uniform_expansion_plan
from airnet.noise_injection import ChannelNoise
from airnet.params import ParamLayout, call_with_vector, model_vector
from airnet.pruning import bias_mask
from airnet.training import Distillation, TrainSettings, flat_params
from airnet.transmission import TransmissionPlan


@dataclass(frozen=True)
class SpectrumLevel:
    """Operating point: channels at or above ``snr_db`` (up to the next level) use expansion ``factor``."""

    snr_db: float
    factor: int


def importance_ranking(model: nn.Module) -> torch.Tensor:
    """Flat indices [n] from most to least important: 1-D parameters first, then by |w| (stable)."""
    w = model_vector(model).abs().double()
    w[bias_mask(model)] = float("inf")
    return torch.argsort(w, descending=True, stable=True)


def nested_mask(ranking: torch.Tensor, keep: int) -> torch.Tensor:
    """Bool mask [n] of the first ``keep`` entries of ``ranking``."""
    mask = torch.zeros(ranking.numel(), dtype=torch.bool)
    mask[ranking[:keep]] = True
    return mask


class Spectrum:
    """Shared weights + ranking + levels; ``plan_for(snr)`` gives the nested network's transmission plan."""

    def __init__(self, ranking: torch.Tensor, levels: list[SpectrumLevel], budget_reals: int) -> None:
        if not levels:
            raise ValueError("spectrum training needs at least one level")
        self.levels = sorted(levels, key=lambda l: l.snr_db)
        self.ranking, self.budget_reals = ranking, int(budget_reals)
        for lv in self.levels:
            if expansion_keep(self.budget_reals, lv.factor) < 1:
                raise ValueError(f"level {lv} leaves no weight within a budget of {budget_reals} reals")

    def level_for(self, snr_db: float) -> SpectrumLevel:
        """Highest level whose SNR does not exceed ``snr_db`` (the lowest level below the range)."""
        chosen = self.levels[0]
        for lv in self.levels:
            if lv.snr_db <= snr_db:
                chosen = lv
        return chosen

    def plan(self, level: SpectrumLevel) -> TransmissionPlan:
        keep = min(expansion_keep(self.budget_reals, level.factor), self.ranking.numel())
        return uniform_expansion_plan(nested_mask(self.ranking, keep), level.factor)

    def plan_for(self, snr_db: float) -> TransmissionPlan:
        return self.plan(self.level_for(snr_db))

    def memory(self, num_params: int, bytes_per_weight: int = 4) -> dict[str, int]:
        """Bytes at the receiver: one model per level vs shared weights + ranking (int32)."""
        separate = len(self.levels) * num_params * bytes_per_weight
        shared = num_params * bytes_per_weight + num_params * 4
        return {"separate_bytes": separate, "spectrum_bytes": shared, "saved_bytes": separate - shared}


def spectrum_train(model: nn.Module, spectrum: Spectrum, channel: Channel, x: torch.Tensor, y: torch.Tensor,
                   settings: TrainSettings, generator: torch.Generator, distill: Distillation | None = None,
                   desc: str | None = None) -> list[float]:
    """Train shared weights in place: each step averages the loss of every level's noisy nested network."""
    layout = ParamLayout.of(model)
    plans = [spectrum.plan(lv) for lv in spectrum.levels]
    masks = [p.mask.to(torch.float32) for p in plans]
    noises = [ChannelNoise(channel, lv.snr_db, plan=p, generator=generator) for lv, p in zip(spectrum.levels, plans)]
    opt = torch.optim.Adam(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, settings.epochs))
    history = []
    for _ in tqdm(range(settings.epochs), desc=desc, leave=False, disable=desc is None):
        model.train()
        perm = torch.randperm(x.shape[0], generator=generator)
        total, count = 0.0, 0
        for i in range(0, x.shape[0], settings.batch_size):
            idx = perm[i:i + settings.batch_size]
            xb, yb = x[idx], y[idx]
            t_logits = None
            if distill is not None:
                with torch.no_grad():
                    t_logits = distill.teacher.eval()(xb)
            w = flat_params(model)
            loss = 0.0
            for mask, noise in zip(masks, noises):
                logits = call_with_vector(model, noise(w * mask), xb, layout)
                loss = loss + (distillation_loss(logits, t_logits, yb, distill.temperature, distill.alpha)
                               if distill is not None else F.cross_entropy(logits, yb))
            loss = loss / len(masks)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            count += len(idx)
        sched.step()
        history.append(total / max(count, 1))
    model.eval()
    return history
