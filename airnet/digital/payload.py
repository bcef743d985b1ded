"""Digital payloads for the separation baselines: a pruned model quantized to ``b`` bits per weight.

The receiver needs, besides the weight codes, a header per layer (offset and step as float32), the bit width, and
the pruning mask: with side information counted those bits are part of the payload and travel first. With an ideal
CRC per code block, a failed block is an *erasure*: weights with an erased bit are set to 0, and a realization
whose side information is erased gets no model.

With entropy coding (:mod:`airnet.digital.entropy`, the default of every digital scheme) each layer's codes are
one independent stream, and its table is side information: a layer with any erased bit is lost as a whole (its
weights are 0).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from airnet.delivery.evaluation import accuracy_of_vectors
from airnet.digital.entropy import LayerCode, code_layers
from airnet.digital.quantization import Quantized, quantize
from airnet.side_info.bits import SideInfo, payload_side_info, state_bits
from airnet.side_info.search import largest_fitting
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
    coding: tuple[LayerCode, ...] | None = None     # entropy-coded layers (None: fixed-width codes)

    @property
    def bits(self) -> int:
        """Quantization bit width."""
        return self.quantized.bits

    @property
    def code_bits(self) -> int:
        """Bits of the weight codes (side information, entropy tables included, excluded)."""
        if self.coding is not None:
            return sum(c.data_bits for c in self.coding)
        return int(self.quantized.weight_bits().sum())

    @property
    def bits_per_weight(self) -> float:
        """Code bits per sent weight (entropy tables included when coded)."""
        keep = int(self.mask.sum())
        return (self.code_bits + self.side.parts.get("tables", 0)) / keep if keep else float("nan")

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
        if self.coding is None:                # weight j's code is bits [start_j, end_j) after the side information
            stop = self.quantized.weight_bits().cumsum(0)
            failed = torch.cat([torch.zeros(k, 1, dtype=torch.long),
                                (~ok[:, s:s + self.code_bits]).long().cumsum(dim=1)], dim=1)
            weight_ok = failed[:, stop] == failed[:, torch.cat([torch.zeros(1, dtype=torch.long), stop[:-1]])] \
                if keep else torch.ones(k, 0, dtype=torch.bool)
        else:                                  # a layer's stream is lost with any of its bits
            ends = (torch.tensor([c.data_bits for c in self.coding], dtype=torch.long).cumsum(0) + s).tolist()
            starts = [s, *ends[:-1]]
            weight_ok = torch.cat([ok[:, a:b].all(dim=1, keepdim=True).expand(k, c.count)
                                   for a, b, c in zip(starts, ends, self.coding)] or [torch.ones(k, 0, dtype=torch.bool)],
                                  dim=1)
        out = torch.zeros(k, self.mask.numel())
        out[:, self.mask] = self.quantized.dequantize().float() * weight_ok
        out[~side_ok] = 0.0
        return out


def make_payload(w: torch.Tensor, layer_of: torch.Tensor, num_layers: int, mask: torch.Tensor,
                 bits: int | tuple[int, ...], pruner: Pruner, state: int, structure: Structure = "unstructured",
                 entropy: bool = True) -> Payload:
    """The payload of weights ``w`` [n] in ``mask`` [n] at ``bits`` bits (or one width per layer): per-layer
    min-max quantization, the side information (header, width, or a width per layer with mixed precision,
    ``state`` bits, mask), and with ``entropy`` each layer entropy coded (its table a side-information part,
    ``tables``)."""
    q = quantize(w[mask], layer_of[mask], bits, num_layers)
    parts = payload_side_info(pruner, mask, num_layers, state, num_layers if q.mixed else 1).parts
    coding = None
    if entropy:
        coding = code_layers(q.codes, layer_of[mask], q.layer_bits, num_layers)
        parts = {**parts, "tables": sum(c.table_bits for c in coding)}
    return Payload(mask, q, SideInfo(parts), structure, coding)


def build_payload(model: nn.Module, mask: torch.Tensor, bits: int | tuple[int, ...], pruner: Pruner,
                  bits_available: int,
                  side_counted: bool, structure: Structure = "unstructured", entropy: bool = True) -> Payload | None:
    """Quantize (and with ``entropy`` entropy-code) ``model``'s weights in ``mask`` to ``bits`` bits; drop the
    weakest weights until the stream fits ``bits_available`` (None if nothing does)."""
    layout = ParamLayout.of(model)
    layer_of = layout.layer_of()
    w = model_vector(model).cpu()
    mask = mask.cpu()
    state = state_bits(model)
    while int(mask.sum()) >= pruner.min_keep:
        p = make_payload(w, layer_of, len(layout.names), mask, bits, pruner, state, structure, entropy)
        total = p.stream_bits(side_counted)
        if total <= bits_available:
            return p
        keep = int(mask.sum())
        per_weight = max(p.code_bits / keep, 1e-3)       # entropy-coded codes cost about this much each
        count = keep - max(1, math.ceil((total - bits_available) / per_weight))
        if count < pruner.min_keep:
            return None
        mask = pruner.select(w * mask, count) & mask
    return None


def rank_payloads(model: nn.Module, bits_available: int, bit_options: tuple[int, ...],
                  pruners: Mapping[Structure, Pruner], x_val: torch.Tensor, y_val: torch.Tensor,
                  side_counted: bool, entropy: bool = True) -> list[tuple[float, Payload]]:
    """Payloads over pruning structures (``pruners`` by name) and bit widths, each with as many weights (strongest
    first, as the pruner selects) as fit, with their error-free validation accuracy; best first. With ``entropy``
    the size search uses each candidate's entropy-coded length (more weights fit than at fixed width)."""
    w = model_vector(model).cpu()
    layout = ParamLayout.of(model)
    layers, layer_of = len(layout.names), layout.layer_of()
    state = state_bits(model)
    ranked = []
    for structure, pruner in pruners.items():
        def mask_for(keep: int, pruner: Pruner = pruner) -> torch.Tensor:
            return torch.ones_like(w, dtype=torch.bool) if keep == w.numel() else pruner.select(w, keep)

        for b in bit_options:
            keep = codes_that_fit(bits_available, int(b), w.numel(), layers, pruner, side_counted, mask_for=mask_for,
                                  state=state)
            if entropy:                   # grow from the fixed-width size while the coded stream still fits
                base = max(keep, pruner.min_keep)

                def fits(extra: int, base: int = base, b: int = int(b), pruner: Pruner = pruner) -> bool:
                    p = make_payload(w, layer_of, layers, mask_for(base + extra), b, pruner, state, structure)
                    return p.stream_bits(side_counted) <= bits_available

                if base <= w.numel() and (keep >= 1 or fits(0)):
                    keep = base + largest_fitting(w.numel() - base, fits)
            if keep < 1:
                continue
            payload = build_payload(model, mask_for(keep), int(b), pruner, bits_available, side_counted, structure,
                                    entropy)
            if payload is not None:
                ranked.append((validation_accuracy(model, payload, x_val, y_val, side_counted), payload))
    return sorted(ranked, key=lambda t: -t[0])


def validation_accuracy(model: nn.Module, payload: Payload, x_val: torch.Tensor, y_val: torch.Tensor,
                        side_counted: bool) -> float:
    """Accuracy of ``model`` with the payload received error-free."""
    vec = payload.received(torch.ones(1, payload.stream_bits(side_counted), dtype=torch.bool), side_counted)
    return float(accuracy_of_vectors(model, vec, x_val, y_val)[0])
