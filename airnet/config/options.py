"""Typed option objects from config mappings: every bad key or value is reported with its full config path.

Options are frozen dataclasses that declare fields and types only; their values (defaults included) live in the
YAML configs. :func:`build_options` turns a plain mapping (e.g. ``OmegaConf.to_container(cfg.scheme.uep)``)
into such an object, checking what a config can get wrong: unknown keys (with a "did you mean"), missing keys,
and values of the wrong type. Nested dataclasses, ``tuple[X, ...]``, ``Literal``, ``X | None`` are supported.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


class OptionError(ValueError):
    """A config value that cannot become a typed option; the message names its config path."""


def build_options(cls: type[T], data: Mapping[str, Any] | None, where: str) -> T:
    """Build dataclass ``cls`` from ``data``; ``where`` is the config path of ``data`` (for error messages).

    Input
    -----
    cls : a dataclass type
    data : mapping of field name -> value (None is an empty mapping)
    where : str, e.g. ``"scheme.expansion"``

    Output
    ------
    : an instance of ``cls``

    Raises :class:`OptionError` (a ValueError) naming the offending key.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    data = {} if data is None else data
    if not isinstance(data, Mapping):
        raise OptionError(f"{where} must be a mapping of options, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for key in data:
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            prefix = f"{where}." if where else ""
            hint = f"; did you mean {prefix}{close[0]}?" if close else ""
            raise OptionError(f"unknown option {prefix}{key}{hint} ({cls.__name__} accepts: "
                              f"{', '.join(fields) or 'no options'})")
    missing = [n for n, f in fields.items() if n not in data
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise OptionError(f"missing option {where + '.' if where else ''}{missing[0]} (required by {cls.__name__}; "
                          f"set it in the YAML)")
    kwargs = {k: _coerce(hints[k], v, f"{where}.{k}" if where else str(k)) for k, v in data.items()}
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:
        if isinstance(exc, OptionError):
            raise
        raise OptionError(f"{where}: {exc}") from exc


def within(name: str, value: float, low: float | None = None, high: float | None = None,
           low_open: bool = False) -> None:
    """Raise ValueError naming ``name`` and ``value`` unless ``low <= value <= high`` (``low < value`` with
    ``low_open``); for option dataclasses' ``__post_init__`` (:func:`build_options` adds the config path)."""
    below = low is not None and (value <= low if low_open else value < low)
    if below or (high is not None and value > high):
        lo = "" if low is None else f"{'(' if low_open else '['}{low:g}, "
        hi = "inf)" if high is None else f"{high:g}]"
        raise ValueError(f"{name} must be in {lo or '(-inf, '}{hi}, got {value!r}")


def options_dict(obj: Any) -> Any:
    """Plain JSON-able view of an options object (dataclasses -> dicts, tuples -> lists), for hashing and logs."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: options_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [options_dict(v) for v in obj]
    return obj


def _coerce(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(arg, value, where)
            except OptionError:
                continue
        wanted = " or ".join(_describe(a) for a in args)
        raise OptionError(f"{where} must be {wanted}, got {value!r}")
    if value is None:
        raise OptionError(f"{where} must be set, got null")
    if origin is typing.Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            raise OptionError(f"{where} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
        return value
    if origin in (tuple, list, Sequence):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise OptionError(f"{where} must be a list, got {value!r}")
        args = typing.get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise OptionError(f"{where} must have {len(args)} entries, got {list(value)!r}")
            return tuple(_coerce(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
        item = args[0] if args else Any
        out = [_coerce(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
        return out if origin is list else tuple(out)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return build_options(tp, value, where)
    if tp is bool:
        if not isinstance(value, bool):
            raise OptionError(f"{where} must be true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
            raise OptionError(f"{where} must be an integer, got {value!r}")
        return int(value)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise OptionError(f"{where} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise OptionError(f"{where} must be finite, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise OptionError(f"{where} must be a string, got {value!r}")
        return value
    raise TypeError(f"{where}: unsupported option type {tp!r}")


def _describe(tp: Any) -> str:
    """What a value of type ``tp`` looks like in a config, for error messages."""
    if tp is type(None):
        return "null"
    if typing.get_origin(tp) is typing.Literal:
        return ", ".join(map(repr, typing.get_args(tp)))
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(tp, getattr(
        tp, "__name__", str(tp)))
