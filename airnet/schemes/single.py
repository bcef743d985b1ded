"""One full model sent once per weight: ``clean`` (conventional training) and ``noise_injection``.

If the model does not fit the budget, only its largest weights are sent (no retraining): the naive baseline that
the pruning techniques improve on.
"""
from __future__ import annotations

from dataclasses import dataclass

from airnet.params import model_vector
from airnet.pruning import magnitude_mask
from airnet.schemes.analog import AnalogScheme
from airnet.schemes.base import register_scheme
from airnet.transmission import TransmissionPlan


class SingleModelScheme(AnalogScheme):
    """Send every weight once, or the ``2 x budget`` largest ones when the model does not fit."""

    def plan(self, model, snr_db):
        w = model_vector(model)
        keep = min(w.numel(), 2 * self.budget)
        if keep == w.numel():
            return TransmissionPlan.full(w.numel()), {}
        return TransmissionPlan.from_repeats(magnitude_mask(w, keep).long()), {}


@register_scheme("clean")
class Clean(SingleModelScheme):
    """Conventionally trained model, sent analog (AirNet without any channel-aware training)."""

    def model(self):
        return self.setup.teacher()


@dataclass(frozen=True)
class NoiseInjectionOptions:
    """``snr_db``: SNR of the delivery noise injected into the weights during training."""

    snr_db: float


@register_scheme("noise_injection")
class NoiseInjection(SingleModelScheme):
    """Model trained with the channel's own delivery noise at ``snr_db`` (straight-through gradient)."""

    Options = NoiseInjectionOptions

    def model(self):
        return self.setup.noise_injected(self.options.snr_db)
