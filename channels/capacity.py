"""Capacity formulas (bits per complex channel use) behind :meth:`channels.Channel.capacity`.

SciPy is imported only inside the functions that need it, so ``import channels`` stays light.
"""
from __future__ import annotations

from typing import Any

import math

from channels.checks import check_snr_db


def snr_linear(snr_db: float) -> float:
    """``10^(snr_db/10)`` after validating ``snr_db``."""
    return 10.0 ** (float(check_snr_db(snr_db)) / 10.0)


def awgn_capacity(snr: float) -> float:
    """``log2(1 + snr)`` for a linear SNR."""
    return math.log2(1.0 + snr)


def rayleigh_ergodic_capacity(snr: float) -> float:
    """``E log2(1 + |h|^2 snr)`` with ``|h|^2 ~ Exp(1)``: ``e^{1/snr} E1(1/snr) / ln 2`` (receiver CSI).

    For ``1/snr > 50`` (below -17 dB) ``e^x E1(x)`` overflows; its asymptotic series is used there.
    """
    x = 1.0 / snr
    if x > 50.0:
        term, total = 1.0 / x, 0.0
        for k in range(1, 8):  # sum (-1)^k k!/x^(k+1); terms still shrink for x > 50
            total += term
            term *= -k / x
        return total / math.log(2.0)
    from scipy import special

    return float(math.exp(x) * special.exp1(x) / math.log(2.0))


def rician_ergodic_capacity(snr: float, k_factor: float) -> float:
    """``E log2(1 + |h|^2 snr)`` for Rician ``|h|^2`` (``E|h|^2 = 1``, K-factor ``k_factor``), by quadrature.

    ``2(K+1)|h|^2`` is noncentral chi-squared with 2 degrees of freedom and noncentrality ``2K``.
    """
    if k_factor == 0:
        return rayleigh_ergodic_capacity(snr)
    import numpy as np
    from scipy import integrate, stats

    k = k_factor
    f = lambda g: stats.ncx2.pdf(2 * (k + 1) * g, 2, 2 * k) * 2 * (k + 1) * math.log2(1 + g * snr)  # noqa: E731
    return float(integrate.quad(f, 0, np.inf, limit=200)[0])


LOG2E = 1.0 / math.log(2.0)


def awgn_dispersion(snr: float) -> float:
    """Channel dispersion of complex AWGN, bits^2 per channel use: ``(1 - 1/(1+snr)^2) log2(e)^2``."""
    return (1.0 - 1.0 / (1.0 + snr) ** 2) * LOG2E ** 2


def fading_dispersion(snr: float, block_length: int, gains2: Any) -> float:
    """Dispersion of coherent block fading with receiver CSI (Yang, Durisi, Koch, Polyanskiy, 2014/2015):
    ``E[V_awgn(snr |h|^2)] + block_length * Var[log2(1 + snr |h|^2)]``, from samples ``gains2`` of ``|h|^2``."""
    import numpy as np

    g = np.asarray(gains2, dtype=np.float64) * snr
    v_awgn = (1.0 - 1.0 / (1.0 + g) ** 2) * LOG2E ** 2
    return float(v_awgn.mean() + block_length * np.log2(1.0 + g).var())


def normal_approximation_bits(capacity: float, dispersion: float, uses: int, error_probability: float) -> int:
    """Information bits a code of ``uses`` channel uses carries at block error ``error_probability``
    (Polyanskiy-Poor-Verdu normal approximation): ``n C - sqrt(n V) Q^-1(eps) + log2(n)/2``, floored at 0."""
    from statistics import NormalDist

    if not 0.0 < error_probability < 1.0:
        raise ValueError(f"error_probability must lie in (0, 1), got {error_probability}")
    if uses < 1:
        return 0
    q_inv = NormalDist().inv_cdf(1.0 - error_probability)
    bits = uses * capacity - math.sqrt(uses * dispersion) * q_inv + 0.5 * math.log2(uses)
    return max(0, int(math.floor(bits)))


def normal_approximation_error(capacity: float, dispersion: float, uses: int, bits: int) -> float:
    """Block error probability of ``bits`` information bits in ``uses`` channel uses (normal approximation):
    ``Q((n C - k + log2(n)/2) / sqrt(n V))``."""
    from statistics import NormalDist

    if bits <= 0:
        return 0.0
    if dispersion <= 0:
        return 0.0 if uses * capacity + 0.5 * math.log2(max(uses, 1)) >= bits else 1.0
    z = (uses * capacity - bits + 0.5 * math.log2(max(uses, 1))) / math.sqrt(uses * dispersion)
    return 1.0 - NormalDist().cdf(z)
