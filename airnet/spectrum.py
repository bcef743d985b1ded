"""Spectrum (ensemble) training: one shared weight vector serves a whole range of channel SNRs.

Weights are ranked once by importance (magnitude of the starting model, 1-D parameters first). The network for
level j keeps the top ``budget // factor_j`` weights (nested sub-networks: a worse channel gets a smaller network
sent more times) and all levels are trained jointly (:meth:`Spectrum.views` in
:func:`airnet.training.train_model`), each under the delivery noise of its own SNR and plan.
The receiver stores one model plus the ranking instead of one model per SNR.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from channels import Channel
from airnet.expansion import expansion_keep, uniform_expansion_plan
from airnet.noise_injection import ChannelNoise
from airnet.params import model_vector
from airnet.pruning import bias_mask
from airnet.training import View
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
    mask = torch.zeros(ranking.numel(), dtype=torch.bool, device=ranking.device)
    mask[ranking[:keep]] = True
    return mask


class Spectrum:
    """Shared-weight ranking + levels: the nested network and transmission plan of each channel state."""

    def __init__(self, ranking: torch.Tensor, levels: list[SpectrumLevel], budget_reals: int,
                 keeps: dict[SpectrumLevel, int] | None = None) -> None:
        if not levels:
            raise ValueError("spectrum training needs at least one level")
        self.levels = sorted(levels, key=lambda l: l.snr_db)
        self.ranking, self.budget_reals = ranking, int(budget_reals)
        self.keeps = dict(keeps or {})
        for lv in self.levels:
            if self.keep(lv) < 1:
                raise ValueError(f"level {lv} leaves no weight within a budget of {budget_reals} reals")

    def level_for(self, snr_db: float) -> SpectrumLevel:
        """Highest level whose SNR does not exceed ``snr_db`` (the lowest level below the range)."""
        chosen = self.levels[0]
        for lv in self.levels:
            if lv.snr_db <= snr_db:
                chosen = lv
        return chosen

    def keep(self, level: SpectrumLevel) -> int:
        """Weights of the level's nested network: ``keeps[level]`` if given, else ``budget // factor``."""
        keep = self.keeps.get(level, expansion_keep(self.budget_reals, level.factor))
        return min(keep, self.ranking.numel())

    def plan(self, level: SpectrumLevel, max_keep: int | None = None) -> TransmissionPlan:
        """The level's nested network (the top :meth:`keep` of the ranking, at most ``max_keep``), each weight
        sent ``factor`` times."""
        keep = self.keep(level) if max_keep is None else min(self.keep(level), max_keep)
        return uniform_expansion_plan(nested_mask(self.ranking, keep), level.factor)

    def views(self, channel: Channel, generator: torch.Generator) -> list[View]:
        """One training view per level: its nested mask under the delivery noise of its SNR and plan."""
        plans = [self.plan(lv) for lv in self.levels]
        return [View(p.mask, ChannelNoise(channel, lv.snr_db, plan=p, generator=generator))
                for lv, p in zip(self.levels, plans)]

    def memory(self, num_params: int, bytes_per_weight: int = 4) -> dict[str, int]:
        """Bytes at the receiver: one model per level vs shared weights + ranking (int32)."""
        separate = len(self.levels) * num_params * bytes_per_weight
        shared = num_params * bytes_per_weight + num_params * 4
        return {"separate_bytes": separate, "spectrum_bytes": shared, "saved_bytes": separate - shared}
