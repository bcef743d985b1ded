"""Sizing a delivery to its budget: the payload and the side information it needs share the same channel uses.

* :func:`weights_that_fit`: the most weights an analog plan can send (``factor`` copies each) beside the side
  information they will need, with the mask at its expected length (for training a network to that size);
* :func:`fit_plan`: the largest real plan whose channel uses plus its side information's fit (the mask at its exact
  length);
* :func:`codes_that_fit`: the most ``b``-bit weight codes a digital payload of ``bits_available`` holds beside its
  header and mask.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

from airnet.delivery.plan import TransmissionPlan
from airnet.side_info.bits import MaskPricing, SideInfo, analog_parts, payload_parts
from airnet.side_info.protection import SideLink
from airnet.side_info.search import largest_fitting
from airnet.side_info.transports import Transport


class NothingFits(ValueError):
    """Not one weight fits the budget beside the side information it needs."""


@dataclass
class Fit:
    """A plan and its side information that together fit the budget; ``channel_uses`` counts the channel's
    pilots too; ``info`` holds the plan's CSV columns."""

    plan: TransmissionPlan
    info: dict[str, Any]
    side: SideInfo
    transport: Transport
    channel_uses: int


def weights_that_fit(budget: int, num_params: int, num_layers: int, factor: int, pricing: MaskPricing,
                     side_link: SideLink, side_snr_db: float, extra_bits: int = 0, who: str = "delivery",
                     mask_for: Callable[[int], torch.Tensor] | None = None) -> int:
    """Most weights that fit ``budget`` channel uses, ``factor`` copies each, beside the side information they will
    need protected for ``side_snr_db``: scale, the mask, per-layer factors, ``extra_bits``.

    The mask is priced at the exact code length of ``mask_for(keep)`` (the mask the pruner picks from the model
    training starts from: the trained mask differs little, and :func:`fit_plan` corrects with it), or at the
    pricing's expected length without it. Raises :class:`NothingFits` (naming ``who``) if not one weight fits.
    """
    def fits(keep: int) -> bool:
        if keep < pricing.min_keep:
            return False
        mask = mask_price(pricing, keep, num_params, mask_for)
        bits = sum(analog_parts(mask, num_layers if factor > 1 else 0).values()) + extra_bits
        transport = side_link.transport(bits, side_snr_db)
        if transport is None:
            return False
        symbols = -(-keep * factor // 2) + transport.channel_uses
        return side_link.channel.uses_for(symbols) <= budget

    keep = largest_fitting(min(num_params, 2 * budget // factor), fits)
    if keep < 1:
        raise NothingFits(f"{who}: a budget of {budget} channel uses leaves no weight at expansion factor {factor} "
                          f"beside its side information protected for {side_snr_db} dB")
    return keep


def mask_price(pricing: MaskPricing, keep: int, num_params: int,
               mask_for: Callable[[int], torch.Tensor] | None = None) -> int:
    """Bits of the mask that keeps ``keep`` of ``num_params`` weights: none for all of them, else the exact code of
    ``mask_for(keep)`` when given, else the pricing's expected length."""
    if keep >= num_params:
        return 0
    return pricing.mask_bits(mask_for(keep)) if mask_for is not None else pricing.expected_mask_bits(keep)


def fit_plan(plan_for: Callable[[int], tuple[TransmissionPlan, dict[str, Any]] | None],
             side_for: Callable[[TransmissionPlan], SideInfo], side_link: SideLink, side_snr_db: float,
             budget: int) -> Fit | None:
    """The largest plan ``plan_for(reals)`` (a plan of at most ``reals`` reals and CSV columns, or None) whose channel
    uses plus those of its side information ``side_for(plan)``, protected for ``side_snr_db``, fit ``budget``.

    None when no plan fits.
    """
    found: dict[int, Fit | None] = {}

    def attempt(reals: int) -> Fit | None:
        if reals not in found:
            planned = plan_for(reals)
            fit = None
            if planned is not None:
                side = side_for(planned[0])
                transport = side_link.transport(side.bits, side_snr_db)
                if transport is not None:
                    uses = side_link.channel.uses_for(planned[0].channel_uses + transport.channel_uses)
                    fit = Fit(planned[0], planned[1], side, transport, uses)
            found[reals] = fit
        return found[reals]

    def fits(reals: int) -> bool:
        fit = attempt(reals)
        return fit is not None and fit.channel_uses <= budget

    best = largest_fitting(2 * budget, fits)
    return attempt(best) if best else None


def codes_that_fit(bits_available: int, bits: int, num_params: int, num_layers: int, pricing: MaskPricing,
                   side_counted: bool, mask_for: Callable[[int], torch.Tensor] | None = None, state: int = 0) -> int:
    """Most weights whose ``bits``-bit codes fit ``bits_available`` beside their side information (header, width,
    and the mask: the exact code of ``mask_for(keep)`` when given, else its expected length; none when side
    information is free)."""
    def fits(keep: int) -> bool:
        if keep < pricing.min_keep:
            return False
        side = 0
        if side_counted:
            side = sum(payload_parts(num_layers, mask_price(pricing, keep, num_params, mask_for), state).values())
        return keep * bits + side <= bits_available

    return largest_fitting(min(num_params, bits_available // bits), fits)
