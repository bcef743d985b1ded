"""``spectrum``: one spectrum-trained shared network; the nested sub-network for the design SNR is sent."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from airnet.options import options_dict
from airnet.pruning import MagnitudePruner
from airnet.schemes.analog import AnalogScheme, NothingFits
from airnet.schemes.base import register_scheme
from airnet.side_info import Design
from airnet.spectrum import OrderedWidths, Spectrum, SpectrumLevel, importance_ranking
from airnet.training import Distillation, TrainSettings, train_model


@dataclass(frozen=True)
class LevelOptions:
    """A spectrum level: channels at or above ``snr_db`` send the nested network ``factor`` times."""

    snr_db: float
    factor: int


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


@register_scheme("spectrum")
class SpectrumScheme(AnalogScheme):
    """Nested shared-weight networks trained jointly, one per SNR level. Each level is sized to fit with its side
    information (mask, level index) at its own SNR; the transmitter sends the level of the design SNR."""

    Options = SpectrumOptions

    def levels(self) -> list[SpectrumLevel]:
        return [SpectrumLevel(lv.snr_db, lv.factor) for lv in self.options.levels]

    def level_bits(self) -> int:
        """Side information naming the level sent."""
        return max(1, math.ceil(math.log2(len(self.options.levels))))

    @property
    def ordered(self) -> bool:
        return self.options.nesting == "ordered_width"

    def pruner(self, model):
        return _LevelOnly(OrderedWidths(model)) if self.ordered else MagnitudePruner(model)

    def spectrum(self, design: Design) -> tuple[nn.Module, Spectrum]:
        """(trained shared model, its :class:`Spectrum`) for this budget (cached). Each level is sized beside its
        side information protected as ``design`` says for that level's SNR."""
        setup, o = self.setup, self.options
        pruner = self.pruner(setup.new_model())
        keeps = {}
        for lv in self.levels():
            try:
                keeps[lv] = self.sized_keep(design.side_snr(lv.snr_db), lv.factor, pruner, self.level_bits())
            except NothingFits:
                keeps[lv] = 0                          # this level is off: its receivers get no model
        if not any(keeps.values()):
            raise NothingFits(f"spectrum: no level fits a budget of {self.budget} channel uses")
        widths = OrderedWidths(setup.new_model()) if self.ordered else None
        key = setup.key(label="spectrum", budget=self.budget, spectrum=options_dict(o), channel=setup.channel_cfg,
                        keeps=[keeps[lv] for lv in self.levels()])

        def build() -> tuple[nn.Module, dict[str, Any]]:
            kd = Distillation(setup.teacher(), o.temperature, o.alpha)
            model = setup.new_model()
            model.load_state_dict(setup.noise_injected(o.start_snr_db).state_dict())
            ranking = None if self.ordered else importance_ranking(model)
            spec = Spectrum(ranking, self.levels(), 2 * self.budget, keeps, widths)
            st = TrainSettings(epochs=o.epochs, batch_size=setup.settings.batch_size, lr=o.lr,
                               weight_decay=setup.settings.weight_decay)
            g = setup.generator("spectrum", key)
            views = (lambda: spec.sandwich_views(setup.channel, g, o.sandwich_random, o.inplace_distillation)) \
                if self.ordered else spec.views(setup.channel, g)
            train_model(model, setup.data.x_train, setup.data.y_train, st, g, distill=kd, views=views,
                        desc=setup.desc("spectrum training"))
            return model, {"ranking": ranking if ranking is not None else torch.zeros(0, dtype=torch.long)}

        model, extras = setup.trained(key, build, "spectrum")
        ranking = None if self.ordered else extras["ranking"]
        return model, Spectrum(ranking, self.levels(), 2 * self.budget, keeps, widths)

    def model(self, design):
        return self.spectrum(design)[0]

    def side_info(self, model, plan):
        """Scale, factors, the level, and (magnitude nesting) the level's mask; ordered widths need no mask."""
        base = super().side_info(model, plan)
        return type(base)({**base.parts, "level": self.level_bits()})

    def label(self) -> str:
        return "spectrum (ordered widths)" if self.ordered else "spectrum"

    def plan(self, model, design, reals):
        spec = self.spectrum(design)[1]
        level = spec.level_for(design.snr_db)
        if reals // level.factor < 1 or spec.keep(level) < 1:
            return None
        return spec.plan(level, reals // level.factor), {"level_snr_db": level.snr_db,
                                                         **spec.memory(self.setup.num_params)}


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
