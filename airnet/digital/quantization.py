"""Uniform per-layer quantization of weights to b-bit codes, and its quantization-aware training noise."""
from __future__ import annotations

from dataclasses import dataclass

import torch



@dataclass
class Quantized:
    """Codes [n] with per-layer offset/step [L] and per-layer widths ``layer_bits`` [L] (all equal unless mixed
    precision); weights = offset[layer] + code * step[layer]; ``bits`` is the widest layer's width."""

    codes: torch.Tensor
    layer_of: torch.Tensor
    offset: torch.Tensor
    step: torch.Tensor
    bits: int
    layer_bits: torch.Tensor

    @property
    def mixed(self) -> bool:
        """Whether layers differ in width (the widths are then side information, one per layer)."""
        present = self.layer_bits[torch.unique(self.layer_of)] if self.layer_of.numel() else self.layer_bits
        return bool(present.numel()) and bool((present != present[0]).any())

    def weight_bits(self) -> torch.Tensor:
        """Width of every code: [n] long."""
        return self.layer_bits[self.layer_of]

    def dequantize(self, codes: torch.Tensor | None = None) -> torch.Tensor:
        """Weights [..., n] from (possibly corrupted) codes [..., n]."""
        c = self.codes if codes is None else codes
        return self.offset[self.layer_of] + c.to(self.step.dtype) * self.step[self.layer_of]


def quantize(w: torch.Tensor, layer_of: torch.Tensor, bits: int | torch.Tensor | tuple[int, ...],
             num_layers: int | None = None) -> Quantized:
    """Min-max uniform quantization of w [n] per layer (layer_of [n]) at ``bits`` (one width, or one per layer:
    [L] for mixed precision); |w - dequant| <= step/2."""
    if w.shape != layer_of.shape:
        raise ValueError(f"w {tuple(w.shape)} and layer_of {tuple(layer_of.shape)} differ")
    L = int(num_layers if num_layers is not None else (int(layer_of.max()) + 1 if layer_of.numel() else 0))
    if isinstance(bits, (torch.Tensor, tuple, list)):
        layer_bits = torch.as_tensor(bits, dtype=torch.long).flatten()
        if layer_bits.numel() != L:
            raise ValueError(f"{layer_bits.numel()} layer widths for {L} layers")
    else:
        if isinstance(bits, bool) or int(bits) != bits:
            raise ValueError(f"bits must be an integer in [1, 24], got {bits!r}")
        layer_bits = torch.full((L,), int(bits), dtype=torch.long)
    if layer_bits.numel() and (int(layer_bits.min()) < 1 or int(layer_bits.max()) > 24):
        raise ValueError(f"bits must be integers in [1, 24], got {layer_bits.tolist()}")
    w64 = w.double()
    lo = torch.full((L,), float("inf"), dtype=torch.float64).scatter_reduce(0, layer_of, w64, "amin")
    hi = torch.full((L,), float("-inf"), dtype=torch.float64).scatter_reduce(0, layer_of, w64, "amax")
    empty = ~torch.isfinite(lo)
    lo, hi = torch.where(empty, 0.0, lo), torch.where(empty, 0.0, hi)
    levels = (2 ** layer_bits - 1).double()
    step = torch.where(hi > lo, (hi - lo) / levels, torch.ones_like(lo))
    codes = torch.minimum(torch.round((w64 - lo[layer_of]) / step[layer_of]).clamp_min(0),
                          levels[layer_of]).long()
    top = int(layer_bits.max()) if layer_bits.numel() else 1
    return Quantized(codes, layer_of, lo.float().double(), step.float().double(), top, layer_bits)


class QuantizationNoise:
    """Quantization-aware training: ``w [n] -> w`` with its kept entries replaced by their ``bits``-bit
    quantization (per-layer min-max, as :func:`quantize`), straight-through gradient. Entries outside ``mask`` pass
    unchanged (they are zeroed by the mask anyway).
    """

    def __init__(self, bits: int | tuple[int, ...], layer_of: torch.Tensor, mask: torch.Tensor) -> None:
        self.bits = bits if isinstance(bits, tuple) else int(bits)     # a tuple: one width per layer
        self.layer_of, self.mask = layer_of, mask
        self.num_layers = int(layer_of.max()) + 1 if layer_of.numel() else 0

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w + self.perturbation(w)

    def perturbation(self, w: torch.Tensor) -> torch.Tensor:
        """The quantization error of w [n]: its quantized kept entries minus w (0 outside the mask), [n], no
        gradient. Straight-through QAT adds it to the weights; the training loop may add it to the parameters in
        place (same numbers)."""
        wd = w.detach()
        q = quantize(wd[self.mask], self.layer_of[self.mask], self.bits, self.num_layers)
        target = wd.clone()
        target[self.mask] = self.reconstruct(q).to(w.dtype)
        return target - wd

    def reconstruct(self, q: Quantized) -> torch.Tensor:
        """The weights the receiver rebuilds from ``q`` (all its bits)."""
        return q.dequantize()
