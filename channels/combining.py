"""Receiver combining of repeated observations (channel expansion / repetition diversity)."""
from __future__ import annotations

import torch

COMBINERS = ("mrc", "mmse", "average")


def combine(estimates: torch.Tensor, precision: torch.Tensor, index: torch.Tensor, num_outputs: int,
            method: str = "mrc", prior_var: torch.Tensor | float | None = None) -> torch.Tensor:
    """Merge copies [B, m] of ``num_outputs`` values, copy j belonging to value ``index[j]``; return [B, num_outputs].

    ``mrc``: precision-weighted mean ``sum(p z)/sum(p)`` (maximum-ratio combining; the plain average on AWGN);
    ``mmse``: ``sum(p z)/(sum(p) + 1/prior_var)`` (linear MMSE for a zero-mean prior of variance ``prior_var``);
    ``average``: unweighted mean (a receiver without CSI). Values with no copy come out as 0.
    """
    if method not in COMBINERS:
        raise ValueError(f"unknown combiner {method!r}; choose one of {COMBINERS}")
    if estimates.shape != precision.shape:
        raise ValueError(f"estimates {tuple(estimates.shape)} and precision {tuple(precision.shape)} differ")
    if index.dim() != 1 or index.shape[0] != estimates.shape[-1]:
        raise ValueError(f"index must be 1-D with {estimates.shape[-1]} entries, got shape {tuple(index.shape)}")
    if index.numel() and (int(index.min()) < 0 or int(index.max()) >= num_outputs):
        raise ValueError(f"index values must lie in [0, {num_outputs}), got [{int(index.min())}, {int(index.max())}]")
    w = torch.ones_like(precision) if method == "average" else precision
    batch = estimates.shape[0]
    num = torch.zeros(batch, num_outputs, dtype=estimates.dtype, device=estimates.device)
    den = torch.zeros_like(num)
    num.index_add_(1, index, w * estimates)
    den.index_add_(1, index, w)
    if method == "mmse":
        if prior_var is None:
            raise ValueError("mmse combining needs prior_var")
        den = den + 1.0 / torch.as_tensor(prior_var, dtype=den.dtype, device=den.device)
    return torch.where(den > 0, num / den.clamp_min(torch.finfo(den.dtype).tiny), torch.zeros_like(num))
