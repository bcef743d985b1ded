"""Lossless code for bit masks (which weights or units are sent): per segment, raw bitmap or Golomb-coded runs.

Each segment (one layer) is coded on its own, so a mask that is dense in one layer and sparse in another costs
what each layer needs. A segment starts with a 2-bit mode:

* ``00`` all zero, ``01`` all one (nothing else follows);
* ``10`` raw bitmap (one bit per position);
* ``11`` run-length: a flag saying which symbol is the sparser one, its count ``c`` in ``ceil(log2(n+1))`` bits,
  the Golomb parameter ``m`` in Elias-gamma code, then the ``c`` gaps between its occurrences, each Golomb-coded
  (unary quotient, truncated-binary remainder). Golomb codes are optimal prefix codes for geometric gaps, i.e.
  for an i.i.d. mask; for Bernoulli(p) masks the length is within about 3 % of ``n H(p)``.

The encoder picks the shorter mode (and the best ``m``); the decoder needs only the segment lengths.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

_MODE_BITS = 2


def code_length(mask: torch.Tensor, segments: Sequence[int]) -> int:
    """Exact length in bits of :func:`encode_mask` for ``mask`` cut into ``segments``.

    Input
    -----
    mask : [n], bool
    segments : sequence of int summing to n (e.g. parameter tensor sizes)

    Output
    ------
    : int, bits
    """
    return sum(_segment_plan(seg)[0] for seg in _split(mask, segments))


def encode_mask(mask: torch.Tensor, segments: Sequence[int]) -> np.ndarray:
    """Encode ``mask`` [n] bool, cut into ``segments``: a uint8 array of 0/1 bits (see the module docstring)."""
    out: list[int] = []
    for seg in _split(mask, segments):
        _, mode, m = _segment_plan(seg)
        n = seg.size
        if mode == "zero":
            out += [0, 0]
        elif mode == "one":
            out += [0, 1]
        elif mode == "raw":
            out += [1, 0] + seg.astype(int).tolist()
        else:
            sparse = int(seg.sum()) * 2 <= n           # code the ones if they are the sparser symbol
            pos = np.flatnonzero(seg if sparse else ~seg)
            out += [1, 1, 0 if sparse else 1]
            out += _uint(len(pos), _count_bits(n))
            out += _elias_gamma(m)
            for g in np.diff(np.concatenate([[-1], pos])) - 1:
                out += _golomb(int(g), m)
    return np.asarray(out, dtype=np.uint8)


def decode_mask(bits: np.ndarray, segments: Sequence[int]) -> torch.Tensor:
    """Inverse of :func:`encode_mask`: bits (uint8 0/1) -> mask [sum(segments)] bool."""
    stream = [int(b) for b in np.asarray(bits).tolist()]
    i = 0
    parts = []

    def take(k: int) -> list[int]:
        nonlocal i
        if i + k > len(stream):
            raise ValueError(f"mask code ends early: needs {i + k} bits, has {len(stream)}")
        v = stream[i:i + k]
        i += k
        return v

    for n in segments:
        mode = tuple(take(_MODE_BITS))
        if mode == (0, 0):
            parts.append(np.zeros(n, dtype=bool))
        elif mode == (0, 1):
            parts.append(np.ones(n, dtype=bool))
        elif mode == (1, 0):
            parts.append(np.asarray(take(n), dtype=bool))
        else:
            sparse = take(1)[0] == 0
            c = _from_uint(take(_count_bits(n)))
            m = _read_elias_gamma(take)
            pos, last = [], -1
            for _ in range(c):
                last += _read_golomb(take, m) + 1
                pos.append(last)
            seg = np.zeros(n, dtype=bool)
            seg[pos] = True
            parts.append(seg if sparse else ~seg)
    if i != len(stream):
        raise ValueError(f"mask code has {len(stream) - i} trailing bits")
    return torch.from_numpy(np.concatenate(parts) if parts else np.zeros(0, dtype=bool))


def entropy_bound(mask: torch.Tensor) -> float:
    """``n H(p)`` bits for the mask's density p: the shortest i.i.d. code for a mask with that many ones."""
    n, c = mask.numel(), int(mask.sum())
    return n * binary_entropy(c / n) if n else 0.0


