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
    """Complex channel uses needed for ``num_reals`` real values (two per use): ``ceil(num_reals / 2)``."""
    if num_reals < 0:
        raise ValueError(f"num_reals must be non-negative, got {num_reals}")
    return (int(num_reals) + 1) // 2


def transmit_reals(x: torch.Tensor, channel: Channel, snr_db: float | torch.Tensor,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Send reals through ``channel`` and undo the power normalization at the receiver.

    Input
    -----
    x : [B, m] or [m], float32 | float64
        Real values; each row is power-normalized on its own and sent as ``ceil(m/2)`` complex symbols.
    channel : :class:`channels.Channel`
    snr_db : float or [B], float
    generator : torch.Generator | None

    Output
    ------
    : [B, m], dtype of ``x``
        Equalized (ZF or MMSE, as the channel's receiver), de-normalized estimates.
    """
    est, _ = transmit_reals_soft(x, channel, snr_db, generator, equalize=True)
    return est


def transmit_reals_soft(x: torch.Tensor, channel: Channel, snr_db: float | torch.Tensor,
                        generator: torch.Generator | None = None,
                        equalize: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Send reals and return soft estimates with their precisions, for receivers that combine copies.

    Input
    -----
    x : [B, m] or [m], float32 | float64
    channel : :class:`channels.Channel`
    snr_db : float or [B], float
    generator : torch.Generator | None
    equalize : bool
        False: zero-forcing (unbiased) estimates. True: the channel's own equalizer (ZF or MMSE).

    Output
    ------
    estimates : [B, m], dtype of ``x``
        Received values in the input's units.
    precision : [B, m], dtype of ``x``
        Inverse noise variance of each ZF estimate, ``2|h|^2 a^2 / N0``, ready for
        :func:`channels.combining.combine`.
    """
    if x.dim() == 1:
        x = x.unsqueeze(0)
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{int((~torch.isfinite(x)).sum())} non-finite value(s) (NaN or inf) cannot be transmitted")
    m = x.shape[-1]
    a = power_scale(x, channel.signal_power)
    silent = a == 0                                     # all-zero rows: nothing to send, received as zeros
    a = torch.where(silent, torch.ones_like(a), a)
    out = channel.apply(pair_reals(x * a), snr_db, generator)
    z = channel.equalize(out) if equalize else out.zf()
    est = torch.where(silent, torch.zeros_like(x), unpair_reals(z, m) / a)
    prec = unpair_reals(torch.complex(out.precision(), out.precision()), m) * 2.0 * a.pow(2)
    return est.to(x.dtype), prec.to(x.dtype)
