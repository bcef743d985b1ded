"""Additive white Gaussian noise channel: ``y = x + n``, ``n ~ CN(0, N0)``."""
from __future__ import annotations

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

    def gains(self, shape, generator, dtype, device) -> torch.Tensor:
        """Unit gain, broadcast to every symbol: [1, 1] complex."""
        return torch.ones((1,) * len(shape), dtype=dtype, device=device)

    def capacity(self, snr_db: float) -> float:
        """``log2(1 + SNR)`` bits per channel use."""
        return awgn_capacity(snr_linear(snr_db))

    def dispersion(self, snr_db: float) -> float:
        """``(1 - 1/(1+SNR)^2) log2(e)^2``."""
        return awgn_dispersion(snr_linear(snr_db))
