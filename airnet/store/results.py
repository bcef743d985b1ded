"""Tidy, resumable result tables: one CSV row per sweep point, merged into the file under a lock after each point.

Any number of processes may write the same ``results.csv`` at once (parallel launchers, two sweeps sharing a
folder): each write takes a lock on ``<file>.lock``, re-reads the file, merges its rows (a row replaces the row with
the same key), and replaces the file atomically. Rows that are cut off or invalid (a crash mid-write, a hand edit)
are dropped with a warning when the file is read, so the sweep recomputes them.
"""
from __future__ import annotations

import csv
import logging
import math
from pathlib import Path
from typing import AbstractSet, Any, Iterable

from filelock import FileLock

from airnet.store.files import atomic_write

log = logging.getLogger("airnet")
REQUIRED_NUMBERS = ("acc_mean",)   # a row without a finite accuracy is not a result


class ResultTable:
    """Rows keyed by ``key_columns``; :meth:`has` tells a sweep which points are already finished."""

    def __init__(self, path: str | Path, key_columns: Iterable[str]) -> None:
        self.path = Path(path)
        self.key_columns = tuple(key_columns)
        self.lock = FileLock(str(self.path) + ".lock")
        self.rows: list[dict[str, Any]] = []
        self._index: dict[tuple[str, ...], dict[str, Any]] = {}
        with self.lock:
            self._merge(self._read())

    def _key(self, row: dict[str, Any]) -> tuple[str, ...]:
        missing = [c for c in self.key_columns if c not in row]
        if missing:
            raise KeyError(f"row lacks key columns {missing}")
        return tuple(_canon(row[c]) for c in self.key_columns)

    def has(self, **key: Any) -> bool:
        """Whether a row with these key values is already stored."""
        return self._key(key) in self._index

    def get(self, **key: Any) -> dict[str, Any] | None:
        """The row with these key values, or None."""
        return self._index.get(self._key(key))

    def add(self, row: dict[str, Any]) -> None:
        """Store ``row`` (replacing the row with the same key) and merge it into the file under the lock."""
        self._merge([row])
        with self.lock:
            self._merge(self._read(), keep_mine={self._key(row)})
            self._write()

    def save(self) -> None:
        """Merge every row into the file under the lock (rows of other writers are kept)."""
        with self.lock:
            self._merge(self._read(), keep_mine=set(self._index))
            self._write()

    def _merge(self, rows: list[dict[str, Any]], keep_mine: AbstractSet[tuple[str, ...]] = frozenset()) -> None:
        for r in rows:
            k = self._key(r)
            if k in keep_mine:
                continue
            if k in self._index:
                self.rows[self.rows.index(self._index[k])] = r
            else:
                self.rows.append(r)
            self._index[k] = r

    def _read(self) -> list[dict[str, Any]]:
        """Valid rows of the file (invalid ones are reported and left out)."""
        if not self.path.exists():
            return []
        with open(self.path, newline="") as f:
            reader = csv.DictReader(f)
            rows: list[dict[str, Any]] = []
            bad: list[tuple[int, str]] = []
            for line, r in enumerate(reader, start=2):
                problem = self._problem(r)
                if problem:
                    bad.append((line, problem))
                else:
                    rows.append(dict(r))
        for line, problem in bad:
            log.warning("%s line %d: %s; dropping the row (its point will be recomputed)", self.path, line, problem)
        return rows

    def _problem(self, row: dict[str, Any]) -> str | None:
        if None in row:
            return "more fields than the header"
        if any(v is None for v in row.values()):
            return "row is cut off (fewer fields than the header)"
        if any(row.get(c, "") == "" for c in self.key_columns):
            return f"a key column is empty ({', '.join(c for c in self.key_columns if row.get(c, '') == '')})"
        for c in REQUIRED_NUMBERS:
            if c in row:
                try:
                    if not math.isfinite(float(row[c])):
                        return f"{c} is not finite ({row[c]!r})"
                except ValueError:
                    return f"{c} is not a number ({row[c]!r})"
        return None

    def _write(self) -> None:
        cols: list[str] = []
        for r in self.rows:
            cols += [c for c in r if c not in cols]

        def write(p: Path) -> None:
            with open(p, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
                w.writeheader()
                w.writerows(self.rows)

        atomic_write(self.path, write)


def _canon(v: Any) -> str:
    """Key normalization so 5, 5.0 and '5.0' (and True and 'True') match after a CSV round trip."""
    if isinstance(v, bool):
        return str(v)
    try:
        return repr(float(v))
    except (TypeError, ValueError):
        return str(v)
