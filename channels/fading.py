"""Flat block fading: ``y = h*x + n`` with one gain ``h`` per block of ``block_length`` symbols.

Rayleigh: ``h ~ CN(0, 1)``. Rician with K-factor ``K`` (linear): ``h = sqrt(K/(K+1)) + sqrt(1/(K+1)) CN(0, 1)``
(line-of-sight phase 0), so ``E|h|^2 = 1`` for both and the average received SNR equals the nominal SNR.
Gains are independent across blocks and across the B realizations of a batch.
"""
from __future__ import annotations

import math

import torch

from channels.base import Channel, complex_normal
from channels.capacity import fading_dispersion, rayleigh_ergodic_capacity, rician_ergodic_capacity, snr_linear
from channels.checks import check_positive
from channels.registry import register_channel


@register_channel("rayleigh")
class RayleighChannel(Channel):
    """Rayleigh block fading with receiver CSI ``perfect`` (ZF/MMSE equalization) or ``none``."""

    name = "rayleigh"

    def __init__(self, block_length: int = 64, signal_power: float = 1.0, csi: str = "perfect",
                 equalizer: str = "zf") -> None:
        super().__init__(signal_power=signal_power, csi=csi, equalizer=equalizer)
        if isinstance(block_length, bool) or int(block_length) != block_length or block_length < 1:
            raise ValueError(f"block_length must be a positive integer, got {block_length!r}")
        self.block_length = int(block_length)

    def los(self) -> tuple[float, float]:
        """(line-of-sight amplitude, scattered std) with ``los^2 + std^2 = 1``."""
        return 0.0, 1.0

    def gains(self, shape, generator, dtype, device) -> torch.Tensor:
        """Block-constant gains [B, n] complex (independent across blocks and realizations)."""
        *lead, n = shape
        blocks = math.ceil(n / self.block_length)
        los, std = self.los()
        h = complex_normal((*lead, blocks), generator, dtype, device) * std + los
        return h.repeat_interleave(self.block_length, dim=-1)[..., :n]

    def capacity(self, snr_db: float) -> float:
        """Ergodic capacity ``E log2(1 + |h|^2 SNR)`` with receiver CSI (a codeword spans many blocks).

        Without CSI the receiver would first have to learn ``h``; that rate is not the coherent capacity, so
        asking for it is an error rather than a silent overestimate.
        """
        if self.csi != "perfect":
            raise ValueError(f"capacity of {self.name} with csi={self.csi!r} is not defined here: the ergodic "
                             f"capacity assumes receiver CSI (set channel.csi=perfect)")
        return self.fading_capacity(snr_linear(snr_db))

    def fading_capacity(self, snr: float) -> float:
        """Coherent ergodic capacity at linear SNR ``snr``."""
        return rayleigh_ergodic_capacity(snr)

    def dispersion(self, snr_db: float) -> float:
        """Block-fading dispersion with receiver CSI, ``E[V_awgn] + block_length Var[log2(1+|h|^2 SNR)]``,
        by Monte Carlo over 200k gains (fixed seed, so the value is deterministic)."""
        if self.csi != "perfect":
            raise ValueError(f"dispersion of {self.name} with csi={self.csi!r} is not defined here (needs CSI)")
        los, std = self.los()
        h = complex_normal((200_000,), torch.Generator().manual_seed(0), torch.complex128) * std + los
        return fading_dispersion(snr_linear(snr_db), self.block_length, (h.abs() ** 2).numpy())

    def extra_repr(self) -> str:
        return f"block_length={self.block_length}, " + super().extra_repr()


@register_channel("rician")
class RicianChannel(RayleighChannel):
    """Rician block fading with linear K-factor ``k_factor`` (K=0 is Rayleigh)."""

    name = "rician"

    def __init__(self, k_factor: float = 3.0, block_length: int = 64, signal_power: float = 1.0,
                 csi: str = "perfect", equalizer: str = "zf") -> None:
        super().__init__(block_length=block_length, signal_power=signal_power, csi=csi, equalizer=equalizer)
        self.k_factor = check_positive("k_factor", k_factor, allow_zero=True)

    def los(self) -> tuple[float, float]:
        k = self.k_factor
        return math.sqrt(k / (k + 1.0)), math.sqrt(1.0 / (k + 1.0))

    def fading_capacity(self, snr: float) -> float:
        return rician_ergodic_capacity(snr, self.k_factor)

    def extra_repr(self) -> str:
        return f"k_factor={self.k_factor}, " + super().extra_repr()
