"""Additive white Gaussian noise channel: ``y = x + n``, ``n ~ CN(0, N0)``."""
from __future__ import annotations

import math

import torch

from channels.base import Channel
from channels.capacity import awgn_capacity, awgn_dispersion, snr_linear
from channels.registry import register_channel


@register_channel("awgn")
class AWGNChannel(Channel):
    """Complex AWGN; noise variance per symbol ``N0 = P/SNR`` (see :mod:`channels.power`).

    The gain is 1 and known, so ``csi`` makes no difference here.
    """

    name = "awgn"

    def __init__(self, signal_power: float = 1.0, csi: str = "perfect", equalizer: str = "zf") -> None:
        super().__init__(signal_power=signal_power, csi=csi, equalizer=equalizer)
        if csi == "estimated":
            raise ValueError("csi='estimated' needs a fading channel: the AWGN gain is 1 and known")

    def gains(self, shape, generator, dtype, device) -> None:
        """A known unit gain: None (the receiver skips multiplying and dividing by 1)."""
        return None

    def receive_reals(self, x, snr_db, generator):
        """Fused AWGN path of :func:`channels.transmit_reals`: ``x + sqrt(mean(x^2) N0/P) z`` per row, with the same
        standard normals in the same order as the generic path (pairs of reals share a complex symbol), so
        results match it up to float rounding; an all-zero row has sigma 0 and comes back as zeros."""
        if not isinstance(snr_db, (int, float)) or isinstance(snr_db, bool) or not math.isfinite(snr_db):
            return None
        b, m = x.shape
        n0_over_p = 10.0 ** (-snr_db / 10.0)
        z = torch.randn(b, m + (m % 2), generator=generator, dtype=x.dtype, device=x.device)
        sigma = x.pow(2).mean(dim=-1, keepdim=True).mul_(n0_over_p).sqrt_()
        est = torch.addcmul(x, sigma, z[:, :m] if m % 2 else z)
        if self.equalizer == "mmse" and self.csi != "none":
            est = est.mul_(1.0 / (1.0 + n0_over_p))
        return est

    def capacity(self, snr_db: float) -> float:
        """``log2(1 + SNR)`` bits per channel use."""
        return awgn_capacity(snr_linear(snr_db))

    def dispersion(self, snr_db: float) -> float:
        """``(1 - 1/(1+SNR)^2) log2(e)^2``."""
        return awgn_dispersion(snr_linear(snr_db))
