"""Spectrum (ensemble) training: one shared weight vector serves a whole range of channel SNRs.

Weights are ranked once by importance (magnitude of the starting model, 1-D parameters first). The network for
level j keeps the top ``budget // factor_j`` weights (nested sub-networks: a worse channel gets a smaller network
sent more times) and all levels are trained jointly (:meth:`Spectrum.views` in
:func:`airnet.training.loop.train_model`), each under the delivery noise of its own SNR and plan.
The receiver stores one model plus the ranking instead of one model per SNR.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from channels import Channel
from airnet.config.options import within
from airnet.delivery.plan import expansion_keep, uniform_expansion_plan
from airnet.training.noise import ChannelNoise
from airnet.zoo.params import model_vector
from airnet.training.pruning import bias_mask
from airnet.training.loop import View
from airnet.delivery.plan import TransmissionPlan


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


class OrderedWidths:
    """Ordered widths (FjORD's ordered dropout; slimmable networks): the nested network of width ``p`` keeps the
    first ``ceil(p C_l)`` units of every prunable layer (at least one), so a receiver needs only ``p``.

    Units are those of :class:`airnet.training.structure.UnitGroups`; weights outside units are always kept.
    """

    def __init__(self, model: nn.Module) -> None:
        from airnet.training.structure import UnitGroups

        self.groups = UnitGroups.of(model)
        bounds = torch.cumsum(torch.tensor((0,) + self.groups.units_per_layer), 0).tolist()
        self.layers = list(zip(bounds[:-1], bounds[1:]))
        # widths where some layer gains a unit: the only places the network changes
        self.steps = sorted({j / (b - a) for a, b in self.layers for j in range(1, b - a + 1)})
        self._sizes: list[int] | None = None

    def mask(self, width: float) -> torch.Tensor:
        """Weight mask [n] bool of the width-``width`` network."""
        keep = torch.zeros(self.groups.num_units, dtype=torch.bool)
        for a, b in self.layers:
            keep[a:a + max(1, math.ceil(width * (b - a) - 1e-9))] = True
        return self.groups.mask(keep)

    def width_for(self, weights: int) -> float:
        """The widest network with at most ``weights`` weights (0.0 if even the narrowest is larger)."""
        if self._sizes is None:                    # sizes grow with the width: computed once, then bisected
            self._sizes = [int(self.mask(w).sum()) for w in self.steps]
        i = bisect.bisect_right(self._sizes, weights)
        return self.steps[i - 1] if i else 0.0


class Spectrum:
    """Shared weights + nested networks + levels: the network and transmission plan of each channel state.

    Nesting is by the magnitude ``ranking`` (a prefix of it; the receiver needs the mask) or, with ``widths``, by
    ordered widths (the receiver needs only the level).
    """

    def __init__(self, ranking: torch.Tensor | None, levels: list[SpectrumLevel], budget_reals: int,
                 keeps: dict[SpectrumLevel, int] | None = None, widths: OrderedWidths | None = None) -> None:
        if not levels:
            raise ValueError("spectrum training needs at least one level")
        if ranking is None and widths is None:
            raise ValueError("a spectrum needs a magnitude ranking or ordered widths")
        self.levels = sorted(levels, key=lambda l: l.snr_db)
        self.ranking, self.budget_reals, self.widths = ranking, int(budget_reals), widths
        self.n = widths.groups.owners.shape[0] if widths is not None else _given(ranking).numel()
        self.keeps = dict(keeps or {})
        # a level whose network cannot fit (keeps[level] == 0) is off: its receivers get no model
        self.active = [lv for lv in self.levels if self.keep(lv) >= 1]
        if not self.active:
            raise ValueError(f"every level leaves no weight within a budget of {budget_reals} reals")

    def level_for(self, snr_db: float) -> SpectrumLevel:
        """Highest level whose SNR does not exceed ``snr_db`` (the lowest level below the range)."""
        chosen = self.levels[0]
        for lv in self.levels:
            if lv.snr_db <= snr_db:
                chosen = lv
        return chosen

    def keep(self, level: SpectrumLevel) -> int:
        """Weights the level may use: ``keeps[level]`` if given, else ``budget // factor``."""
        keep = self.keeps.get(level, expansion_keep(self.budget_reals, level.factor))
        return min(keep, self.n)

    def mask(self, weights: int) -> torch.Tensor:
        """The nested network of at most ``weights`` weights: [n] bool."""
        if self.widths is not None:
            return self.widths.mask(self.widths.width_for(weights))
        return nested_mask(_given(self.ranking), weights)

    def plan(self, level: SpectrumLevel, max_keep: int | None = None) -> TransmissionPlan:
        """The level's nested network (at most :meth:`keep`, and ``max_keep``, weights), each weight sent
        ``factor`` times."""
        keep = self.keep(level) if max_keep is None else min(self.keep(level), max_keep)
        return uniform_expansion_plan(self.mask(keep), level.factor)

    def views(self, channel: Channel, generator: torch.Generator) -> list[View]:
        """One training view per active level: its nested mask under the delivery noise of its SNR and plan."""
        plans = [self.plan(lv) for lv in self.active]
        return [View(p.mask, ChannelNoise(channel, lv.snr_db, plan=p, generator=generator))
                for lv, p in zip(self.active, plans)]

    def sandwich_views(self, channel: Channel, generator: torch.Generator, random_widths: int,
                       inplace: bool) -> list[View]:
        """One step of the sandwich rule (Yu & Huang 2019) over ordered widths: the widest level, the narrowest,
        and ``random_widths`` widths drawn between them, each under the noise of the nearest level; with
        ``inplace`` the widest view's outputs teach the others (in-place distillation)."""
        top, bottom = self.active[-1], self.active[0]
        ordered = self.widths
        if ordered is None:
            raise ValueError("the sandwich rule samples ordered widths: this spectrum nests by magnitude")
        w_top = ordered.width_for(self.keep(top))
        w_bottom = ordered.width_for(self.keep(bottom))
        widths = [(w_top, top), (w_bottom, bottom)]
        for _ in range(random_widths):
            w = w_bottom + (w_top - w_bottom) * float(torch.rand((), generator=generator, device=generator.device))
            nearest = min(self.active, key=lambda lv: abs(ordered.width_for(self.keep(lv)) - w))
            widths.append((w, nearest))
        views = []
        for i, (w, lv) in enumerate(widths):
            plan = uniform_expansion_plan(ordered.mask(w), lv.factor)
            views.append(View(plan.mask, ChannelNoise(channel, lv.snr_db, plan=plan, generator=generator),
                              teacher="first" if inplace and i else "model"))
        return views

    def memory(self, num_params: int, bytes_per_weight: int = 4) -> dict[str, int]:
        """Bytes at the receiver: one model per level vs shared weights + the nesting (an int32 ranking, or one
        width per level)."""
        separate = len(self.levels) * num_params * bytes_per_weight
        nesting = 4 * len(self.levels) if self.widths is not None else num_params * 4
        shared = num_params * bytes_per_weight + nesting
        return {"separate_bytes": separate, "spectrum_bytes": shared, "saved_bytes": separate - shared}


@dataclass(frozen=True)
class LevelOptions:
    """A spectrum level: channels at or above ``snr_db`` send the nested network ``factor`` times."""

    snr_db: float
    factor: int

    def __post_init__(self) -> None:
        within("factor", self.factor, 1, 31)                    # as the expansion factors' 5-bit code
        within("snr_db", self.snr_db, -60, 100)


@dataclass(frozen=True)
class SpectrumOptions:
    """``epochs``, ``lr``: joint training of all levels; ``temperature``, ``alpha``: KD from the clean teacher;
    ``levels``: operating points; ``start_snr_db``: noise-injection SNR of the starting model; ``nesting``:
    ``magnitude`` (a prefix of the weights ranked by magnitude; the receiver needs the level's mask) or
    ``ordered_width`` (the first units of every layer; the receiver needs only the level); for ordered widths,
    ``sandwich_random`` random widths per step besides the widest and narrowest (sandwich rule) and
    ``inplace_distillation`` (the widest network teaches the others)."""

    epochs: int
    lr: float
    temperature: float
    alpha: float
    levels: tuple[LevelOptions, ...]
    start_snr_db: float
    nesting: Literal["magnitude", "ordered_width"]
    sandwich_random: int
    inplace_distillation: bool

    def __post_init__(self) -> None:
        within("epochs", self.epochs, 0)
        within("lr", self.lr, 0, 1, low_open=True)
        within("temperature", self.temperature, 0, low_open=True)
        within("alpha", self.alpha, 0, 1)
        within("sandwich_random", self.sandwich_random, 0)
        if not self.levels:
            raise ValueError("levels must list at least one {snr_db, factor}")


def _given(ranking: torch.Tensor | None) -> torch.Tensor:
    """The magnitude ranking of a spectrum that nests by magnitude (the constructor checks one of the two is set)."""
    assert ranking is not None
    return ranking


def spectrum_levels(options: SpectrumOptions) -> list[SpectrumLevel]:
    """The operating points of the options, in their order."""
    return [SpectrumLevel(lv.snr_db, lv.factor) for lv in options.levels]
