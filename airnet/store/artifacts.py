"""Cached artifacts keyed by a hash of everything that affects them: trained models (:class:`ModelCache`) and small
JSON results such as MCS choices (:class:`JsonMemo`)."""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from airnet.config.hashing import config_hash
from airnet.store.files import atomic_write, save_torch
from airnet.zoo.params import load_vector, model_vector

Built = tuple[nn.Module, dict[str, Any]]
log = logging.getLogger("airnet")


class ModelCache:
    """Trained models (and extra tensors such as masks) in memory and, with ``folder``, on disk.

    Files are ``<folder>/<label>-<hash(key)>.pt`` holding the parameter vector, the buffers and the extras;
    they are written atomically, so an interrupted run never leaves a half-written checkpoint.
    """

    def __init__(self, folder: Path | None, device: torch.device | str = "cpu") -> None:
        self.folder = folder
        self.device = torch.device(device)
        self._memo: dict[str, Built] = {}

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
        result = self._load(path, new_model) if path is not None and path.exists() else None
        if result is None:
            result = build()
            if path is not None:
                save_torch(path, {"w": model_vector(result[0]), "extras": result[1], "key": repr(key),
                                  "buffers": dict(result[0].named_buffers())})
        self._memo[h] = result
        return result

    def _load(self, path: Path, new_model: Callable[[], nn.Module]) -> Built | None:
        """The checkpoint at ``path``; a corrupt one is moved aside (``*.corrupt``) with a warning, and None."""
        try:
            blob = torch.load(path, weights_only=True, map_location=self.device)
            model = load_vector(new_model(), blob["w"])
            for name, buf in model.named_buffers():
                buf.copy_(blob["buffers"][name])
            return model.eval(), blob["extras"]
        except Exception as exc:   # any unreadable checkpoint: zip errors, truncation, wrong shapes, missing keys
            aside = path.with_suffix(".pt.corrupt")
            os.replace(path, aside)
            log.warning("checkpoint %s is unreadable (%s: %s); moved it to %s and retraining",
                        path, type(exc).__name__, exc, aside.name)
            return None


class JsonMemo:
    """Small JSON results (e.g. MCS choices) cached in a folder by a hash of their description."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def get(self, description: Any, compute: Callable[[], Any]) -> Any:
        """The stored value for ``description``, else ``compute()``, stored atomically."""
        path = self.folder / f"memo-{config_hash(description)}.json"
        if path.exists():
            try:
                return json.loads(path.read_text())
            except (OSError, ValueError):
                pass    # unreadable: recompute and overwrite
        value = compute()

        def write(p: Path) -> None:
            p.write_text(json.dumps(value))

        atomic_write(path, write)
        return value
