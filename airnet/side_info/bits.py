"""What the receiver must be told besides the payload, in bits: every side-information formula, written once.

* an analog stream: its power-normalization scale, the coded mask of the weights left out, and one copy count per
  layer when weights are sent more than once (:func:`analog_side_info`);
* a digital payload: a quantization header per layer (offset and step), the bit width and the coded mask
  (:func:`payload_side_info`);
* either way, the model's floating-point state that is not a parameter (BatchNorm running statistics), as float32
  (:func:`state_bits`): the receiver's model needs it and gets it nowhere else.

Masks are priced by a :class:`MaskPricing` (a pruner: unstructured masks cost about ``n H(p)`` bits, structured
ones a bit per unit; :mod:`airnet.side_info.mask_code`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Protocol

import torch
from torch import nn

from airnet.delivery.plan import TransmissionPlan, layer_copies

SCALE_BITS = 32    # the power-normalization scale of an analog stream, as float32
FACTOR_BITS = 5    # copies of one layer's weights (1..31)
FLOAT_BITS = 32    # a quantization header value (per-layer offset or step) as float32
WIDTH_BITS = 5     # a digital payload's bit width b (1..24)


class MaskPricing(Protocol):
    """How a mask is priced as side information (what every pruner provides)."""

    @property
    def min_keep(self) -> int:
        """The fewest weights a mask can keep."""

    def mask_bits(self, mask: torch.Tensor) -> int:
        """Exact code length of ``mask`` [n] bool."""

    def expected_mask_bits(self, keep: int) -> int:
        """Code length to budget for a mask of ``keep`` weights before it exists."""


@dataclass(frozen=True)
class SideInfo:
    """Named side-information parts in bits, e.g. ``{"scale": 32, "mask": 1810}``."""

    parts: dict[str, int] = field(default_factory=dict)

    @property
    def bits(self) -> int:
        return int(sum(self.parts.values()))

    def describe(self) -> str:
        return "+".join(f"{k}:{v}" for k, v in self.parts.items() if v) or "none"


def quantization_header_bits(num_layers: int) -> int:
    """Offset and step of every layer's uniform quantizer, as float32."""
    return 2 * FLOAT_BITS * int(num_layers)


def state_bits(model: nn.Module) -> int:
    """Float32 bits of the model's floating-point buffers (BatchNorm running mean and variance; the batch counter
    is not needed to run the model)."""
    return FLOAT_BITS * sum(b.numel() for b in model.buffers() if b.dtype.is_floating_point)


def factor_bits(num_layers: int) -> int:
    """One copy count per layer that is sent."""
    return FACTOR_BITS * int(num_layers)


def analog_parts(mask: int = 0, factor_layers: int = 0, state: int = 0,
                 extra: Mapping[str, int] | None = None) -> dict[str, int]:
    """The parts of an analog stream's side information: the scale, ``state`` bits, ``mask`` bits, a copy count
    for each of ``factor_layers`` layers, and ``extra`` parts (zero parts are left out)."""
    parts = {"scale": SCALE_BITS, "state": state, "mask": mask, "factors": factor_bits(factor_layers)}
    return {**{k: v for k, v in parts.items() if v}, **(extra or {})}


def payload_parts(num_layers: int, mask: int = 0, state: int = 0, widths: int = 1) -> dict[str, int]:
    """The parts of a digital payload's side information: header (offset, step per layer), ``widths`` bit widths
    (one, or one per layer with mixed precision), ``state`` bits and ``mask`` bits (zero parts are left out)."""
    parts = {"header": quantization_header_bits(num_layers), "width": WIDTH_BITS * widths, "state": state,
             "mask": mask}
    return {k: v for k, v in parts.items() if v}


def analog_side_info(model: nn.Module, plan: TransmissionPlan, pricing: MaskPricing,
                     extra: Mapping[str, int] | None = None) -> SideInfo:
    """Power scale, coded mask (if any weight is left out), per-layer copy counts (if any differs from 1) and
    ``extra`` parts (e.g. a spectrum level) of an analog delivery by ``plan``.

    Raises ValueError when copies vary inside a layer: the side information codes one count per layer.
    """
    factor_layers = 0
    if not plan.single_copy:
        fewest, most = layer_copies(model, plan)
        varying = torch.nonzero(fewest != most).flatten()
        if varying.numel():
            raise ValueError(f"copies vary inside layer {int(varying[0])}; the side information codes one count "
                             f"per layer")
        factor_layers = int((most > 0).sum())
    mask = 0 if bool(plan.mask.all()) else pricing.mask_bits(plan.mask)
    return SideInfo(analog_parts(mask, factor_layers, state_bits(model), extra))


def payload_side_info(pricing: MaskPricing, mask: torch.Tensor, num_layers: int, state: int = 0,
                      widths: int = 1) -> SideInfo:
    """A digital payload's header (offset, step per layer), ``widths`` bit widths, ``state`` bits
    (:func:`state_bits`), and coded mask (if any weight is left out)."""
    return SideInfo(payload_parts(num_layers, 0 if bool(mask.all()) else pricing.mask_bits(mask), state, widths))
