"""``spectrum``: one spectrum-trained shared network; the nested sub-network for the design SNR is sent."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from torch import nn

from airnet.options import options_dict
from airnet.pruning import MagnitudePruner
from airnet.schemes.analog import AnalogScheme
from airnet.schemes.base import register_scheme
from airnet.side_info import Design
from airnet.spectrum import Spectrum, SpectrumLevel, importance_ranking
from airnet.training import Distillation, TrainSettings, train_model


@dataclass(frozen=True)
class LevelOptions:
    """A spectrum level: channels at or above ``snr_db`` send the nested network ``factor`` times."""

    snr_db: float
    factor: int


@dataclass(frozen=True)
class SpectrumOptions:
    """``epochs``, ``lr``: joint training of all levels; ``temperature``, ``alpha``: KD from the clean teacher;
    ``levels``: operating points; ``start_snr_db``: noise-injection SNR of the starting model."""

    epochs: int
    lr: float
    temperature: float
    alpha: float
    levels: tuple[LevelOptions, ...]
    start_snr_db: float


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

    def spectrum(self, design: Design) -> tuple[nn.Module, Spectrum]:
        """(trained shared model, its :class:`Spectrum`) for this budget (cached). Each level is sized beside its
        side information protected as ``design`` says for that level's SNR."""
        setup, o = self.setup, self.options
        pruner = MagnitudePruner(setup.new_model())
        keeps = {lv: self.sized_keep(design.side_snr(lv.snr_db), lv.factor, pruner, self.level_bits())
                 for lv in self.levels()}
        key = setup.key(label="spectrum", budget=self.budget, spectrum=options_dict(o), channel=setup.channel_cfg,
                        keeps=[keeps[lv] for lv in self.levels()])

        def build() -> tuple[nn.Module, dict[str, Any]]:
            kd = Distillation(setup.teacher(), o.temperature, o.alpha)
            model = setup.new_model()
            model.load_state_dict(setup.noise_injected(o.start_snr_db).state_dict())
            ranking = importance_ranking(model)
            spec = Spectrum(ranking, self.levels(), 2 * self.budget, keeps)
            st = TrainSettings(epochs=o.epochs, batch_size=setup.settings.batch_size, lr=o.lr,
                               weight_decay=setup.settings.weight_decay)
            g = setup.generator("spectrum", key)
            train_model(model, setup.data.x_train, setup.data.y_train, st, g, distill=kd,
                        views=spec.views(setup.channel, g), desc=setup.desc("spectrum training"))
            return model, {"ranking": ranking}

        model, extras = setup.trained(key, build, "spectrum")
        return model, Spectrum(extras["ranking"], self.levels(), 2 * self.budget, keeps)

    def model(self, design):
        return self.spectrum(design)[0]

    def side_info(self, model, plan):
        base = super().side_info(model, plan)
        return type(base)({**base.parts, "level": self.level_bits()})

    def plan(self, model, design, reals):
        spec = self.spectrum(design)[1]
        level = spec.level_for(design.snr_db)
        if reals // level.factor < 1:
            return None
        return spec.plan(level, reals // level.factor), {"level_snr_db": level.snr_db,
                                                         **spec.memory(self.setup.num_params)}
