"""Analog transmission of real vectors: normalize power, pair two reals per channel use, send, undo.

The receiver is assumed to know the power-normalization scale (a few header floats sent digitally).
After de-normalization, a real value ``x`` sent over AWGN at SNR ``s`` is received as ``x + e`` with
``Var(e) = mean(x^2) / s``: the per-value SNR equals the channel SNR.
"""
from __future__ import annotations

import torch

from channels.base import Channel, ChannelOutput
from channels.checks import check_reals, check_snr_float
from channels.power import pair_reals, power_scale, unpair_reals


def channel_uses(num_reals: int) -> int:
    """Complex channel uses needed for ``num_reals`` real values (two per use): ``ceil(num_reals / 2)``."""
    if num_reals < 0:
        raise ValueError(f"num_reals must be non-negative, got {num_reals}")
    return (int(num_reals) + 1) // 2


def transmit_reals(x: torch.Tensor, channel: Channel, snr_db: float | torch.Tensor,
                   generator: torch.Generator | None = None, check: bool = True,
                   pad_to: int | None = None) -> torch.Tensor:
    """Send reals through ``channel`` and undo the power normalization at the receiver.

    Input
    -----
    x : [B, m] or [m], float32 | float64
        Real values; each row is power-normalized on its own and sent as ``ceil(m/2)`` complex symbols. A row
        that is all zeros is not sent and comes back as zeros (see :func:`transmit_reals_soft`).
    channel : :class:`channels.Channel`
    snr_db : float or [B], float
    generator : torch.Generator | None
    check : bool
        Raise on NaN/inf inputs (callers that already checked pass False).
    pad_to : int, optional
        Draw the channel as for ``pad_to >= m`` reals (zero symbols appended after power normalization, so they
        change neither the scale nor the energy) and return the first ``m``: transmissions of different lengths
        then see the same noise and fades symbol by symbol (common random numbers across schemes).

    Output
    ------
    : [B, m], dtype of ``x``
        Equalized (ZF or MMSE, as the channel's receiver), de-normalized estimates.
    """
    x = _rows(x, check)
    if isinstance(snr_db, (int, float)) and not isinstance(snr_db, bool):
        check_snr_float(snr_db)
    if pad_to is None:
        fast = channel.receive_reals(x, snr_db, generator)
        if fast is not None:
            return fast.to(x.dtype)
    out, a, silent = _send(x, channel, snr_db, generator, pad_to)
    return _received(_first(channel.equalize(out), x), a, silent, x)


def transmit_reals_soft(x: torch.Tensor, channel: Channel, snr_db: float | torch.Tensor,
                        generator: torch.Generator | None = None, equalize: bool = False,
                        pad_to: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Send reals and return soft estimates with their precisions, for receivers that combine copies.

    A row that is all zeros (e.g. a sample after dead ReLUs) is not sent: it has no power to normalize, it costs
    no energy, and its scale of 0 (which the receiver needs per row anyway) tells the receiver, which outputs
    zeros for it; no gradient flows through it.

    Input
    -----
    x : [B, m] or [m], float32 | float64
    channel : :class:`channels.Channel`
    snr_db : float or [B], float
    generator : torch.Generator | None
    equalize : bool
        False: zero-forcing (unbiased) estimates. True: the channel's own equalizer (ZF or MMSE).
    pad_to : int, optional
        As :func:`transmit_reals`.

    Output
    ------
    estimates : [B, m], dtype of ``x``
        Received values in the input's units.
    precision : [B, m], dtype of ``x``
        Inverse noise variance of each ZF estimate, ``2|h|^2 a^2 / N0``, ready for
        :func:`channels.combining.combine`.
    """
    x = _rows(x, check=True)
    out, a, silent = _send(x, channel, snr_db, generator, pad_to)
    est = _received(_first(channel.equalize(out) if equalize else out.zf(), x), a, silent, x)
    p = _first(out.precision(), x)
    prec = unpair_reals(torch.complex(p, p), x.shape[-1]) * 2.0 * a.pow(2)
    return est, prec.to(x.dtype)


def _rows(x: torch.Tensor, check: bool) -> torch.Tensor:
    """x as rows [B, m] (a vector [m] is one row); raise on what cannot be sent (:func:`channels.checks.check_reals`)
    and, with ``check``, on NaN/inf."""
    check_reals(x)
    if x.dim() == 1:
        x = x.unsqueeze(0)
    if check and not bool(torch.isfinite(x.sum())) and not bool(torch.isfinite(x).all()):    # sum: one cheap pass
        raise ValueError(f"{int((~torch.isfinite(x)).sum())} non-finite value(s) (NaN or inf) cannot be transmitted")
    return x


def _send(x: torch.Tensor, channel: Channel, snr_db: float | torch.Tensor, generator: torch.Generator | None,
          pad_to: int | None = None) -> tuple[ChannelOutput, torch.Tensor, torch.Tensor | None]:
    """Normalize, pair and send reals [B, m] (as ``pad_to`` reals, zero-padded after normalization): (channel
    output, scale [B, 1], silent rows [B, 1])."""
    a = power_scale(x, channel.signal_power)
    zero = a == 0                                       # all-zero rows: nothing to send, received as zeros
    silent: torch.Tensor | None = None
    if bool(zero.any()):
        a, silent = torch.where(zero, torch.ones_like(a), a), zero
    symbols = pair_reals(x * a)
    if pad_to is not None:
        if pad_to < x.shape[-1]:
            raise ValueError(f"pad_to={pad_to} is shorter than the {x.shape[-1]} reals sent")
        symbols = torch.nn.functional.pad(symbols, (0, channel_uses(pad_to) - symbols.shape[-1]))
    return channel.observe(symbols, snr_db, generator), a, silent


def _first(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The symbols [B, ceil(m/2)] of reals x [B, m] from a possibly padded [B, n] (a broadcast [1, n] too)."""
    return z[..., :channel_uses(x.shape[-1])]


def _received(z: torch.Tensor, a: torch.Tensor, silent: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor:
    """De-normalized reals [B, m] from received symbols z [B, ceil(m/2)]."""
    est = unpair_reals(z, x.shape[-1]) / a
    if silent is not None:
        est = torch.where(silent, torch.zeros_like(est), est)
    return est.to(x.dtype)
