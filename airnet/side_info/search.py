"""The two searches of side-information sizing: the largest size that fits, the smallest index that passes.

They probe in different orders on purpose, and the order is part of the results: :func:`smallest_passing` (through
:func:`first_passing`, which tests the slowest, most robust entry last and only when needed) serves the MCS and
polar searches, whose every probe draws random trial blocks, and :func:`largest_fitting` runs over mask costs that
are not monotone in the size. Merging them would change which MCS and which plan size edge cases pick.
"""
from __future__ import annotations

from typing import Callable


def largest_fitting(hi: int, fits: Callable[[int], bool]) -> int:
    """Largest ``k`` in ``[1, hi]`` with ``fits(k)`` (0 if none), for sizes whose cost grows with ``k``.

    Checks ``hi`` first (the common case: everything fits), then bisects. Costs that are not monotone (a mask
    gets cheaper again near ``n``) make this a good, not necessarily the largest, fitting size.
    """
    if hi < 1:
        return 0
    if fits(hi):
        return hi
    lo, hi = 0, hi            # fits(lo) (or lo == 0), not fits(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return lo


def first_passing(n: int, passes: Callable[[int], bool]) -> int | None:
    """Smallest ``i`` in ``[0, n)`` with ``passes(i)`` for a test that, once passed, stays passed as ``i`` grows;
    None if not even ``n - 1`` passes. Bisection first: the last (most robust, and slowest to test) entry is
    evaluated only when nothing before it passed."""
    i = smallest_passing(0, n - 1, passes)
    return i if i < n - 1 or passes(n - 1) else None


def smallest_passing(lo: int, hi: int, passes: Callable[[int], bool]) -> int:
    """Smallest ``i`` in ``[lo, hi]`` with ``passes(i)``, by bisection, for a test that, once passed, stays passed
    as ``i`` grows; ``passes(hi)`` must hold (it is not evaluated)."""
    while lo < hi:
        mid = (lo + hi) // 2
        if passes(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo
