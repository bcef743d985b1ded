"""The pruned family: one network pruned to the budget and fine-tuned under channel noise with KD, sent by plan.

``pruning_kd`` sends every surviving weight once; ``expansion`` prunes to ``budget / factor`` and sends each weight
``factor`` times; ``uep`` starts from the same network as ``expansion`` and gives each layer its own factor by
measured sensitivity. Networks with the same pruning options, size and factor are trained once and shared.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from airnet.expansion import expansion_keep, layer_expansion_plan, uniform_expansion_plan
from airnet.noise_injection import ChannelNoise
from airnet.options import options_dict
from airnet.params import ParamLayout, model_vector
from airnet.pruning import iterative_prune
from airnet.schemes.analog import AnalogScheme
from airnet.schemes.base import register_scheme
from airnet.training import Distillation, TrainSettings, train_model
from airnet.transmission import TransmissionPlan
from airnet.uep import allocate_expansion, layer_sensitivity


@dataclass(frozen=True)
class PruneOptions:
    """Iterative magnitude pruning to the budget, each round fine-tuned under channel noise with KD.

    ``snr_db``: noise-injection SNR (also of the noise-injected starting model); ``steps``: pruning rounds;
    ``finetune_epochs`` and ``lr``: fine-tuning after each round; ``temperature`` and ``alpha``: KD loss.
    """

    snr_db: float
    steps: int
    finetune_epochs: int
    lr: float
    temperature: float
    alpha: float


class PrunedScheme(AnalogScheme):
    """A network pruned to ``budget / factor`` weights; subclasses choose the factor and the plan."""

    def prune_options(self) -> PruneOptions:
        return self.options

    def factor(self) -> int:
        """Copies per weight the pruned network is sized (and fine-tuned) for."""
        return 1

    def pruned(self) -> tuple[nn.Module, torch.Tensor]:
        """(fine-tuned pruned model, mask [n] bool) for this budget and factor (cached)."""
        setup, o, factor = self.setup, self.prune_options(), self.factor()
        keep = min(expansion_keep(2 * self.budget, factor), setup.num_params)
        if keep < 1:
            raise ValueError(f"a budget of {self.budget} channel uses leaves no weight at expansion factor {factor}")
        key = setup.key(label="pruned", keep=keep, factor=factor, prune=options_dict(o), channel=setup.channel_cfg,
                        snr=o.snr_db)

        def build() -> tuple[nn.Module, dict[str, Any]]:
            kd = Distillation(setup.teacher(), o.temperature, o.alpha)
            model = setup.new_model()
            model.load_state_dict(setup.noise_injected(o.snr_db).state_dict())
            ft = TrainSettings(epochs=o.finetune_epochs, batch_size=setup.settings.batch_size, lr=o.lr,
                               weight_decay=setup.settings.weight_decay)
            g = setup.generator("prune", key)

            def finetune(m: nn.Module, mask: torch.Tensor) -> None:
                noise = ChannelNoise(setup.channel, o.snr_db, plan=uniform_expansion_plan(mask, factor), generator=g)
                train_model(m, setup.data.x_train, setup.data.y_train, ft, g, weight_noise=noise, mask=mask,
                            distill=kd, desc=setup.desc(f"fine-tune keep={int(mask.sum())}"))

            return model, {"mask": iterative_prune(model, keep, o.steps, finetune)}

        model, extras = setup.trained(key, build, "pruned")
        return model, extras["mask"]

    def model(self) -> nn.Module:
        return self.pruned()[0]

    def plan(self, model, snr_db):
        return uniform_expansion_plan(self.pruned()[1], self.factor()), {"expansion": self.factor()}


@register_scheme("pruning_kd")
class PruningKD(PrunedScheme):
    """Prune to the budget, fine-tune under channel noise with KD from the clean teacher; every weight sent once."""

    Options = PruneOptions


@dataclass(frozen=True)
class ExpansionOptions:
    """``factor``: copies of every surviving weight; ``prune``: how the network is pruned (``scheme.pruning_kd``)."""

    factor: int
    prune: PruneOptions


@register_scheme("expansion")
class Expansion(PrunedScheme):
    """Uniform channel expansion: prune to ``budget / factor``, send each weight ``factor`` times, combine."""

    Options = ExpansionOptions

    def prune_options(self) -> PruneOptions:
        return self.options.prune

    def factor(self) -> int:
        return self.options.factor


@dataclass(frozen=True)
class UEPOptions(ExpansionOptions):
    """Expansion options (``factor``: the uniform expansion network UEP starts from, i.e. its mean copies per
    weight) plus ``max_factor``: copies per layer at most; ``draws``: channel realizations per layer for the
    sensitivity estimate."""

    max_factor: int
    draws: int


@register_scheme("uep")
class UEP(Expansion):
    """Unequal error protection: the expansion network, with per-layer factors by measured loss sensitivity."""

    Options = UEPOptions

    def plan(self, model, snr_db) -> tuple[TransmissionPlan, dict[str, Any]]:
        mask = self.pruned()[1]
        layout = ParamLayout.of(model)
        layer_of = layout.layer_of()
        sens = layer_sensitivity(model, model_vector(model), uniform_expansion_plan(mask, 1), self.setup.channel,
                                 snr_db, self.setup.data.x_val, self.setup.data.y_val, self.options.draws,
                                 self.setup.generator("uep", snr_db, self.budget))
        sizes = torch.bincount(layer_of[mask], minlength=len(layout.names))
        factors = allocate_expansion(sizes, sens, 2 * self.budget, self.options.max_factor)
        return layer_expansion_plan(mask, layer_of, factors), {"expansion": "/".join(map(str, factors.tolist()))}
