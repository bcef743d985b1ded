"""Additive white Gaussian noise channel: ``y = x + n``, ``n ~ CN(0, N0)``."""
from __future__ import annotations

import torch

from channels.base import Channel


class AWGNChannel(Channel):
    """Complex AWGN; noise variance per symbol ``N0 = P/SNR`` (see :mod:`channels.power`)."""

    name = "awgn"

    def __init__(self, signal_power: float = 1.0, csi: str = "perfect", equalizer: str = "zf") -> None:
        super().__init__(signal_power=signal_power, csi=csi, equalizer=equalizer)

    def gains(self, shape, generator, dtype, device) -> torch.Tensor:
        """Unit gain, broadcast to every symbol: [1, 1] complex."""
        return torch.ones((1,) * len(shape), dtype=dtype, device=device)
