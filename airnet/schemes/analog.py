"""Analog delivery base: a trained model and a :class:`TransmissionPlan`; the one place weights go on the air."""
from __future__ import annotations

from abc import abstractmethod
from typing import Any

import torch
from torch import nn

from airnet.params import model_vector
from airnet.schemes.base import Delivery, Scheme
from airnet.transmission import TransmissionPlan, transmit_vector


class AnalogScheme(Scheme):
    """AirNet delivery: weights sent as analog symbols by :func:`airnet.transmission.transmit_vector`.

    Subclasses supply :meth:`model` (the trained network) and :meth:`plan` (which weights, how many copies).
    """

    @abstractmethod
    def model(self) -> nn.Module:
        """The trained model whose parameters are sent."""

    @abstractmethod
    def plan(self, model: nn.Module, snr_db: float) -> tuple[TransmissionPlan, dict[str, Any]]:
        """Transmission plan within ``self.budget`` channel uses at ``snr_db``, and extra CSV columns."""

    def deliver(self, snr_db: float, num_realizations: int, generator: torch.Generator) -> Delivery:
        model = self.model()
        plan, info = self.plan(model, snr_db)
        vecs = transmit_vector(model_vector(model), self.setup.channel, snr_db, num_realizations, plan, generator)
        return Delivery(model, vecs, plan.channel_uses, {"params_sent": int(plan.mask.sum()), **info})
