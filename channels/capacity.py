"""Capacity formulas (bits per complex channel use) behind :meth:`channels.Channel.capacity`.

SciPy is imported only inside the functions that need it, so ``import channels`` stays light.
"""
from __future__ import annotations

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
