"""Receiver combining of repeated observations (channel expansion / repetition diversity)."""
from __future__ import annotations

import torch

COMBINERS = ("mrc", "mmse", "average")


def combine(estimates: torch.Tensor, precision: torch.Tensor, index: torch.Tensor, num_outputs: int,
            method: str = "mrc", prior_var: torch.Tensor | float | None = None) -> torch.Tensor:
    """Merge repeated noisy observations of ``num_outputs`` values into one estimate each.

    ``mrc``: precision-weighted mean ``sum(p z)/sum(p)`` (maximum-ratio combining; the plain average on AWGN);
    ``mmse``: ``sum(p z)/(sum(p) + 1/prior_var)`` (linear MMSE for a zero-mean prior of variance ``prior_var``);
    ``average``: unweighted mean (a receiver without CSI). Values with no copy come out as 0.

    Input
    -----
    estimates : [B, m], float
        Unbiased estimates; copy j observes value ``index[j]``.
    precision : [B, m], float
        Inverse noise variance of each estimate.
    index : [m], long
        Value each copy belongs to, in ``[0, num_outputs)``.
    num_outputs : int
    method : "mrc" | "mmse" | "average"
    prior_var : float or [B, 1], float
        Prior variance of the values (``mmse`` only).

    Output
    ------
    : [B, num_outputs], dtype of ``estimates``
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
