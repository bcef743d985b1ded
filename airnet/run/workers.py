"""Helper processes: a sweep's schemes shared out over the cores the job leaves idle, with the same rows.

A sweep runs its points in order on ``threads`` cores (1 for models under a million parameters). Its pieces of work
(**units**: one per seed, scheme, bandwidth ratio and design; per SNR when matched) are independent: every trained
model and every side-information or link search is a pure function of its cache key (its random streams are
seeded from the key), and every point's channel draws come from a generator seeded by the point. A **worker** is a
fork of the job that

1. runs the searches that do not depend on training (:meth:`Scheme.searches`, on untrained models, as ``plan=true``
   does), since the job needs them right after its first training;
2. then claims units from the **last** backwards (the job claims them from the first, as it reaches them) and
   evaluates every point of each, training included, sending each finished row to the job.

The job records the rows as they come (:meth:`ResultTable.add`, durable at once) and writes ``results.csv`` in sweep
order (:meth:`ResultTable.order_new`), so the CSV is the one a job alone writes, byte for byte (tested). Models
several units need (the clean teacher) are built once: the processes share the cache folder under one lock per key
(:func:`airnet.store.locks.key_lock`), and the one that asks second waits and loads the file. A worker that fails
says so once and stops; the job evaluates what it left. Workers are forks on Linux, on the CPU only (a fork must not
touch a GPU context), and need a cache folder; the scoring plan is measured before the fork, so all score alike.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from airnet.context import Context
from airnet.delivery.evaluation import tune_scoring
from airnet.training.loop import tally_training

if TYPE_CHECKING:
    from airnet.run.sweep import Point, PointResult, PointRunner

log = logging.getLogger("airnet")
Unit = tuple[Any, ...]
MAIN = -1                 # claim of the job itself (workers claim with their index + 1)
POLL_S = 0.5              # how often the job, waiting for a row, checks that its worker is alive


def idle_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells it, else all)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:            # macOS, Windows
        return os.cpu_count() or 1


def cannot_fork(context: Context) -> str | None:
    """Why workers cannot run in ``context`` (None: they can)."""
    if not sys.platform.startswith("linux"):
        return f"workers are forks of the job, safe with PyTorch on Linux only (this is {sys.platform})"
    if context.device.type != "cpu":
        return f"the job runs on {context.device} (a fork must not share its GPU context)"
    if context.cache.folder is None:
        return "there is no cache folder (cache_dir: null) to share models through"
    return None


def workers_for(context: Context, points: Sequence["Point"], workers: int) -> tuple[int, str | None]:
    """(how many of ``workers`` would run on ``points``, why none can): no more than the points have units, less
    one, and none where :func:`cannot_fork` says so (the reason is then the second item)."""
    count = min(workers, len({unit_of(p) for p in points}) - 1)
    why = cannot_fork(context) if count > 0 else None
    return (0, why) if why is not None else (max(0, count), None)


def needs_codes(runner: "PointRunner", points: Sequence["Point"]) -> bool:
    """Whether the points send anything over coded links (Sionna's LDPC and polar codes): side information
    counted on a coded link, or a scheme that is not analog."""
    from airnet.schemes.analog import AnalogScheme

    side = runner.context.side_link.options
    if side.mode == "counted" and side.link != "capacity":
        return True
    return any(not isinstance(runner.scheme(p), AnalogScheme) for p in points)


def claim(claims: Any, unit: int, owner: int) -> int:
    """Claim ``unit`` in the shared array ``claims`` for ``owner`` unless someone holds it; returns its owner."""
    with claims.get_lock():
        if claims[unit] == 0:
            claims[unit] = owner
        return int(claims[unit])


def unit_of(p: "Point") -> Unit:
    """The unit of work ``p`` belongs to: its seed, scheme, ratio and design (its SNR too when matched)."""
    return (p.seed, p.run.name, p.bandwidth_ratio, p.design_snr_db, p.snr_db if p.design_snr_db is None else None)


class Helpers:
    """The job's side of the workers: which units it owns, and the rows the workers send.

    With no workers every unit is the job's: :meth:`claim` is always True and nothing arrives.
    """

    def __init__(self, points: Sequence["Point"], runner: "PointRunner") -> None:
        self.points, self.runner = list(points), runner
        self.index = {u: i for i, u in enumerate(dict.fromkeys(unit_of(p) for p in self.points))}
        self.procs: list[Any] = []        # set by helping() when workers run: the processes, the shared claims
        self.claims: Any = None           # (a shared int array: 0 free, MAIN, or a worker's index + 1) and the
        self.inbox: Any = None            # queue of (position, PointResult) the workers send
        self.done: set[int] = set()               # positions of the points a worker's row (or the job) finished
        self.taken_back: set[Unit] = set()        # units of a stopped worker the job finishes

    def claim(self, p: "Point") -> bool:
        """Whether the job evaluates ``p``: its unit is the job's, or no one's yet (then the job's from now on)."""
        return self.claims is None or claim(self.claims, self.index[unit_of(p)], MAIN) == MAIN

    def _take(self, item: tuple[int, "PointResult"]) -> tuple["Point", "PointResult", str] | None:
        i, result = item
        if i in self.done:                        # evaluated here after its worker seemed dead
            return None
        self.done.add(i)
        return self.points[i], result, " (worker)"

    def ready(self) -> Iterator[tuple["Point", "PointResult", str]]:
        """The rows that have arrived, as (point, result, note); none waits."""
        while self.inbox is not None:
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                return
            got = self._take(item)
            if got:
                yield got

    def owed(self) -> list[int]:
        """Positions of the points the workers own and have not sent yet."""
        if self.claims is None:
            return []
        return [i for i, p in enumerate(self.points)
                if i not in self.done and self.claims[self.index[unit_of(p)]] != MAIN]

    def rest(self) -> Iterator[tuple["Point", "PointResult", str]]:
        """Every row the workers still owe, waiting for it; the points of a worker that stopped are evaluated here
        (a row that arrives after all is the same row, and is dropped)."""
        while owed := self.owed():
            try:
                item = self.inbox.get(timeout=POLL_S)
            except queue.Empty:
                stopped = {k + 1 for k, proc in enumerate(self.procs) if not proc.is_alive()}
                orphaned = [i for i in owed if self.claims[self.index[unit_of(self.points[i])]] in stopped]
                if orphaned:
                    p = self.points[orphaned[0]]
                    self.done.add(orphaned[0])
                    if unit_of(p) not in self.taken_back:       # said once per unit
                        self.taken_back.add(unit_of(p))
                        left = sum(unit_of(self.points[i]) == unit_of(p) for i in orphaned)
                        log.warning("%s (seed %d, ratio %g): its worker stopped before the last %d point(s); the "
                                    "job evaluates them", p.run.name, p.seed, p.bandwidth_ratio, left)
                    yield p, self.runner.evaluate(p), ""
                continue
            got = self._take(item)
            if got:
                yield got


def _work(runner: "PointRunner", points: Sequence["Point"], claims: Any, inbox: Any, index: int, count: int) -> None:
    """Worker ``index`` of ``count``: claims a unit (the ``index``-th from the last still free), runs the dry
    searches of every ``count``-th unit, then evaluates that unit and every unit still free, from the last, point
    by point into ``inbox`` as (position, result)."""
    log.setLevel(logging.ERROR)                 # the job reports; a worker only says why it stops
    by_unit: dict[Unit, list[tuple[int, "Point"]]] = {}
    for i, p in enumerate(points):
        by_unit.setdefault(unit_of(p), []).append((i, p))
    units = list(by_unit)
    dry = runner.with_context(runner.context.dry())
    me = index + 1
    backwards = list(reversed(range(len(units))))
    for k in backwards[index:]:        # one unit claimed before the searches: the job claims units as it reaches them
        if claim(claims, k, me) == me:
            break
    with tally_training():
        for u in units[index::count]:
            first = by_unit[u][0][1]
            dry.scheme(first).searches(first.snr_db, first.design_snr_db)
    for k in backwards:
        if claim(claims, k, me) == me:
            for i, p in by_unit[units[k]]:
                inbox.put((i, runner.evaluate(p)))


def _run(runner: "PointRunner", points: Sequence["Point"], claims: Any, inbox: Any, index: int, count: int) -> None:
    try:
        _work(runner, points, claims, inbox, index, count)
    except BaseException as exc:          # noqa: BLE001 - a worker must never take the job down
        if not isinstance(exc, (KeyboardInterrupt, SystemExit)):
            log.setLevel(logging.WARNING)
            log.warning("worker %d stopped (%s: %s); the job evaluates what it left", index + 1,
                        type(exc).__name__, exc)
    finally:
        inbox.close()
        inbox.join_thread()               # every row sent reaches the pipe before the process exits


@contextmanager
def helping(runner: "PointRunner", points: Sequence["Point"], workers: int) -> Iterator[Helpers]:
    """Run up to ``workers`` workers on ``points`` during the block (:func:`workers_for`: as many as can help),
    and yield the job's :class:`Helpers`.

    Input
    -----
    runner : PointRunner
        The job's (its context's cache folder is shared with the workers).
    points : sequence of Point
        The points still to run, in the sweep's order.
    workers : int
        Workers to start, each a process on its own core.
    """
    helpers = Helpers(points, runner)
    count, why = workers_for(runner.context, points, workers)
    if why is not None:
        log.info("workers off: %s", why)
    if count == 0:
        yield helpers
        return
    ctx = runner.context
    # measured once before the fork, so every process scores with the same plan
    tune_scoring(ctx.new_model().eval(), ctx.data.x_test, runner.plan_cache, runner.precision)
    if needs_codes(runner, points):       # imported once, here, rather than in every process (~1 s each)
        from channels.sionna_import import phy

        phy()
    fork = multiprocessing.get_context("fork")
    helpers.claims, helpers.inbox = fork.Array("i", len(helpers.index)), fork.Queue()
    helpers.procs = [fork.Process(target=_run, args=(runner, list(points), helpers.claims, helpers.inbox, i, count),
                                  daemon=True, name=f"airnet-worker-{i + 1}") for i in range(count)]
    for proc in helpers.procs:
        proc.start()
    try:
        yield helpers
    finally:
        for proc in helpers.procs:
            proc.join(timeout=POLL_S)
            if proc.is_alive():           # the job stopped early (an error): what the worker builds is not needed
                proc.terminate()
                proc.join()
