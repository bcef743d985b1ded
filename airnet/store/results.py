"""Tidy, resumable result tables: one row per sweep point, appended to the writer's own shard, merged into CSV.

``results.csv`` is the file users read. Beside it, ``results.d/`` holds one append-only shard per writing process
(``<start ns>-<host>-<pid>-<random>.jsonl``, one JSON row per line, flushed and fsynced per point). Why shards and
not a lock or SQLite: ``fcntl`` locks and SQLite's WAL are unreliable on the network file systems SLURM jobs share,
while appending to a file only one process writes, and renaming a file over another, are safe there; and an append
costs the same at the 10,000th point as at the first (a rewrite of the whole CSV per point grew with the sweep).

- **Reading** (a new table, :func:`read_rows`): ``results.csv``, then every shard in name (start time) order; a
  later row replaces an earlier one with the same key. Rows cut off by a crash or invalid (a hand edit) are dropped
  with a warning, so the sweep recomputes them.
- **Merging** (:meth:`ResultTable.save`: every ``merge_every`` seconds and at :meth:`ResultTable.close`): the merged
  rows replace ``results.csv`` atomically (a unique temporary name per writer, then a rename). Two writers merging
  at once may each write a file missing the other's newest rows; those rows stay in their shards, which every read
  includes, and the last writer to close merges again if any shard changed while it merged.
- **Compaction**: a closing writer marks its shard finished (``.done``). It deletes its own shard when it is the
  only one, and shards finished more than :data:`SETTLED` seconds ago (or left that long by a dead process on this
  host), whose rows every merge since has read. A shard of a killed job on another host stays until :func:`compact`
  is run with no job writing. Only writers with a shard write ``results.csv``; readers (:func:`read_rows`) merge in
  memory.

To recompute a point by hand, delete its row from ``results.csv`` *and* from the shards (or :func:`compact` first).
"""
from __future__ import annotations

import csv
import json
import logging
import math
import os
import socket
import time
import uuid
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from airnet.store.files import atomic_write

log = logging.getLogger("airnet")
REQUIRED_NUMBERS = ("acc_mean",)   # a row without a finite accuracy is not a result
DONE = ".done"
SETTLED = 60.0     # seconds after which a finished shard is read by every merge still running


def shard_folder(path: str | Path) -> Path:
    """``results.d`` beside ``results.csv``."""
    path = Path(path)
    return path.with_name(path.stem + ".d")


