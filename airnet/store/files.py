"""Atomic file writes, so an interrupted run never leaves a half-written file."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import torch


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` then rename tmp over ``path`` (same folder, so the rename is atomic).

    The file gets the mode a plain ``open`` would give it (0666 less the umask; 0644 usually), not mkstemp's 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def save_torch(path: str | Path, obj: Any) -> Path:
    """``torch.save`` atomically."""
    return atomic_write(path, lambda p: torch.save(obj, p))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
