"""Uniform per-layer quantization of weights to b-bit codes, and its quantization-aware training noise."""
from __future__ import annotations

from dataclasses import dataclass

import torch



@dataclass
class Quantized:
    """b-bit codes [n] with per-layer offset/step [L]; weights = offset[layer] + code * step[layer]."""

    codes: torch.Tensor
    layer_of: torch.Tensor
    offset: torch.Tensor
    step: torch.Tensor
    bits: int

    def dequantize(self, codes: torch.Tensor | None = None) -> torch.Tensor:
        """Weights [..., n] from (possibly corrupted) codes [..., n]."""
        c = self.codes if codes is None else codes
        return self.offset[self.layer_of] + c.to(self.step.dtype) * self.step[self.layer_of]


def quantize(w: torch.Tensor, layer_of: torch.Tensor, bits: int, num_layers: int | None = None) -> Quantized:
    """Min-max uniform quantization of w [n] per layer (layer_of [n]); |w - dequant| <= step/2."""
    if isinstance(bits, bool) or int(bits) != bits or not 1 <= bits <= 24:
        raise ValueError(f"bits must be an integer in [1, 24], got {bits!r}")
    if w.shape != layer_of.shape:
        raise ValueError(f"w {tuple(w.shape)} and layer_of {tuple(layer_of.shape)} differ")
    L = int(num_layers if num_layers is not None else (int(layer_of.max()) + 1 if layer_of.numel() else 0))
    w64 = w.double()
    lo = torch.full((L,), float("inf"), dtype=torch.float64).scatter_reduce(0, layer_of, w64, "amin")
    hi = torch.full((L,), float("-inf"), dtype=torch.float64).scatter_reduce(0, layer_of, w64, "amax")
    empty = ~torch.isfinite(lo)
    lo, hi = torch.where(empty, 0.0, lo), torch.where(empty, 0.0, hi)
    levels = 2 ** int(bits) - 1
    step = torch.where(hi > lo, (hi - lo) / levels, torch.ones_like(lo))
    codes = torch.round((w64 - lo[layer_of]) / step[layer_of]).clamp(0, levels).long()
    return Quantized(codes, layer_of, lo.float().double(), step.float().double(), int(bits))


class QuantizationNoise:
    """Quantization-aware training: ``w [n] -> w`` with its kept entries replaced by their ``bits``-bit
    quantization (per-layer min-max, as :func:`quantize`), straight-through gradient. Entries outside ``mask`` pass
    unchanged (they are zeroed by the mask anyway).
    """

    def __init__(self, bits: int, layer_of: torch.Tensor, mask: torch.Tensor) -> None:
        self.bits, self.layer_of, self.mask = int(bits), layer_of, mask
        self.num_layers = int(layer_of.max()) + 1 if layer_of.numel() else 0

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        wd = w.detach()
        q = quantize(wd[self.mask], self.layer_of[self.mask], self.bits, self.num_layers)
        target = wd.clone()
        target[self.mask] = q.dequantize().to(w.dtype)
        return w + (target - wd)
