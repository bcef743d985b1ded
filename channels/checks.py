"""Input validation shared by the channel layer: every error names the bad value."""
from __future__ import annotations

import math

import torch

# SNRs the channel layer accepts, in dB. Far outside any link budget, and inside what float32 noise variances hold
# (10^15 .. 10^-15 times P; at -400 dB the variance overflows float32 and every output would be inf).
SNR_DB_LIMIT = 150.0


def check_snr_db(snr_db: float | torch.Tensor) -> torch.Tensor:
    """Return ``snr_db`` as a float tensor (shape [] or [B]); raise ValueError on NaN/inf/non-numeric."""
    if isinstance(snr_db, bool) or not isinstance(snr_db, (int, float, torch.Tensor)):
        raise TypeError(f"snr_db must be a number or a tensor, got {snr_db!r} ({type(snr_db).__name__})")
    t = torch.as_tensor(snr_db, dtype=torch.float64)
    if t.dim() > 1:
        raise ValueError(f"snr_db must be a scalar or a 1-D tensor over the batch, got shape {tuple(t.shape)}")
    if t.numel() == 0:
        raise ValueError("snr_db is an empty tensor")
    if not torch.isfinite(t).all():
        bad = t[~torch.isfinite(t)].tolist()
        raise ValueError(f"snr_db must be finite, got {bad if t.dim() else float(t)}")
    if bool((t.abs() > SNR_DB_LIMIT).any()):
        got = t[t.abs() > SNR_DB_LIMIT].tolist() if t.dim() else f"{float(t):g}"
        raise ValueError(f"snr_db must lie in [-{SNR_DB_LIMIT:g}, {SNR_DB_LIMIT:g}] dB, got {got}")
    return t


def check_snr_float(snr_db: float) -> float:
    """A plain float SNR in dB, checked without a tensor round trip (the per-step fast path); raises as
    :func:`check_snr_db`."""
    if not (-SNR_DB_LIMIT <= snr_db <= SNR_DB_LIMIT):          # also False for NaN
        check_snr_db(snr_db)
    return snr_db


def check_symbols(x: torch.Tensor) -> None:
    """Raise on a channel input that is not a non-empty, finite complex tensor [B, n] (or [n]).

    The one contract of every channel's :meth:`~channels.Channel.observe` (and so of ``__call__``): the same input
    gets the same error on every channel."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"channel input must be a torch.Tensor, got {type(x).__name__}")
    if not torch.is_complex(x):
        raise TypeError(f"channel input must be complex symbols, got dtype {x.dtype}; pair reals with channels.pair_reals")
    if x.dim() == 0 or x.dim() > 2:
        raise ValueError(f"channel input must be symbols [B, n] or [n], got shape {tuple(x.shape)} "
                         f"(flatten the other dimensions, e.g. x.reshape(B, -1))")
    if x.numel() == 0:
        raise ValueError(f"channel input is empty (shape {tuple(x.shape)})")
    check_finite("channel input", x)


def check_reals(x: torch.Tensor, what: str = "transmit_reals input") -> None:
    """Raise on reals to transmit that are not a non-empty floating-point tensor [B, m] (or [m])."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got {type(x).__name__}")
    if not torch.is_floating_point(x):
        raise TypeError(f"{what} must be real floating-point values, got dtype {x.dtype}"
                        + ("; send complex symbols with the channel itself" if torch.is_complex(x) else ""))
    if x.dim() == 0 or x.dim() > 2:
        raise ValueError(f"{what} must be reals [B, m] or [m], got shape {tuple(x.shape)} "
                         f"(flatten the other dimensions, e.g. x.reshape(B, -1))")
    if x.numel() == 0:
        raise ValueError(f"{what} is empty (shape {tuple(x.shape)})")


def check_finite(what: str, x: torch.Tensor) -> None:
    """Raise naming how many values of ``x`` are NaN or inf."""
    r = torch.view_as_real(x) if torch.is_complex(x) else x
    if bool(torch.isfinite(r.sum())):            # one cheap reduction: any NaN or inf makes the sum non-finite
        return
    finite = torch.isfinite(r)                   # or the sum overflowed: count exactly
    if not bool(finite.all()):
        raise ValueError(f"{what} has {int((~finite).sum())} non-finite value(s) (NaN or inf)")


def check_positive(name: str, value: float, allow_zero: bool = False) -> float:
    """Return ``value`` as float; raise ValueError if it is NaN, inf, negative (or zero unless allowed)."""
    v = float(value)
    if math.isnan(v) or math.isinf(v) or v < 0 or (v == 0 and not allow_zero):
        need = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a finite {need} number, got {value!r}")
    return v
