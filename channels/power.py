"""Power normalization and real<->complex pairing.

Convention (used by every channel in this package): a channel input ``x`` of complex symbols is assumed to have
average energy ``E|x|^2 = P`` (``signal_power``, default 1). For an SNR of ``snr_db`` the channel adds circularly
symmetric complex Gaussian noise of variance ``N0 = P / 10**(snr_db/10)`` per complex symbol (``N0/2`` per real
dimension). Callers that transmit arbitrary real data first scale it with :func:`normalize_power`, so that after
pairing two reals into one complex symbol the average symbol energy is exactly ``P``.
"""
from __future__ import annotations

import torch

from channels.checks import check_positive, check_snr_db


def snr_db_to_noise_var(snr_db: float | torch.Tensor, signal_power: float = 1.0) -> torch.Tensor:
    """Noise variance per complex symbol ``N0 = P / 10^(snr/10)``.

    Input
    -----
    snr_db : float or [B], float
    signal_power : float

    Output
    ------
    : [] or [B], float64
    """
    snr = check_snr_db(snr_db)
    p = check_positive("signal_power", signal_power)
    return p / torch.pow(10.0, snr / 10.0)


def pair_reals(x: torch.Tensor) -> torch.Tensor:
    """Pack two reals per complex symbol: ``x[2i] + j x[2i+1]``; odd ``m`` is zero-padded.

    Input
    -----
    x : [..., m], float

    Output
    ------
    : [..., ceil(m/2)], complex64 (complex128 for float64 input)
    """
    if torch.is_complex(x):
        raise TypeError(f"pair_reals expects a real tensor, got {x.dtype}")
    if x.dim() == 0 or x.shape[-1] == 0:
        raise ValueError(f"pair_reals needs a non-empty last dimension, got shape {tuple(x.shape)}")
    m = x.shape[-1]
    if m % 2:
        x = torch.nn.functional.pad(x, (0, 1))
    x = x.to(torch.float64 if x.dtype == torch.float64 else torch.float32)
    return torch.view_as_complex(x.reshape(*x.shape[:-1], -1, 2).contiguous())


def unpair_reals(z: torch.Tensor, m: int) -> torch.Tensor:
    """Inverse of :func:`pair_reals`.

    Input
    -----
    z : [..., n], complex
    m : int
        Reals to return, ``m <= 2n``.

    Output
    ------
    : [..., m], float32 (float64 for complex128 input)
    """
    if not torch.is_complex(z):
        raise TypeError(f"unpair_reals expects a complex tensor, got {z.dtype}")
    if m > 2 * z.shape[-1]:
        raise ValueError(f"cannot unpair {m} reals from {z.shape[-1]} complex symbols")
    return torch.view_as_real(z).reshape(*z.shape[:-1], -1)[..., :m]


def power_scale(x: torch.Tensor, signal_power: float = 1.0) -> torch.Tensor:
    """Scale that gives paired symbols of ``a*x`` mean energy P: ``a = sqrt(P / (2 mean x^2))``.

    A row that is all zeros has no power to normalize: its scale is 0 (it is not sent, see
    :func:`channels.analog.transmit_reals_soft`).

    Input
    -----
    x : [..., m], float
    signal_power : float

    Output
    ------
    a : [..., 1], dtype of ``x``
    """
    p = check_positive("signal_power", signal_power)
    ms = mean_square(x)
    a = torch.where(ms > 0, torch.sqrt(p / (2.0 * ms.clamp_min(torch.finfo(ms.dtype).tiny))), torch.zeros_like(ms))
    return a.to(x.dtype)


def mean_square(x: torch.Tensor) -> torch.Tensor:
    """Mean square per row, ``mean(x^2)`` over the last dimension, without overflow or underflow: when a row's
    squares leave float32's range (a row of 1e30 squares to inf, one of 1e-30 to 0) every row is redone in float64.

    Input
    -----
    x : [..., m], float

    Output
    ------
    : [..., 1], dtype of ``x``; float64 when a row needed the float64 pass
    """
    ms = x.pow(2).mean(dim=-1, keepdim=True)
    if bool((~torch.isfinite(ms) | (ms < torch.finfo(ms.dtype).tiny ** 0.5)).any()):  # rare: inf, tiny or all-zero
        big = x.double().abs().amax(dim=-1, keepdim=True)
        exact = (x.double() / big.clamp_min(1e-300)).pow(2).mean(dim=-1, keepdim=True) * big.pow(2)
        if not bool(torch.isfinite(exact).all()):
            raise ValueError(f"values up to {float(big.max()):.3g} are too large to power-normalize")
        return exact                      # float64: callers cast what they derive from it (a scale, a deviation)
    return ms


def normalize_power(x: torch.Tensor, signal_power: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Power-normalize reals for transmission: ``(a*x, a)``, ``x`` [..., m] -> ([..., m], [..., 1]).

    Inputs, dtypes and ``a`` as in :func:`power_scale`.
    """
    a = power_scale(x, signal_power)
    return x * a, a
