"""``spectrum``: one spectrum-trained shared network; the receiver picks the nested sub-network for its SNR."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from airnet.options import options_dict
from airnet.schemes.analog import AnalogScheme
from airnet.schemes.base import register_scheme
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
    """Nested shared-weight networks trained jointly, one per SNR level; the level is picked by the SNR."""

    Options = SpectrumOptions

    def levels(self) -> list[SpectrumLevel]:
        return [SpectrumLevel(lv.snr_db, lv.factor) for lv in self.options.levels]

    def spectrum(self) -> tuple[nn.Module, Spectrum]:
        """(trained shared model, its :class:`Spectrum`) for this budget (cached)."""
        setup, o = self.setup, self.options
        key = setup.key(label="spectrum", budget=self.budget, spectrum=options_dict(o), channel=setup.channel_cfg)

        def build() -> tuple[nn.Module, dict[str, Any]]:
            kd = Distillation(setup.teacher(), o.temperature, o.alpha)
            model = setup.new_model()
            model.load_state_dict(setup.noise_injected(o.start_snr_db).state_dict())
            ranking = importance_ranking(model)
            spec = Spectrum(ranking, self.levels(), 2 * self.budget)
            st = TrainSettings(epochs=o.epochs, batch_size=setup.settings.batch_size, lr=o.lr,
                               weight_decay=setup.settings.weight_decay)
            g = setup.generator("spectrum", key)
            train_model(model, setup.data.x_train, setup.data.y_train, st, g, distill=kd,
                        views=spec.views(setup.channel, g), desc=setup.desc("spectrum training"))
            return model, {"ranking": ranking}

        model, extras = setup.trained(key, build, "spectrum")
        return model, Spectrum(extras["ranking"], self.levels(), 2 * self.budget)

    def model(self) -> nn.Module:
        return self.spectrum()[0]

    def plan(self, model, snr_db):
        spec = self.spectrum()[1]
        level = spec.level_for(snr_db)
        return spec.plan(level), {"expansion": level.factor, **spec.memory(self.setup.num_params)}
