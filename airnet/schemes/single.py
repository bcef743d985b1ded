"""One full model sent once per weight: ``clean`` (conventional training) and ``noise_injection``.

If the model does not fit the budget (side information included), only part of it is sent, with no retraining:
its largest weights (``structure: unstructured``) or its strongest neurons / filters (``structured``, a cheaper
mask). This is the naive baseline the pruning techniques improve on.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from torch import nn

from airnet.delivery.plan import TransmissionPlan
from airnet.schemes.analog import AnalogScheme, Planned
from airnet.schemes.base import register_scheme
from airnet.side_info.protection import Design
from airnet.zoo.params import model_vector


@dataclass(frozen=True)
class SingleModelOptions:
    """``structure``: what is left out when the model does not fit (``unstructured`` | ``structured``)."""

    structure: Literal["unstructured", "structured"]


class SingleModelScheme(AnalogScheme[SingleModelOptions]):
    """Send every weight once, or the part of the model that fits in ``reals``."""

    Options = SingleModelOptions

    @classmethod
    def needs_units(cls, options: SingleModelOptions) -> str | None:
        return "structure" if options.structure == "structured" else None

    def structure(self) -> Literal["unstructured", "structured"]:
        return self.options.structure

    def plan(self, model: nn.Module, design: Design, reals: int) -> Planned | None:
        w = model_vector(model)
        if reals >= w.numel():
            return TransmissionPlan.full(w.numel()), {}
        pruner = self.pruner(model)
        if reals < pruner.min_keep:
            return None
        mask = pruner.select(w, reals)
        return (TransmissionPlan.from_repeats(mask.long()), {}) if bool(mask.any()) else None


@register_scheme("clean")
class Clean(SingleModelScheme):
    """Conventionally trained model, sent analog (AirNet without any channel-aware training)."""

    def model(self, design: Design) -> nn.Module:
        return self.recipes.teacher()


@register_scheme("noise_injection")
class NoiseInjection(SingleModelScheme):
    """Model trained with the channel's own delivery noise at the design SNR (straight-through gradient)."""

    def model(self, design: Design) -> nn.Module:
        return self.recipes.noise_injected(design.snr_db)

    def label(self) -> str:
        return "noise injection"