class ResultTable:
    """Rows keyed by ``key_columns``; :meth:`has` tells a sweep which points are already finished.

    Input
    -----
    path : path
        ``results.csv``; its shards go to :func:`shard_folder`.
    key_columns : iterable of str
        Columns that identify a row; a row replaces a stored row with equal key values (5, 5.0 and "5.0" are equal).
    merge_every : float
        Seconds between merges into ``results.csv`` while points are added (0: after every point).

    Example
    -------
    >>> with ResultTable(tmp / "results.csv", ["scheme", "snr_db"]) as t:   # doctest: +SKIP
    ...     if not t.has(scheme="clean", snr_db=0):
    ...         t.add({"scheme": "clean", "snr_db": 0, "acc_mean": 0.93})
    """

    def __init__(self, path: str | Path, key_columns: Iterable[str], merge_every: float = 30.0) -> None:
        self.path = Path(path)
        self.key_columns = tuple(key_columns)
        self.merge_every = merge_every
        self.shards = shard_folder(self.path)
        self._shard: Path | None = None          # created at the first add
        self._index: dict[tuple[str, ...], dict[str, Any]] = {}
        self._rank: dict[tuple[str, ...], int] = {}
        self._last_merge = time.monotonic()
        from airnet.store.artifacts import remove_orphans

        remove_orphans(self.path.parent)         # temporary CSVs of merges a kill -9 cut short
        self._load()

    @property
    def rows(self) -> list[dict[str, Any]]:
        """Every stored row, in first-stored order; values are strings, as in the CSV."""
        return list(self._index.values())

    def _key(self, row: dict[str, Any]) -> tuple[str, ...]:
        missing = [c for c in self.key_columns if c not in row]
        if missing:
            raise KeyError(f"row lacks key columns {missing}")
        return tuple(canonical(row[c]) for c in self.key_columns)

    def has(self, **key: Any) -> bool:
        """Whether a row with these key values is already stored."""
        return self._key(key) in self._index

    def get(self, **key: Any) -> dict[str, Any] | None:
        """The row with these key values, or None."""
        return self._index.get(self._key(key))

    def add(self, row: dict[str, Any]) -> None:
        """Store ``row`` (replacing the row with the same key): one line appended to this writer's shard, durable
        before this returns; merged into ``results.csv`` at most every ``merge_every`` seconds."""
        self._key(row)
        if self._shard is None:
            self.shards.mkdir(parents=True, exist_ok=True)
            name = f"{time.time_ns():020d}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
            self._shard = self.shards / name
        line = json.dumps(row, default=str, allow_nan=True) + "\n"
        with open(self._shard, "a") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        # kept as the CSV holds it (strings), so rows read back after a merge or a resume look the same
        self._index[self._key(row)] = {str(k): _cell(v) for k, v in row.items()}
        if time.monotonic() - self._last_merge >= self.merge_every:
            self.save()

    def order_new(self, keys: Sequence[dict[str, Any]]) -> None:
        """Write the rows this table adds in the order of ``keys`` (key values of rows to come), whatever order
        they are added in (a sweep whose workers finish points out of turn); rows stored before, and added rows
        not named, keep their places (first-stored order)."""
        self._rank = {self._key(k): r for r, k in enumerate(keys)}

    def save(self) -> None:
        """Merge ``results.csv`` and every shard into ``results.csv`` (rows of other writers are kept); again while a
        shard changed during the merge, so the last writer's file holds every row. A table that added nothing only
        re-reads (it never writes the CSV, so it cannot write a stale one)."""
        for _ in range(5):
            before = _shard_state(self.shards)
            self._load()
            if self._shard is None:
                break
            self._write()
            if _shard_state(self.shards) == before:
                break
        self._last_merge = time.monotonic()

    def close(self) -> None:
        """Merge, mark this writer's shard finished, and delete the shards no merge can still need."""
        self.save()
        if self._shard is None:
            return
        done = self._shard.with_name(self._shard.name + DONE)
        os.replace(self._shard, done)
        os.utime(done)                        # its mtime is now the time it finished
        self._shard = None
        _delete_settled(self.shards, mine=done)

    def __enter__(self) -> "ResultTable":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _load(self) -> None:
        """Re-read the store: ``results.csv`` then the shards; a later row replaces an earlier one."""
        index: dict[tuple[str, ...], dict[str, Any]] = {}
        for r in _stored_rows(self.path, self.key_columns):
            index[self._key(r)] = r
        self._index = index

    def _write(self) -> None:
        rows = self.rows
        if self._rank:        # the named rows, wherever they are, fill the places they hold, in ``_rank`` order
            ranked = [i for i, r in enumerate(rows) if self._key(r) in self._rank]
            in_order = sorted((rows[i] for i in ranked), key=lambda r: self._rank[self._key(r)])
            for i, r in zip(ranked, in_order):
                rows[i] = r
        write_csv(self.path, rows)


def write_csv(path: str | Path, rows: list[dict[str, Any]]) -> Path:
    """Write ``rows`` atomically as CSV (LF line ends; columns in first-seen order; missing cells empty)."""
    cols: list[str] = []
    seen: set[str] = set()
    for r in rows:
        for c in r:
            if c not in seen:
                seen.add(c)
                cols.append(c)

    def write(p: Path) -> None:
        with open(p, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)

    return atomic_write(path, write)


def read_rows(path: str | Path, key_columns: Iterable[str] | None = None) -> list[dict[str, str]]:
    """The merged store of ``results.csv`` (the CSV and its shards), every value a string as in the CSV.

    Input
    -----
    path : path
        ``results.csv`` (it need not exist when shards do).
    key_columns : iterable of str, optional
        Dedup key (default: the sweep's :data:`airnet.run.sweep.KEY_COLUMNS`).

    Output
    ------
    : list of dict, one per key, the newest row
    """
    if key_columns is None:
        from airnet.run.sweep import KEY_COLUMNS
        key_columns = KEY_COLUMNS
    keys = tuple(key_columns)
    path = Path(path)
    if not path.exists() and not shard_folder(path).is_dir():
        raise FileNotFoundError(f"no results at {path}")
    index: dict[tuple[str, ...], dict[str, str]] = {}
    for r in _stored_rows(path, keys):
        index[tuple(canonical(r.get(c, "")) for c in keys)] = r
    return list(index.values())


