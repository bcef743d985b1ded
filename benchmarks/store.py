"""The results store: cost of adding a point as the store grows, and many writers into one folder.

- Time per added point with 100, 1,000 and 10,000 rows already stored (rows as wide as a sweep's), each as a ratio
  to the 100-row cost (goal <= 1.5 at 10,000); and the one merge a job does when it closes, against one add.
- 4 writer processes and 2 joblib jobs into one folder at once, merging after every point (the most contention),
  with overlapping keys: rows found / rows expected, and duplicates.
"""
from __future__ import annotations

import csv
import multiprocessing as mp
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import Figure

KEYS = ("scheme", "snr_db", "seed")


def _row(i: int, scheme: str = "clean", seed: int = 0) -> dict:
    """A row as wide as a sweep's (45 columns, a 32-draw accuracy list)."""
    row: dict = {"scheme": scheme, "snr_db": float(i), "seed": seed, "acc_mean": 0.9, "acc_std": 0.01,
                 "acc_draws": "/".join(["0.912345"] * 32)}
    row.update({f"col{j}": j * 0.5 for j in range(39)})
    return row


def _per_add(stored: int, adds: int) -> tuple[float, float]:
    """Median seconds per add into a store holding ``stored`` rows (written by an earlier job), and the close."""
    from airnet.store.results import ResultTable, write_csv

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "results.csv"
        write_csv(path, [_row(i) for i in range(stored)])
        table = ResultTable(path, KEYS)
        times = []
        for i in range(adds):
            t = time.perf_counter()
            table.add(_row(stored + i))
            times.append(time.perf_counter() - t)
        t = time.perf_counter()
        table.close()
        close = time.perf_counter() - t
        assert len(list(csv.DictReader(open(path)))) == stored + adds
    return statistics.median(times), close


def _writer(path: str, name: str, count: int) -> None:
    from airnet.store.results import ResultTable

    with ResultTable(path, KEYS, merge_every=0.0) as table:
        for i in range(count):
            table.add(_row(i, scheme=name))
            table.add(_row(i, scheme="shared", seed=i % 3))    # every writer also writes the same shared keys


def _concurrent(count: int) -> tuple[int, int, int]:
    """(unique keys expected, rows in results.csv, duplicate keys) after 4 processes + 2 joblib jobs."""
    from joblib import Parallel, delayed

    with tempfile.TemporaryDirectory() as d:
        path = str(Path(d) / "results.csv")
        ctx = mp.get_context("spawn")
        procs = [ctx.Process(target=_writer, args=(path, f"p{i}", count)) for i in range(4)]
        for p in procs:
            p.start()
        Parallel(n_jobs=2)(delayed(_writer)(path, f"j{i}", count) for i in range(2))
        for p in procs:
            p.join()
            if p.exitcode:
                raise RuntimeError(f"writer exited {p.exitcode}")
        rows = list(csv.DictReader(open(path)))
        keys = [tuple(r[k] for k in KEYS) for r in rows]
        expected = 6 * count + len({(i, i % 3) for i in range(count)})
        return expected, len(rows), len(keys) - len(set(keys))


def run(quick: bool = False) -> list[Figure]:
    adds = 20 if quick else 100
    sizes = (100, 1000) if quick else (100, 1000, 10000)
    per = {n: _per_add(n, adds) for n in sizes}
    base = per[100][0]
    figs = [Figure(f"add a point to a store of {n:,} rows", per[n][0] * 1e3, base * 1e3, "ms", "at 100 rows",
                   "goal <= 1.5 at 10,000" if n == sizes[-1] else "") for n in sizes]
    n = sizes[-1]
    figs.append(Figure(f"close (one merge) at {n + adds:,} rows", per[n][1] * 1e3, per[n][0] * 1e3, "ms",
                       "one add", "once per job"))
    expected, found, dups = _concurrent(10 if quick else 50)
    figs.append(Figure("4 processes + 2 joblib jobs: rows in results.csv", found, expected, "rows", "keys written",
                       f"goal 1.00; {dups} duplicate keys"))
    return figs
