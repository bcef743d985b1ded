"""One build per artifact across processes: an exclusive lock per cache key, so that two processes that need the
same trained model or search (a job and its workers, :mod:`airnet.run.workers`, or the jobs of a parallel
multirun sharing a ``cache_dir``) build it once; the other waits and loads it.

The lock is ``fcntl.flock`` on ``<folder>/locks/<name>.lock``: the kernel releases it when its holder exits, even
when killed, so a crashed builder never blocks the others. Lock files are left in place (deleting one while another
process waits on it would let a third lock a new file of the same name). Where ``fcntl`` does not exist (Windows) or
the file system refuses locks (some network file systems), the lock does nothing: processes may then build the
same artifact twice, with the same result.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

try:
    import fcntl
except ImportError:                   # Windows
    fcntl = None  # type: ignore[assignment]

LOCKS = "locks"                       # subfolder of a cache folder that holds the lock files


@contextmanager
def key_lock(folder: Path | None, name: str) -> Iterator[None]:
    """Hold the exclusive lock ``name`` of the cache ``folder`` for the block (waits while another process holds
    it); nothing without a folder or without ``fcntl``.

    Example
    -------
    >>> with key_lock(tmp_path, "clean-1a2b3c"):          # doctest: +SKIP
    ...     result = load_or_build()
    """
    if folder is None or fcntl is None:
        yield
        return
    fd: int | None = None
    try:
        locks = Path(folder) / LOCKS
        locks.mkdir(parents=True, exist_ok=True)
        fd = os.open(locks / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o666)
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:        # a read-only folder, or ENOLCK on a network file system: go on without the lock
        pass
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)   # closing the only descriptor releases the lock
