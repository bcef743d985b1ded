"""Additive white Gaussian noise channel: ``y = x + n``, ``n ~ CN(0, N0)``."""
from __future__ import annotations

import math

import torch

from channels.base import Channel
from channels.power import mean_square
from channels.capacity import awgn_capacity, awgn_dispersion, snr_linear
from channels.registry import register_channel


def _one_snr(snr_db: object) -> bool:
    """A single finite SNR (the fused paths); tensors and per-row SNRs take the generic path."""
    return isinstance(snr_db, (int, float)) and not isinstance(snr_db, bool) and math.isfinite(snr_db)


@register_channel("awgn")
class AWGNChannel(Channel):
    """Complex AWGN; noise variance per symbol ``N0 = P/SNR`` (see :mod:`channels.power`).

    The gain is 1 and known, so ``csi`` makes no difference here.
    """

    name = "awgn"

    def __init__(self, signal_power: float = 1.0, csi: str = "perfect", equalizer: str = "zf") -> None:
        super().__init__(signal_power=signal_power, csi=csi, equalizer=equalizer)    # the gain is 1 and known

    def gains(self, shape: torch.Size, generator: torch.Generator | None, dtype: torch.dtype,
              device: torch.device) -> None:
        """A known unit gain: None (the receiver skips multiplying and dividing by 1)."""
        return None

    takes_normals = True

    def reals_perturbation(self, x, snr_db, generator, normals=None):
        """Fused AWGN path of :func:`channels.transmit_reals` minus its input: ``sqrt(mean(x^2) N0/P) z`` per row
        (ZF; MMSE also shrinks), with the same standard normals in the same order as the generic path (pairs of
        reals share a complex symbol), so results match it up to float rounding; an all-zero row gets none.
        Accepts x [B, m] or one vector [m]. ``normals`` (x's shape) replace the draw and are scaled in place: the
        same numbers as drawing them with ``torch.randn`` of that size from the same generator."""
        if not _one_snr(snr_db):
            return None
        *lead, m = x.shape
        n0_over_p = 10.0 ** (-snr_db / 10.0)
        if normals is not None:
            if normals.shape != x.shape or normals.dtype != x.dtype or normals.device != x.device:
                raise ValueError(f"normals must match x ({tuple(x.shape)}, {x.dtype}, {x.device}), got "
                                 f"{tuple(normals.shape)}, {normals.dtype}, {normals.device}")
            z = normals
        else:
            z = torch.randn(*lead, m + (m % 2), generator=generator, dtype=x.dtype, device=x.device)
            z = z[..., :m] if m % 2 else z
        noise = z.mul_(self._noise_std(x, n0_over_p))
        c = self._shrinkage(n0_over_p)
        if c is not None:                         # est = (x + noise) c: est - x = noise c - x (1 - c)
            noise = noise.mul_(c).sub_(x, alpha=1.0 - c)
        return noise

    def perturb_reals(self, x, snr_db, normals, out):
        """``x + reals_perturbation(x, snr_db, normals=normals)`` for one vector x [m], written into ``out`` [m] in
        one pass (``x + s z``, times the MMSE shrinkage), leaving ``normals`` unchanged; None (nothing written)
        where it does not apply. Rounds once where the two-step path rounds twice."""
        if not _one_snr(snr_db) or x.dim() != 1 or normals.shape != x.shape or out.shape != x.shape:
            return None
        n0_over_p = 10.0 ** (-snr_db / 10.0)
        torch.add(x, normals, alpha=float(self._noise_std(x, n0_over_p)), out=out)
        c = self._shrinkage(n0_over_p)
        if c is not None:
            out.mul_(c)
        return out

    def _shrinkage(self, n0_over_p: float) -> float | None:
        """The MMSE receiver's scalar ``1 / (1 + N0/P)`` on this unit-gain channel; None for ZF or no CSI."""
        return 1.0 / (1.0 + n0_over_p) if self.equalizer == "mmse" and self.csi != "none" else None

    @staticmethod
    def _noise_std(x: torch.Tensor, n0_over_p: float) -> torch.Tensor:
        """Per-real noise std ``sqrt(mean(x^2) N0/P)``: a 0-d tensor for one vector [m], [B, 1] for rows [B, m]."""
        if x.dim() == 1:                          # one vector (noise injection): one dot product for its power
            energy = torch.dot(x, x)
            if bool(torch.isfinite(energy)) and float(energy) >= torch.finfo(x.dtype).tiny ** 0.5:
                return energy.mul_(n0_over_p / x.shape[0]).sqrt_()
            return mean_square(x)[0].mul(n0_over_p).sqrt_().to(x.dtype)   # out of range in x's dtype: float64
        return mean_square(x).mul(n0_over_p).sqrt_().to(x.dtype)

    def capacity(self, snr_db: float) -> float:
        """``log2(1 + SNR)`` bits per channel use."""
        return awgn_capacity(snr_linear(snr_db))

    def dispersion(self, snr_db: float) -> float:
        """``(1 - 1/(1+SNR)^2) log2(e)^2``."""
        return awgn_dispersion(snr_linear(snr_db))
