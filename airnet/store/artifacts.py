"""Cached artifacts keyed by a hash of everything that affects them: trained models (:class:`ModelCache`) and small
JSON results such as MCS choices (:class:`JsonMemo`). Each is built once across the processes that share a
folder (:func:`airnet.store.locks.key_lock`): one that finds another building it waits and loads its file.

Every artifact stores its key and is checked against it on load: a file written for another configuration (copied
or renamed by hand), or one that does not parse, is named in a warning, moved aside (``*.mismatch`` /
``*.corrupt``) and recomputed. Temporary files that a killed writer left behind (``.<name>.*.tmp``, older than
:data:`ORPHAN_AGE_S`) are removed when a cache folder is opened.
"""
from __future__ import annotations

import ast
import json
import logging
import os
import time
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from airnet.config.hashing import config_hash
from airnet.store.files import atomic_write, save_torch
from airnet.store.locks import key_lock
from airnet.zoo.params import load_vector, model_vector

Built = tuple[nn.Module, dict[str, Any]]
log = logging.getLogger("airnet")
ORPHAN_AGE_S = 600.0     # a temporary file older than this has no live writer (checkpoint writes take seconds)


def remove_orphans(folder: Path | None, age_s: float = ORPHAN_AGE_S) -> int:
    """Delete the temporary files of :func:`airnet.store.files.atomic_write` older than ``age_s`` in ``folder``;
    returns how many (younger ones may belong to a writer that is still running)."""
    if folder is None or not Path(folder).is_dir():
        return 0
    now, removed = time.time(), 0
    for tmp in Path(folder).glob(".*.tmp"):
        try:
            if now - tmp.stat().st_mtime > age_s:
                tmp.unlink()
                removed += 1
        except FileNotFoundError:
            pass                       # another process removed or renamed it meanwhile
    if removed:
        log.warning("removed %d temporary file(s) left by interrupted writers in %s", removed, folder)
    return removed


def _set_aside(path: Path, suffix: str, why: str) -> None:
    aside = path.with_name(path.name + suffix)
    try:
        os.replace(path, aside)
    except FileNotFoundError:        # another process sharing the folder set it aside first
        return
    log.warning("%s %s; moved it to %s and recomputing", path, why, aside.name)


def _same_key(stored: Any, key: Any) -> bool:
    """Whether a stored key (JSON text, or the ``repr`` older files hold) describes ``key``."""
    if not isinstance(stored, str):
        return False
    try:
        parsed = json.loads(stored)
    except ValueError:
        try:
            parsed = ast.literal_eval(stored)
        except (ValueError, SyntaxError):
            return False
    return config_hash(parsed) == config_hash(key)


class ModelCache:
    """Trained models (and extra tensors such as masks) in memory and, with ``folder``, on disk.

    Files are ``<folder>/<label>-<hash(key)>.pt`` holding the parameter vector, the buffers and the extras;
    they are written atomically, so an interrupted run never leaves a half-written checkpoint. ``read_only``: load
    what is on disk, keep new builds in memory only (a sweep's dry run: its untrained models never reach the disk).
    """

    def __init__(self, folder: Path | None, device: torch.device | str = "cpu", read_only: bool = False) -> None:
        self.folder = folder
        self.read_only = read_only
        self.device = torch.device(device)
        self._memo: dict[str, Built] = {}
        remove_orphans(folder)

    def get(self, label: str, key: dict[str, Any], build: Callable[[], Built],
            new_model: Callable[[], nn.Module]) -> Built:
        """Return ``build()`` for ``key``, from memory or disk when already built.

        Input
        -----
        label : str
            Readable prefix of the file name.
        key : dict
            JSON-able description of everything that affects the result.
        build : () -> (model, extras)
        new_model : () -> nn.Module
            A fresh model of the right architecture to load a stored vector into.

        Output
        ------
        : (nn.Module in eval mode, dict of extra tensors)
        """
        h = f"{label}-{config_hash(key)}"
        if h in self._memo:
            return self._memo[h]
        path = self.folder / f"{h}.pt" if self.folder else None
        result = self._load(path, key, new_model) if path is not None and path.exists() else None
        if result is None and (path is None or self.read_only):
            result = build()
        elif result is None:
            assert path is not None
            with key_lock(self.folder, h):       # another process may be building it: wait, then load its file
                result = self._load(path, key, new_model) if path.exists() else None
                if result is None:
                    result = build()
                    save_torch(path, {"w": model_vector(result[0]), "extras": result[1],
                                      "key": json.dumps(key, sort_keys=True, default=str),
                                      "buffers": dict(result[0].named_buffers())})
        self._memo[h] = result
        return result

    def _load(self, path: Path, key: dict[str, Any], new_model: Callable[[], nn.Module]) -> Built | None:
        """The checkpoint at ``path`` if it was written for ``key``; else (moved aside with a warning) None."""
        try:
            blob = torch.load(path, weights_only=True, map_location=self.device)
            if not _same_key(blob.get("key"), key):
                _set_aside(path, ".mismatch", "was written for another configuration (its stored key differs)")
                return None
            model = load_vector(new_model(), blob["w"])
            for name, buf in model.named_buffers():
                buf.copy_(blob["buffers"][name])
            return model.eval(), blob["extras"]
        except Exception as exc:   # any unreadable checkpoint: zip errors, truncation, wrong shapes, missing keys
            _set_aside(path, ".corrupt", f"is unreadable ({type(exc).__name__}: {exc})")
            return None


class JsonMemo:
    """Small JSON results (e.g. MCS choices) cached in a folder by a hash of their description; each file holds
    ``{"description": ..., "value": ...}`` and is checked against the description on load."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        remove_orphans(self.folder)

    def get(self, description: Any, compute: Callable[[], Any]) -> Any:
        """The stored value for ``description``, else ``compute()``, stored atomically (computed once across
        processes: one that finds another computing it waits and reads its file)."""
        name = f"memo-{config_hash(description)}"
        path = self.folder / f"{name}.json"
        found = self._read(path, description)
        if found:
            return found[0]
        with key_lock(self.folder, name):
            found = self._read(path, description)
            if found:
                return found[0]
            value = compute()

            def write(p: Path) -> None:
                p.write_text(json.dumps({"description": description, "value": value}, default=str))

            atomic_write(path, write)
        return value

    @staticmethod
    def _read(path: Path, description: Any) -> tuple[Any] | None:
        """(the value stored at ``path`` for ``description``,), or None (no file, or one moved aside)."""
        if not path.exists():
            return None
        try:
            blob = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            _set_aside(path, ".corrupt", f"is unreadable ({type(exc).__name__}: {exc})")
            return None
        if isinstance(blob, dict) and "value" in blob and \
                config_hash(blob.get("description")) == config_hash(description):
            return (blob["value"],)
        _set_aside(path, ".mismatch", "does not hold a value for its description")
        return None
