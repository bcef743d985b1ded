"""Vertical-layered (any-precision) digital payloads: one quantized model whose bit planes are layers.

Weights are quantized once at the top width ``B`` (per-layer min-max, :func:`airnet.digital.quantization.quantize`).
Layer ``i`` carries, for every sent weight, bit planes ``widths[i-1] .. widths[i] - 1`` of its code, most
significant first, so a receiver holding the first ``i`` layers knows each code's top ``widths[i-1]`` bits and
reconstructs the centre of that coarser cell: a uniform quantizer with ``2^(B - w)`` times the step. Training
once for all widths (:func:`nested_quantization`: every width's network in every step) makes every prefix a good
network.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from airnet.digital.quantization import QuantizationNoise, Quantized, quantize
from airnet.side_info.bits import SideInfo
from airnet.training.loop import View


def dequantize_at(q: Quantized, widths: torch.Tensor) -> torch.Tensor:
    """Weights from the top ``widths`` bits of each code (0 where the width is 0).

    Input
    -----
    q : :class:`Quantized` with codes [n] at ``q.bits`` bits
    widths : [..., n], long
        Bits known per weight, 0..``q.bits``.

    Output
    ------
    : [..., n], float64
    """
    drop = (q.bits - widths).clamp(0, q.bits)
    cell = torch.pow(2.0, drop.double())
    coarse = torch.floor(q.codes.double() / cell) * cell + (cell - 1.0) / 2.0     # the centre of the known cell
    value = q.offset[q.layer_of] + coarse * q.step[q.layer_of]
    return torch.where(widths > 0, value, torch.zeros_like(value))


class NestedQuantizationNoise(QuantizationNoise):
    """Straight-through quantization of the kept weights to the top ``width`` bits of a ``top``-bit code (per-layer
    min-max, as the payload): ``w [n] -> w`` with the kept entries replaced by their reconstruction."""

    def __init__(self, width: int, top: int, layer_of: torch.Tensor, mask: torch.Tensor) -> None:
        super().__init__(int(top), layer_of, mask)
        self.width = int(width)

    def reconstruct(self, q: Quantized) -> torch.Tensor:
        return dequantize_at(q, torch.full_like(q.codes, self.width))


def nested_quantization(widths: tuple[int, ...], layer_of: torch.Tensor, mask: torch.Tensor) -> list[View]:
    """Training once for all widths: one view per width, each the network its receivers get (the loss is their
    mean at every step, as any-precision training does)."""
    top = max(widths)
    return [View(mask, NestedQuantizationNoise(w, top, layer_of, mask)) for w in widths]


@dataclass
class LayeredPayload:
    """A pruned model (``mask`` [n] bool) quantized at ``max(widths)`` bits and cut into bit-plane layers;
    ``side`` travels first in layer 0."""

    mask: torch.Tensor
    quantized: Quantized
    side: SideInfo
    widths: tuple[int, ...]

    def layer_bits(self, side_counted: bool) -> list[int]:
        """Bits of every layer on the link (layer 0 with the side information)."""
        keep = int(self.mask.sum())
        planes = [w - v for v, w in zip((0, *self.widths[:-1]), self.widths)]
        return [keep * d + (self.side.bits if side_counted and i == 0 else 0) for i, d in enumerate(planes)]

    def received(self, oks: list[torch.Tensor], side_counted: bool) -> torch.Tensor:
        """Received weight vectors from each layer's per-bit CRC outcome.

        Input
        -----
        oks : list of [K, layer_bits[i]], bool
        side_counted : bool

        Output
        ------
        : [K, n], float32. A weight is known to the width of the longest prefix of layers whose bits for it all
          decoded (0 without its base bits); a realization that lost its side information gets no model.
        """
        k = oks[0].shape[0]
        keep = int(self.mask.sum())
        s = self.side.bits if side_counted else 0
        side_ok = oks[0][:, :s].cpu().all(dim=1) if s else torch.ones(k, dtype=torch.bool)
        width = torch.zeros(k, keep, dtype=torch.long)
        prefix = torch.ones(k, keep, dtype=torch.bool)
        for i, (ok, w) in enumerate(zip(oks, self.widths)):
            planes = w - (self.widths[i - 1] if i else 0)
            bits = ok[:, s if i == 0 else 0:].cpu().reshape(k, keep, planes).all(dim=2)
            prefix &= bits
            width = torch.where(prefix, torch.full_like(width, w), width)
        out = torch.zeros(k, self.mask.numel())
        out[:, self.mask] = dequantize_at(self.quantized, width).float()
        out[~side_ok] = 0.0
        return out
