"""Name -> channel class registry, so a config string picks the channel.

A new channel registers itself where it is defined::

    @register_channel("toy")
    class ToyChannel(Channel): ...
"""
from __future__ import annotations

from typing import Any, Callable, TypeVar, overload

from channels.base import Channel

_REGISTRY: dict[str, Callable[..., Channel]] = {}
F = TypeVar("F", bound=Callable[..., Channel])


@overload
def register_channel(name: str) -> Callable[[F], F]: ...


@overload
def register_channel(name: str, factory: F) -> F: ...


def register_channel(name: str, factory: F | None = None) -> F | Callable[[F], F]:
    """Register ``factory`` (a Channel subclass or a function returning one) under ``name``.

    Called with one argument it returns a decorator: ``@register_channel("toy")``.
    """
    if not name or not isinstance(name, str):
        raise ValueError(f"channel name must be a non-empty string, got {name!r}")

    def add(f: F) -> F:
        _REGISTRY[name.lower()] = f
        return f

    return add if factory is None else add(factory)


def available_channels() -> list[str]:
    """Sorted names accepted by :func:`make_channel`."""
    return sorted(_REGISTRY)


def channel_factory(name: str) -> Callable[..., Channel]:
    """The class (or factory) registered as ``name``; its signature holds the channel's option defaults."""
    key = str(name).lower()
    if key not in _REGISTRY:
        raise ValueError(f"unknown channel {name!r}; available: {', '.join(available_channels())}")
    return _REGISTRY[key]


def make_channel(name: str, **kwargs: Any) -> Channel:
    """Build the channel registered as ``name`` with keyword options (e.g. ``block_length``, ``k_factor``)."""
    factory = channel_factory(name)
    try:
        return factory(**kwargs)
    except TypeError as exc:
        raise TypeError(f"bad options for channel {name!r}: {exc}") from exc
