"""Digital payloads for the separation baselines: a pruned model quantized to ``b`` bits per weight.

The receiver needs, besides the weight codes, a header per layer (offset and step as float32), the bit width, and
the pruning mask: with side information counted those bits are part of the payload and travel first. With an ideal
CRC per code block, a failed block is an *erasure*: weights with an erased bit are set to 0, and a realization
whose side information is erased gets no model.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from airnet.delivery.evaluation import accuracy_of_vectors
from airnet.digital.quantization import Quantized, quantize
from airnet.side_info.bits import SideInfo, payload_side_info, state_bits
from airnet.side_info.sizing import codes_that_fit
from airnet.training.pruning import Pruner, Structure
from airnet.zoo.params import ParamLayout, model_vector


@dataclass
class Payload:
    """A pruned, quantized model: ``mask`` [n] bool, its ``quantized`` weights, its side information, and the
    pruning ``structure`` the mask has."""

    mask: torch.Tensor
    quantized: Quantized
    side: SideInfo
    structure: Structure = "unstructured"

    @property
    def bits(self) -> int:
        """Quantization bit width."""
        return self.quantized.bits

    @property
    def code_bits(self) -> int:
        """Bits of the weight codes (side information excluded)."""
        return int(self.mask.sum()) * self.quantized.bits

    def stream_bits(self, side_counted: bool) -> int:
        """Bits on the link: side information (if counted) then codes."""
        return (self.side.bits if side_counted else 0) + self.code_bits

    def received(self, ok: torch.Tensor, side_counted: bool) -> torch.Tensor:
        """Received weight vectors from the per-bit CRC outcome.

        Input
        -----
        ok : [K, stream_bits], bool
            True where the bit's code block decoded.
        side_counted : bool

        Output
        ------
        : [K, n], float32 (erased weights and failed realizations are 0)
        """
        ok = ok.cpu()
        k = ok.shape[0]
        s = self.side.bits if side_counted else 0
        side_ok = ok[:, :s].all(dim=1) if s else torch.ones(k, dtype=torch.bool)
        keep = int(self.mask.sum())
        weight_ok = ok[:, s:s + keep * self.bits].reshape(k, keep, self.bits).all(dim=2)
        out = torch.zeros(k, self.mask.numel())
        out[:, self.mask] = self.quantized.dequantize().float() * weight_ok
        out[~side_ok] = 0.0
        return out


def build_payload(model: nn.Module, mask: torch.Tensor, bits: int, pruner: Pruner, bits_available: int,
                  side_counted: bool, structure: Structure = "unstructured") -> Payload | None:
    """Quantize ``model``'s weights in ``mask`` to ``bits`` bits; drop the weakest weights until the stream fits
    ``bits_available`` (None if nothing does)."""
    layout = ParamLayout.of(model)
    layer_of = layout.layer_of()
    w = model_vector(model).cpu()
    mask = mask.cpu()
    state = state_bits(model)
    while int(mask.sum()) >= pruner.min_keep:
        side = payload_side_info(pruner, mask, len(layout.names), state)
        total = (side.bits if side_counted else 0) + int(mask.sum()) * bits
        if total <= bits_available:
            q = quantize(w[mask], layer_of[mask], bits, len(layout.names))
            return Payload(mask, q, side, structure)
        count = int(mask.sum()) - max(1, -(-(total - bits_available) // bits))
        if count < pruner.min_keep:
            return None
        mask = pruner.select(w * mask, count) & mask
    return None


def rank_payloads(model: nn.Module, bits_available: int, bit_options: tuple[int, ...],
                  pruners: Mapping[Structure, Pruner], x_val: torch.Tensor, y_val: torch.Tensor,
                  side_counted: bool) -> list[tuple[float, Payload]]:
    """Payloads over pruning structures (``pruners`` by name) and bit widths, each with as many weights (strongest
    first, as the pruner selects) as fit, with their error-free validation accuracy; best first."""
    w = model_vector(model).cpu()
    layers = len(ParamLayout.of(model).names)
    ranked = []
    for structure, pruner in pruners.items():
        def mask_for(keep: int, pruner: Pruner = pruner) -> torch.Tensor:
            return pruner.select(w, keep)

        for b in bit_options:
            keep = codes_that_fit(bits_available, int(b), w.numel(), layers, pruner, side_counted, mask_for=mask_for,
                                  state=state_bits(model))
            if keep < 1:
                continue
            mask = torch.ones_like(w, dtype=torch.bool) if keep == w.numel() else pruner.select(w, keep)
            payload = build_payload(model, mask, int(b), pruner, bits_available, side_counted, structure)
            if payload is not None:
                ranked.append((validation_accuracy(model, payload, x_val, y_val, side_counted), payload))
    return sorted(ranked, key=lambda t: -t[0])


def validation_accuracy(model: nn.Module, payload: Payload, x_val: torch.Tensor, y_val: torch.Tensor,
                        side_counted: bool) -> float:
    """Accuracy of ``model`` with the payload received error-free."""
    vec = payload.received(torch.ones(1, payload.stream_bits(side_counted), dtype=torch.bool), side_counted)
    return float(accuracy_of_vectors(model, vec, x_val, y_val)[0])