def compact(path: str | Path) -> int:
    """Fold every shard into ``results.csv`` and delete the shards. Only while no job writes into the folder.

    Output
    ------
    : int, the number of shards removed
    """
    rows = read_rows(path)
    write_csv(path, rows)
    folder = shard_folder(path)
    shards = sorted(folder.glob("*.jsonl*")) if folder.is_dir() else []
    for s in shards:
        s.unlink()
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
    return len(shards)


def _stored_rows(path: Path, key_columns: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """Valid rows of ``results.csv`` then of each shard in order; invalid ones are reported and left out."""
    bad: list[tuple[str, str]] = []
    if path.exists():
        with open(path, newline="") as f:
            for line, r in enumerate(csv.DictReader(f), start=2):
                problem = _problem(r, key_columns)
                if problem:
                    bad.append((f"{path} line {line}", problem))
                else:
                    yield dict(r)
    folder = shard_folder(path)
    for shard in sorted(folder.glob("*.jsonl*")) if folder.is_dir() else []:
        try:
            text = shard.read_text()
        except FileNotFoundError:                 # compacted by another writer meanwhile: its rows are in the CSV
            continue
        for line, raw in enumerate(text.splitlines(), start=1):
            try:
                row = {str(k): _cell(v) for k, v in json.loads(raw).items()}
            except (json.JSONDecodeError, AttributeError):
                bad.append((f"{shard} line {line}", "row is cut off (not one JSON object)"))
                continue
            problem = _problem(row, key_columns)
            if problem:
                bad.append((f"{shard} line {line}", problem))
            else:
                yield row
    for where, problem in bad:
        log.warning("%s: %s; dropping the row (its point will be recomputed)", where, problem)


def _cell(v: Any) -> str:
    """A JSON value as the CSV would hold it (None: empty; True: "True"; floats by repr)."""
    return "" if v is None else str(v)


def _problem(row: dict[str, Any], key_columns: tuple[str, ...]) -> str | None:
    if None in row:
        return "more fields than the header"
    if any(v is None for v in row.values()):
        return "row is cut off (fewer fields than the header)"
    empty = [c for c in key_columns if row.get(c, None) == ""]      # a file without a key column: no check
    if empty:
        return f"a key column is empty ({', '.join(empty)})"
    for c in REQUIRED_NUMBERS:
        if c in row:
            try:
                if not math.isfinite(float(row[c])):
                    return f"{c} is not finite ({row[c]!r})"
            except ValueError:
                return f"{c} is not a number ({row[c]!r})"
    return None


def _shard_state(folder: Path) -> dict[str, tuple[int, int]]:
    """Name -> (size, mtime ns) of every shard: what a merge has seen."""
    state = {}
    for s in folder.glob("*.jsonl*") if folder.is_dir() else []:
        try:
            st = s.stat()
        except FileNotFoundError:
            continue
        state[s.name] = (st.st_size, st.st_mtime_ns)
    return state


def _finished(shard: Path) -> bool:
    """Closed by its writer, or written by a process on this host that no longer runs (killed)."""
    if shard.name.endswith(DONE):
        return True
    parts = shard.name.split("-")
    if len(parts) < 4 or parts[1] != socket.gethostname():
        return False
    try:
        os.kill(int(parts[2]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    return False


def _delete_settled(folder: Path, mine: Path) -> None:
    """Delete ``mine`` if it is the only shard, and every shard finished over :data:`SETTLED` seconds ago: the CSV
    this writer just wrote read them after they finished, and no merge still running read them before."""
    shards = sorted(folder.glob("*.jsonl*"))
    now = time.time()
    for s in shards:
        try:
            settled = _finished(s) and now - s.stat().st_mtime > SETTLED
            if settled or (s == mine and shards == [mine]):
                s.unlink()
        except FileNotFoundError:
            pass
    try:
        folder.rmdir()
    except OSError:                          # shards remain, or another writer made one meanwhile
        pass


def canonical(v: Any) -> str:
    """Key normalization so 5, 5.0 and '5.0' (and True and 'True') match after a CSV round trip."""
    if isinstance(v, bool):
        return str(v)
    try:
        return repr(float(v))
    except (TypeError, ValueError):
        return str(v)
