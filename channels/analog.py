"""Analog transmission of real vectors: normalize power, pair two reals per channel use, send, undo.

The receiver is assumed to know the power-normalization scale (a few header floats sent digitally).
After de-normalization, a real value ``x`` sent over AWGN at SNR ``s`` is received as ``x + e`` with
``Var(e) = mean(x^2) / s``: the per-value SNR equals the channel SNR.
"""
from __future__ import annotations

import torch

from channels.base import Channel
from channels.power import pair_reals, power_scale, unpair_reals


def channel_uses(num_reals: int) -> int:
    """Complex channel uses needed for ``num_reals`` real values (two per use)."""
    if num_reals < 0:
        raise ValueError(f"num_reals must be non-negative, got {num_reals}")
    return (int(num_reals) + 1) // 2


def transmit_reals(x: torch.Tensor, channel: Channel, snr_db: float | torch.Tensor,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Send reals [B, m] (or [m]) through ``channel``; return the equalized, de-normalized reals [B, m]."""
    est, _ = transmit_reals_soft(x, channel, snr_db, generator, equalize=True)
    return est


def transmit_reals_soft(x: torch.Tensor, channel: Channel, snr_db: float | torch.Tensor,
                        generator: torch.Generator | None = None,
                        equalize: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Send reals [B, m]; return (estimates [B, m], precisions [B, m]) in the input's units.

    With ``equalize=False`` the estimates are zero-forcing (unbiased) and ``precision`` is the inverse
    noise variance of each estimate (``2|h|^2 a^2 / N0``), ready for :func:`channels.combining.combine`.
    With ``equalize=True`` the channel's own equalizer (ZF or MMSE) is applied.
    """
    if x.dim() == 1:
        x = x.unsqueeze(0)
    m = x.shape[-1]
    a = power_scale(x, channel.signal_power)
    out = channel.apply(pair_reals(x * a), snr_db, generator)
    z = channel.equalize(out) if equalize else out.zf()
    est = unpair_reals(z, m) / a
    prec = unpair_reals(torch.complex(out.precision(), out.precision()), m) * 2.0 * a.pow(2)
    return est.to(x.dtype), prec.to(x.dtype)
