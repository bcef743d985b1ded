"""One home for library defaults: ``conf/channel``, ``conf/model`` and ``conf/data`` take theirs from the signatures.

The channel layer (``channels/``) and the zoo (models, data sets) are libraries imported on their own, so their
constructor and loader signatures are where their option defaults live. :func:`register_library_defaults` stores
each registered channel's, model's and data set's keyword defaults in Hydra's ConfigStore as ``airnet_defaults/<group>/<name>``; a config file
pulls them in through its defaults list and states only what differs::

    defaults:
      - /airnet_defaults/channel/rayleigh@_here_
      - _self_
    name: rayleigh

so every option is a key of the composed config (``channel.block_length=16`` needs no ``+``), the CSV records
every effective value, and no default is written twice. Everything else (schemes, training, link, side
information, experiments) has its values in ``conf/`` only: its option dataclasses declare types, no defaults.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

from hydra.core.config_store import ConfigStore

from channels import available_channels, channel_factory
from airnet.zoo.data import DATASETS
from airnet.zoo.models import MODELS

SKIP = frozenset({"self", "input_shape", "num_classes", "seed"})   # what the run supplies, not options


def signature_defaults(factory: Callable[..., Any]) -> dict[str, Any]:
    """Keyword options of ``factory`` with their defaults, in signature order (tuples as lists, as YAML has them).

    Input
    -----
    factory : a class or function

    Output
    ------
    : dict name -> default
    """
    out = {}
    for p in inspect.signature(factory).parameters.values():
        if p.name in SKIP or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.default is p.empty:
            continue
        out[p.name] = list(p.default) if isinstance(p.default, tuple) else p.default
    return out


def register_library_defaults() -> None:
    """Store the signature defaults of every registered channel, model and data set (see the module docstring)."""
    store = ConfigStore.instance()
    for name in available_channels():
        store.store(group="airnet_defaults/channel", name=name, node=signature_defaults(channel_factory(name)))
    for name, entry in MODELS.items():
        store.store(group="airnet_defaults/model", name=name, node=signature_defaults(entry.factory))
    for name, (loader, _) in DATASETS.items():
        store.store(group="airnet_defaults/data", name=name, node=signature_defaults(loader))
