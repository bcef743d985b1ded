"""Name -> channel class registry, so a config string picks the channel."""
from __future__ import annotations

from typing import Any, Callable

from channels.awgn import AWGNChannel
from channels.base import Channel
from channels.fading import RayleighChannel, RicianChannel

_REGISTRY: dict[str, Callable[..., Channel]] = {}


def register_channel(name: str, factory: Callable[..., Channel]) -> None:
    """Register ``factory`` (a Channel subclass or a function returning one) under ``name``."""
    if not name or not isinstance(name, str):
        raise ValueError(f"channel name must be a non-empty string, got {name!r}")
    _REGISTRY[name.lower()] = factory


def available_channels() -> list[str]:
    """Sorted names accepted by :func:`make_channel`."""
    return sorted(_REGISTRY)


def make_channel(name: str, **kwargs: Any) -> Channel:
    """Build the channel registered as ``name`` with keyword options (e.g. ``block_length``, ``k_factor``)."""
    key = str(name).lower()
    if key not in _REGISTRY:
        raise ValueError(f"unknown channel {name!r}; available: {', '.join(available_channels())}")
    try:
        return _REGISTRY[key](**kwargs)
    except TypeError as exc:
        raise TypeError(f"bad options for channel {name!r}: {exc}") from exc


register_channel("awgn", AWGNChannel)
register_channel("rayleigh", RayleighChannel)
register_channel("rician", RicianChannel)
