"""Analog delivery base: a trained model and a :class:`TransmissionPlan`; the one place weights go on the air.

Side information (power scale, mask, expansion factors) is paid for from the same budget: :meth:`fit` shrinks the
plan until plan + side-information channel uses fit, and a realization whose side information fails its CRC
receives no model (all-zero weights).
"""
from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from airnet.links import Transport
from airnet.params import ParamLayout, check_weights, model_vector
from airnet.pruning import MagnitudePruner, Pruner
from airnet.schemes.base import Delivery, Scheme
from airnet.side_info import FACTOR_BITS, SCALE_BITS, Design, SideInfo, largest_fitting
from airnet.transmission import TransmissionPlan, transmit_vector


class NothingFits(ValueError):
    """Not one weight fits the budget beside the side information it needs."""


@dataclass
class Fit:
    """A plan and its side information that together fit the budget; ``channel_uses`` counts the channel's
    pilots too."""

    plan: TransmissionPlan
    info: dict[str, Any]
    side: SideInfo
    transport: Transport
    channel_uses: int


class AnalogScheme(Scheme):
    """AirNet delivery: weights sent as analog symbols by :func:`airnet.transmission.transmit_vector`.

    Subclasses supply :meth:`model` (the network trained for the design SNR) and :meth:`plan` (which weights, how
    many copies, within a number of reals); :meth:`pruner` prices the plan's mask.
    """

    @abstractmethod
    def model(self, design: Design) -> nn.Module:
        """The trained model whose parameters are sent, designed for ``design``."""

    @abstractmethod
    def plan(self, model: nn.Module, design: Design,
             reals: int) -> tuple[TransmissionPlan, dict[str, Any]] | None:
        """A plan sending at most ``reals`` reals, and extra CSV columns; None if nothing useful fits."""

    def pruner(self, model: nn.Module) -> Pruner:
        """How the plan's mask is coded (unstructured by default)."""
        return MagnitudePruner(model)

    def side_info(self, model: nn.Module, plan: TransmissionPlan) -> SideInfo:
        """Power scale, coded mask (if any weight is left out) and per-layer copy counts (if any differs from 1)."""
        parts = {"scale": SCALE_BITS}
        mask = plan.mask
        if not bool(mask.all()):
            parts["mask"] = self.pruner(model).mask_bits(mask)
        if not plan.single_copy:
            fewest, most = layer_copies(model, plan)
            varying = torch.nonzero(fewest != most).flatten()
            if varying.numel():
                raise ValueError(f"{self.name}: copies vary inside layer {int(varying[0])}; the side information "
                                 f"codes one count per layer")
            parts["factors"] = FACTOR_BITS * int((most > 0).sum())
        return SideInfo(parts)

    def sized_keep(self, side_snr_db: float, factor: int, pruner: Pruner, extra_bits: int = 0) -> int:
        """Most weights that fit, ``factor`` copies each, beside the side information they will need, protected
        for ``side_snr_db`` (scale, mask estimated before it exists, per-layer factors, ``extra_bits``);
        :meth:`fit` corrects with the real mask. Raises if not one weight fits."""
        n = self.setup.num_params
        layers = len(ParamLayout.of(self.setup.new_model()).names)

        def fits(keep: int) -> bool:
            if keep < pruner.min_keep:
                return False
            bits = SCALE_BITS + extra_bits + (pruner.expected_mask_bits(keep) if keep < n else 0)
            bits += FACTOR_BITS * layers if factor > 1 else 0
            transport = self.setup.side_link.transport(bits, side_snr_db)
            if transport is None:
                return False
            symbols = -(-keep * factor // 2) + transport.channel_uses
            return self.setup.channel.uses_for(symbols) <= self.budget

        keep = largest_fitting(min(n, 2 * self.budget // factor), fits)
        if keep < 1:
            raise NothingFits(f"{self.name}: a budget of {self.budget} channel uses leaves no weight at expansion "
                              f"factor {factor} beside its side information protected for {side_snr_db} dB")
        return keep

    def fit(self, model: nn.Module, design: Design) -> Fit | None:
        """Largest plan whose channel uses plus its side information's fit the budget (None if none does);
        memoized per model and design (a fixed-design sweep fits once, not once per SNR)."""
        return self.memoized("fit", (id(model), design), lambda: self._fit(model, design))

    def _fit(self, model: nn.Module, design: Design) -> Fit | None:
        found: dict[int, Fit | None] = {}

        def attempt(reals: int) -> Fit | None:
            if reals not in found:
                planned = self.plan(model, design, reals)
                fit = None
                if planned is not None:
                    side = self.side_info(model, planned[0])
                    transport = self.setup.side_link.transport(side.bits, design.side_snr())
                    if transport is not None:
                        uses = self.setup.channel.uses_for(planned[0].channel_uses + transport.channel_uses)
                        fit = Fit(planned[0], planned[1], side, transport, uses)
                found[reals] = fit
            return found[reals]

        def fits(reals: int) -> bool:
            fit = attempt(reals)
            return fit is not None and fit.channel_uses <= self.budget

        best = largest_fitting(2 * self.budget, fits)
        if not best:
            return None
        fit = attempt(best)         # the CSV columns of the chosen plan, once per fit rather than per delivery
        fit.info = {"params_sent": int(fit.plan.mask.sum()), **expansion_columns(model, fit.plan), **fit.info}
        return fit

    def deliver(self, snr_db: float, num_realizations: int, generator: torch.Generator,
                design_snr_db: float | None = None) -> Delivery:
        design = self.setup.side_link.design(snr_db, design_snr_db)
        try:
            model = self.model(design)
        except NothingFits:
            model = None
        fit = None
        if model is not None:
            w = model_vector(model)
            check_weights(w, ParamLayout.of(model))
            fit = self.fit(model, design)
        if fit is None:        # not one weight fits beside its side information: the receiver has no model
            return Delivery(model or self.setup.new_model().eval(), torch.zeros(num_realizations,
                            self.setup.num_params), 0, info={"params_sent": 0, "side_info_ok": 0.0})
        vecs = transmit_vector(w, self.setup.channel, snr_db, num_realizations, fit.plan, generator)
        info = dict(fit.info)
        if not self.setup.side_link.free:
            bits = torch.randint(0, 2, (num_realizations, fit.side.bits), generator=generator,
                                 device=generator.device).float()
            ok = fit.transport.send(bits, self.setup.channel, snr_db, generator)[1].all(dim=1)
            vecs[~ok.to(vecs.device)] = 0.0
            info.update(side_info_ok=round(float(ok.float().mean()), 6), side_info_parts=fit.side.describe(),
                        side_info_link=transport_label(fit.transport))
        return Delivery(model, vecs, fit.channel_uses, fit.side.bits, fit.transport.channel_uses, info)


def expansion_columns(model: nn.Module, plan: TransmissionPlan) -> dict[str, Any]:
    """``expansion``: mean copies per sent weight (a number); ``expansion_per_layer``: copies of each parameter
    tensor's sent weights, ``/``-separated (0 where none is sent)."""
    most = layer_copies(model, plan)[1]
    return {"expansion": round(plan.num_reals / max(1, int(plan.mask.sum())), 4),
            "expansion_per_layer": "/".join(map(str, most.tolist()))}


def layer_copies(model: nn.Module, plan: TransmissionPlan) -> tuple[torch.Tensor, torch.Tensor]:
    """Fewest and most copies among each parameter tensor's sent weights: two [num_tensors] long (0 where none
    is sent), on the CPU."""
    reps, mask = plan.repeats.cpu(), plan.mask.cpu()
    layout = ParamLayout.of(model)
    layer_of = layout.layer_of()[mask]
    zeros = torch.zeros(len(layout.names), dtype=torch.long)
    # include_self=False: a tensor with no sent weight keeps its 0
    return (zeros.scatter_reduce(0, layer_of, reps[mask], "amin", include_self=False),
            zeros.scatter_reduce(0, layer_of, reps[mask], "amax", include_self=False))


def transport_label(transport: Transport) -> str:
    """Short description of a transport for the CSV (MCS, code blocks, or the capacity model)."""
    seg = getattr(transport, "seg", None)
    if seg is not None:
        return f"{seg.mcs}, {seg.codewords}x k={seg.k}"
    return getattr(transport, "model", "free")
