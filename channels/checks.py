"""Input validation shared by the channel layer: every error names the bad value."""
from __future__ import annotations

import math

import torch


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
    return t


def check_symbols(x: torch.Tensor) -> None:
    """Raise on a channel input that is not a non-empty complex tensor [B, n] (or [n])."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"channel input must be a torch.Tensor, got {type(x).__name__}")
    if not torch.is_complex(x):
        raise TypeError(f"channel input must be complex symbols, got dtype {x.dtype}; pair reals with channels.pair_reals")
    if x.numel() == 0:
        raise ValueError(f"channel input is empty (shape {tuple(x.shape)})")
    if x.dim() == 0:
        raise ValueError("channel input must have at least one dimension (symbols), got a scalar")


def check_positive(name: str, value: float, allow_zero: bool = False) -> float:
    """Return ``value`` as float; raise ValueError if it is NaN, inf, negative (or zero unless allowed)."""
    v = float(value)
    if math.isnan(v) or math.isinf(v) or v < 0 or (v == 0 and not allow_zero):
        need = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a finite {need} number, got {value!r}")
    return v
