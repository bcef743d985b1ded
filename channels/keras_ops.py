"""The flat channels written once in ``keras.ops`` / ``keras.random``, for every Keras 3 backend (TensorFlow, JAX,
torch): AWGN, and Rayleigh and Rician block fading, with ZF or MMSE equalization, the receiver with or without CSI,
per-sample power normalization and two reals per complex channel use, as :func:`channels.transmit_reals` does.

Complex symbols are carried as (real, imaginary) pairs of real tensors, since complex support differs between
backends. The statistics equal the torch channels' (tests compare them); the random streams do not (each backend
has its own generator), so under the torch backend :class:`channels.keras.ChannelLayer` uses the torch channels
themselves. OFDM channels (TDL, CDL) build on Sionna 2, which is PyTorch: they need the torch backend.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

FLAT_CHANNELS = ("awgn", "rayleigh", "rician")


@dataclass(frozen=True)
class FlatLink:
    """What the keras.ops path needs of a flat channel: its law and receiver.

    ``los``/``std``: line-of-sight amplitude and scattered standard deviation of the gain (``los^2 + std^2 = 1``;
    AWGN has no gain); ``block_length``: symbols per fade; ``csi``: ``perfect`` or ``none``; ``equalizer``: ``zf`` or
    ``mmse``; ``signal_power``: P.
    """

    name: str
    signal_power: float
    csi: str
    equalizer: str
    block_length: int | None
    los: float
    std: float

    @classmethod
    def of(cls, channel: Any) -> "FlatLink":
        """From a built torch channel (so options, defaults and their errors are the torch channels' own)."""
        name = channel.name
        if name not in FLAT_CHANNELS:
            raise ValueError(f"channel {name!r} needs the torch backend of Keras (its model is PyTorch code, "
                             f"Sionna 2 for OFDM); under other backends: {', '.join(FLAT_CHANNELS)}")
        if channel.csi == "estimated":
            raise ValueError("csi='estimated' (pilots) needs the torch backend of Keras; use perfect or none")
        los, std = channel.los() if name != "awgn" else (1.0, 0.0)
        return cls(name, float(channel.signal_power), channel.csi, channel.equalizer,
                   None if name == "awgn" else int(channel.block_length), float(los), float(std))


def transmit_reals(x: Any, link: FlatLink, snr_db: float, seed: Any) -> Any:
    """Send reals over ``link`` and undo the power normalization, in ``keras.ops``.

    Input
    -----
    x : [B, m], float
        Each row is power-normalized on its own (mean symbol energy P) and sent as ``ceil(m/2)`` channel uses; a row
        of zeros is not sent and comes back as zeros.
    link : FlatLink
    snr_db : float
        P/N0 in dB.
    seed : keras.random.SeedGenerator (or int)

    Output
    ------
    : [B, m], float32, equalized (ZF or MMSE; raw without CSI) and de-normalized; differentiable in ``x``
    """
    from keras import ops, random

    m = int(x.shape[-1])
    n = (m + 1) // 2
    p = link.signal_power
    n0 = p / 10.0 ** (float(snr_db) / 10.0)
    x = ops.cast(x, "float32")
    ms = ops.mean(ops.square(x), axis=-1, keepdims=True)
    silent = ms <= 0.0
    a = ops.where(silent, ops.ones_like(ms), ops.sqrt(p / (2.0 * ops.maximum(ms, 1e-30))))
    s = x * a
    if m % 2:
        s = ops.pad(s, [[0, 0], [0, 1]])
    batch = ops.shape(x)[0]
    pairs = ops.reshape(s, (batch, n, 2))
    xr, xi = pairs[..., 0], pairs[..., 1]
    sigma = math.sqrt(n0 / 2.0)
    nr = random.normal((batch, n), stddev=sigma, seed=seed)
    ni = random.normal((batch, n), stddev=sigma, seed=seed)
    if link.block_length is None:                                     # AWGN: a known unit gain
        yr, yi = xr + nr, xi + ni
        if link.csi != "none" and link.equalizer == "mmse":
            c = 1.0 / (1.0 + n0 / p)
            yr, yi = yr * c, yi * c
    else:
        L = link.block_length
        blocks = -(-n // L)
        g = link.std / math.sqrt(2.0)
        hr = random.normal((batch, blocks, 1), stddev=g, seed=seed) + link.los
        hi = random.normal((batch, blocks, 1), stddev=g, seed=seed)
        hr = ops.reshape(ops.repeat(hr, L, axis=2), (batch, blocks * L))[:, :n]
        hi = ops.reshape(ops.repeat(hi, L, axis=2), (batch, blocks * L))[:, :n]
        yr = hr * xr - hi * xi + nr
        yi = hr * xi + hi * xr + ni
        if link.csi != "none":                                        # h* y / (|h|^2 [+ N0/P])
            power = hr * hr + hi * hi + (n0 / p if link.equalizer == "mmse" else 0.0)
            yr, yi = (hr * yr + hi * yi) / power, (hr * yi - hi * yr) / power
    est = ops.reshape(ops.stack([yr, yi], axis=-1), (batch, 2 * n))[:, :m] / a
    return ops.where(silent, ops.zeros_like(est), est)