def binary_entropy(p: float) -> float:
    """``H(p)`` in bits."""
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def expected_code_length(n: int, keep: int) -> int:
    """Length of the code of an i.i.d. mask of ``n`` positions with ``keep`` ones, one segment (for budgeting
    before a mask exists): the raw bitmap or the Golomb code at the expected gap statistics."""
    if keep <= 0 or keep >= n:
        return _MODE_BITS
    c = min(keep, n - keep)
    q = 1.0 - c / n                                     # gap ~ Geometric: P(g) = (1-q) q^g
    m = max(1, round(-1.0 / math.log2(q))) if q > 0 else 1
    b = (m - 1).bit_length()
    cutoff = (1 << b) - m
    # E[unary quotient] + 1 + E[remainder bits] under the geometric law
    e_quot = q ** m / (1 - q ** m)
    p_short = (1 - q ** cutoff) / (1 - q ** m) if m > 1 else 1.0
    e_rem = b - p_short if m > 1 else 0.0
    golomb = 1 + _count_bits(n) + len(_elias_gamma(m)) + c * (e_quot + 1 + e_rem)
    return _MODE_BITS + int(math.ceil(min(n, golomb)))


# --- internals --------------------------------------------------------------------------------------------

def _split(mask: torch.Tensor, segments: Sequence[int]) -> list[np.ndarray]:
    m = mask.detach().cpu().numpy().astype(bool).reshape(-1)
    if sum(segments) != m.size:
        raise ValueError(f"segments sum to {sum(segments)} but the mask has {m.size} entries")
    return np.split(m, np.cumsum(segments)[:-1]) if len(segments) else []


def _count_bits(n: int) -> int:
    return max(1, math.ceil(math.log2(n + 1)))


def _segment_plan(seg: np.ndarray) -> tuple[int, str, int]:
    """(bits, mode, golomb m) of the cheapest code for one segment."""
    n, c = seg.size, int(seg.sum())
    if c == 0:
        return _MODE_BITS, "zero", 0
    if c == n:
        return _MODE_BITS, "one", 0
    sparse = c * 2 <= n
    pos = np.flatnonzero(seg if sparse else ~seg)
    gaps = np.diff(np.concatenate([[-1], pos])) - 1
    best_m, best_len = min(((m, _golomb_lengths(gaps, m) + len(_elias_gamma(m))) for m in _candidate_m(gaps)),
                           key=lambda ml: ml[1])            # the first of equal lengths, as a strict < scan
    golomb = _MODE_BITS + 1 + _count_bits(n) + best_len
    raw = _MODE_BITS + n
    return (raw, "raw", 0) if raw <= golomb else (golomb, "golomb", best_m)


def _candidate_m(gaps: np.ndarray) -> list[int]:
    mean = float(gaps.mean())
    guess = max(1, int(round(math.log(2) * (mean + 1))))   # optimal m ~ ln2 * E[gap] for geometric gaps
    return sorted({max(1, int(guess * f)) for f in (0.5, 0.7, 0.85, 1.0, 1.2, 1.5, 2.0)} | {1, 2})


def _golomb_lengths(gaps: np.ndarray, m: int) -> int:
    b = (m - 1).bit_length()
    cutoff = (1 << b) - m
    r = gaps % m
    rem = np.where(r < cutoff, b - 1, b) if m > 1 else np.zeros_like(r)
    return int((gaps // m).sum() + gaps.size + rem.sum())


def _golomb(g: int, m: int) -> list[int]:
    q, r = divmod(g, m)
    out = [1] * q + [0]
    if m > 1:
        b = (m - 1).bit_length()
        cutoff = (1 << b) - m
        out += _uint(r, b - 1) if r < cutoff else _uint(r + cutoff, b)
    return out


def _read_golomb(take, m: int) -> int:
    q = 0
    while take(1)[0] == 1:
        q += 1
    r = 0
    if m > 1:
        b = (m - 1).bit_length()
        cutoff = (1 << b) - m
        r = _from_uint(take(b - 1)) if b > 1 else 0
        if r >= cutoff:
            r = ((r << 1) | take(1)[0]) - cutoff
    return q * m + r


def _elias_gamma(v: int) -> list[int]:
    nbits = v.bit_length()
    return [0] * (nbits - 1) + _uint(v, nbits)


def _read_elias_gamma(take) -> int:
    zeros = 0
    while take(1)[0] == 0:
        zeros += 1
    return _from_uint([1] + take(zeros))


def _uint(v: int, width: int) -> list[int]:
    return [(v >> (width - 1 - i)) & 1 for i in range(width)]


def _from_uint(bits: list[int]) -> int:
    v = 0
    for b in bits:
        v = (v << 1) | b
    return v
