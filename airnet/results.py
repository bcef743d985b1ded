"""Tidy, resumable result tables: one CSV row per sweep point, rewritten atomically after each point."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Iterable

from airnet.io import atomic_write


class ResultTable:
    """Rows keyed by ``key_columns``; :meth:`has` tells a sweep which points are already finished."""

    def __init__(self, path: str | Path, key_columns: Iterable[str]) -> None:
        self.path = Path(path)
        self.key_columns = tuple(key_columns)
        self.rows: list[dict[str, Any]] = []
        if self.path.exists():
            with open(self.path, newline="") as f:
                self.rows = [dict(r) for r in csv.DictReader(f)]
        self._index = {self._key(r): r for r in self.rows}

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
        """Append (or replace the row with the same key) and rewrite the CSV atomically."""
        k = self._key(row)
        if k in self._index:
            self.rows.remove(self._index[k])
        self.rows.append(row)
        self._index[k] = row
        self.save()

    def save(self) -> None:
        """Write all rows (union of columns, first-seen order) to ``path`` atomically."""
        cols: list[str] = []
        for r in self.rows:
            cols += [c for c in r if c not in cols]

        def write(p: Path) -> None:
            with open(p, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=cols)
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
