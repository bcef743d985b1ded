"""``spectrum``: one spectrum-trained shared network; the nested sub-network for the design SNR is sent."""
from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

from airnet.delivery.plan import TransmissionPlan
from airnet.schemes.analog import AnalogScheme, Planned
from airnet.schemes.base import register_scheme
from airnet.side_info.bits import SideInfo, analog_side_info, state_bits
from airnet.side_info.protection import Design
from airnet.side_info.sizing import NothingFits
from airnet.training.pruning import MagnitudePruner, Pruner
from airnet.training.spectrum import (LevelOptions, OrderedWidths, Spectrum, SpectrumLevel, SpectrumOptions,
                                      importance_ranking, nested_mask, spectrum_levels)

__all__ = ["LevelOptions", "SpectrumOptions", "SpectrumScheme"]


@register_scheme("spectrum")
class SpectrumScheme(AnalogScheme[SpectrumOptions]):
    """Nested shared-weight networks trained jointly, one per SNR level. Each level is sized to fit with its side
    information (mask, level index) at its own SNR; the transmitter sends the level of the design SNR."""

    Options = SpectrumOptions

    @classmethod
    def needs_units(cls, options: SpectrumOptions) -> str | None:
        return "nesting" if options.nesting == "ordered_width" else None

    def levels(self) -> list[SpectrumLevel]:
        return spectrum_levels(self.options)

    def level_bits(self) -> int:
        """Side information naming the level sent."""
        return max(1, math.ceil(math.log2(len(self.options.levels))))

    @property
    def ordered(self) -> bool:
        return self.options.nesting == "ordered_width"

    def structure(self) -> Literal["unstructured", "structured"]:
        return "structured" if self.ordered else "unstructured"

    def pruner(self, model: nn.Module) -> Pruner:
        return _LevelOnly(OrderedWidths(model)) if self.ordered else MagnitudePruner(model)

    def spectrum(self, design: Design) -> tuple[nn.Module, Spectrum]:
        """(trained shared model, its :class:`Spectrum`) for this budget (cached). Each level is sized beside its
        side information protected as ``design`` says for that level's SNR."""
        return self.memoized("spectrum", design, lambda: self._spectrum(design))

    def _spectrum(self, design: Design) -> tuple[nn.Module, Spectrum]:
        pruner = self.pruner(self.context.new_model())
        mask_for = None
        if not self.ordered:          # the level's mask priced at its exact code: the nested mask of the start model
            ranking = importance_ranking(self.recipes.noise_injected(self.options.start_snr_db))
            mask_for = lambda keep: nested_mask(ranking, keep)   # noqa: E731
        keeps = {}
        for lv in self.levels():
            try:
                keeps[lv] = self.weights_that_fit(design.side_snr(lv.snr_db), lv.factor, pruner,
                                                  self.level_bits() + state_bits(self.context.new_model()),
                                                  mask_for=mask_for)
            except NothingFits:
                keeps[lv] = 0                          # this level is off: its receivers get no model
        if not any(keeps.values()):
            raise NothingFits(f"spectrum: no level fits a budget of {self.budget} channel uses")
        return self.recipes.spectrum(self.options, self.budget, keeps)

    def model(self, design: Design) -> nn.Module:
        return self.spectrum(design)[0]

    def side_info(self, model: nn.Module, plan: TransmissionPlan) -> SideInfo:
        """Scale, factors, the level, and (magnitude nesting) the level's mask; ordered widths need no mask."""
        return analog_side_info(model, plan, self.pruner(model), {"level": self.level_bits()})

    def label(self) -> str:
        return "spectrum (ordered widths)" if self.ordered else "spectrum"

    def plan(self, model: nn.Module, design: Design, reals: int) -> Planned | None:
        spec = self.spectrum(design)[1]
        level = spec.level_for(design.snr_db)
        if reals // level.factor < 1 or spec.keep(level) < 1:
            return None
        return spec.plan(level, reals // level.factor), {"level_snr_db": level.snr_db,
                                                         **spec.memory(self.context.num_params)}


class _LevelOnly:
    """Pruner view of ordered widths: the level names the mask, so the mask itself costs no bits."""

    def __init__(self, widths: OrderedWidths) -> None:
        self.widths = widths
        self.min_keep = int(widths.mask(0.0).sum())

    def select(self, w: torch.Tensor, keep: int) -> torch.Tensor:
        return self.widths.mask(self.widths.width_for(keep)).to(w.device)

    def mask_bits(self, mask: torch.Tensor) -> int:
        return 0

    def expected_mask_bits(self, keep: int) -> int:
        return 0
