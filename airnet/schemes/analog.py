"""Analog delivery base: a trained model and a :class:`TransmissionPlan`; the one place weights go on the air.

Side information (power scale, mask, expansion factors) is paid for from the same budget
(:mod:`airnet.side_info.sizing`): :meth:`AnalogScheme.fit` takes the largest plan whose channel uses plus its side
information's fit, and a realization whose side information fails its CRC receives no model (all-zero weights).
"""
from __future__ import annotations

from abc import abstractmethod
from typing import Any, Callable, Literal, TypeVar

import torch
from torch import nn

from airnet.delivery.plan import TransmissionPlan, expansion_columns
from airnet.delivery.transmit import transmit_vector
from airnet.schemes.base import Delivery, Scheme
from airnet.side_info.bits import MaskPricing, SideInfo, analog_side_info
from airnet.side_info.protection import Design
from airnet.side_info.sizing import Fit, NothingFits, fit_plan, weights_that_fit
from airnet.training.pruning import Pruner, make_pruner
from airnet.zoo.params import ParamLayout, check_weights, model_vector

O = TypeVar("O")
Planned = tuple[TransmissionPlan, dict[str, Any]]


class AnalogScheme(Scheme[O]):
    """AirNet delivery: weights sent as analog symbols by :func:`airnet.delivery.transmit.transmit_vector`.

    Subclasses supply :meth:`model` (the network trained for the design SNR) and :meth:`plan` (which weights, how
    many copies, within a number of reals). :meth:`pruner` selects and prices the plan's mask: unstructured unless
    :meth:`structure` says otherwise.
    """

    @abstractmethod
    def model(self, design: Design) -> nn.Module:
        """The trained model whose parameters are sent, designed for ``design``."""

    @abstractmethod
    def plan(self, model: nn.Module, design: Design, reals: int) -> Planned | None:
        """A plan sending at most ``reals`` reals, and extra CSV columns; None if nothing useful fits."""

    def structure(self) -> Literal["unstructured", "structured"]:
        """What the plan leaves out: single weights (``unstructured``) or whole neurons / filters."""
        return "unstructured"

    def pruner(self, model: nn.Module) -> Pruner:
        """Selects and prices the plan's mask (built once per model: unit groups cost a loop)."""
        return self.memoized("pruner", id(model), lambda: make_pruner(model, self.structure()))

    def side_info(self, model: nn.Module, plan: TransmissionPlan) -> SideInfo:
        """Power scale, coded mask (if any weight is left out) and per-layer copy counts (if any differs from 1)."""
        try:
            return analog_side_info(model, plan, self.pruner(model))
        except ValueError as exc:
            raise ValueError(f"{self.name}: {exc}") from exc

    def weights_that_fit(self, side_snr_db: float, factor: int, pricing: MaskPricing, extra_bits: int = 0,
                         mask_for: Callable[[int], torch.Tensor] | None = None) -> int:
        """Most weights that fit, ``factor`` copies each, beside the side information they will need protected for
        ``side_snr_db``, the mask priced by the code of ``mask_for(keep)``
        (:func:`airnet.side_info.sizing.weights_that_fit`); raises :class:`NothingFits`."""
        ctx = self.context
        return weights_that_fit(self.budget, ctx.num_params, ctx.num_layers, factor, pricing, ctx.side_link,
                                side_snr_db, extra_bits, who=self.name, mask_for=mask_for)

    def fit(self, model: nn.Module, design: Design) -> Fit | None:
        """Largest plan whose channel uses plus its side information's fit the budget (None if none does);
        memoized per model and design (a fixed-design sweep fits once, not once per SNR)."""
        return self.memoized("fit", (id(model), design), lambda: self._fit(model, design))

    def _fit(self, model: nn.Module, design: Design) -> Fit | None:
        fit = fit_plan(lambda reals: self.plan(model, design, reals), lambda plan: self.side_info(model, plan),
                       self.context.side_link, design.side_snr(), self.budget)
        if fit is not None:      # the CSV columns of the chosen plan, once per fit rather than per delivery
            fit.info = {"params_sent": int(fit.plan.mask.sum()), **expansion_columns(model, fit.plan), **fit.info}
        return fit

    def searches(self, snr_db: float, design_snr_db: float | None = None) -> None:
        """The fit of the point's (untrained, in a dry run) model: the searches of its side information, whose
        sizes depend on the plan's structure, not on the trained values (the masks' codes aside)."""
        design = self.context.side_link.design(snr_db, design_snr_db)
        try:
            model = self.model(design)
        except NothingFits:
            return
        self.fit(model, design)

    def deliver(self, snr_db: float, num_realizations: int, generator: torch.Generator,
                design_snr_db: float | None = None) -> Delivery:
        ctx = self.context
        design = ctx.side_link.design(snr_db, design_snr_db)
        try:
            model = self.model(design)
        except NothingFits:
            model = None
        fit = None
        if model is not None:
            w = model_vector(model)
            check_weights(w, ParamLayout.of(model))
            fit = self.fit(model, design)
        protection = {} if ctx.side_link.free else {"side_info_snr_db": design.side_snr()}
        if model is None or fit is None:   # not one weight fits beside its side information: no model received
            return Delivery(model or ctx.new_model().eval(), torch.zeros(num_realizations, ctx.num_params), 0,
                            info={"params_sent": 0, "side_info_ok": 0.0, **protection})
        # every delivery of the point draws the channel as for the whole budget: common noise and fades, symbol
        # by symbol, whatever the plan's length (common random numbers across schemes)
        vecs = transmit_vector(w, ctx.channel, snr_db, num_realizations, fit.plan, generator,
                               pad_to=2 * ctx.channel.symbols_in(self.budget))
        info = {**fit.info, **protection, "draws_shape": f"analog, {self.budget} channel uses"}
        if not ctx.side_link.free:
            bits = torch.randint(0, 2, (num_realizations, fit.side.bits), generator=generator,
                                 device=generator.device).float()
            ok = fit.transport.send(bits, ctx.channel, snr_db, generator)[1].all(dim=1)
            vecs[~ok.to(vecs.device)] = 0.0
            info.update(side_info_ok=round(float(ok.float().mean()), 6), side_info_parts=fit.side.describe(),
                        side_info_link=fit.transport.describe())
        return Delivery(model, vecs, fit.channel_uses, fit.side.bits, fit.transport.channel_uses, info)
