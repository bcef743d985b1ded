"""Sionna's PHY package, imported without the import-time cost of its ``torch.compile`` decorators.

``import sionna.phy`` imports every submodule, and a few of them decorate functions with ``@torch.compile``
(``sionna.phy.mimo.utils``) or ``@torch.compiler.disable`` (the CRC, the OFDM channel estimator). Both decorators
import ``torch._dynamo`` on the spot: on a CPU that is 1.5-2 s of a 2.5-3 s import, for a compiler this project
never runs. While :func:`phy` imports the package, the two decorators on plain functions return wrappers that
behave the same and import the compiler only when it can matter:

* ``torch.compile(fn)``: compiled, with the same options, on its first call (``torch.compile`` itself compiles
  lazily; only the import moves). Traced inside another compiled function, it is inlined, as a compiled
  function is (``_torchdynamo_inline``).
* ``torch.compiler.disable(fn)``: while ``torch._dynamo`` is not imported nothing can be compiling, and ``fn``
  runs as it is; once it is, the call goes through the real ``disable(fn)``, and a tracing compiler skips the
  wrapper as a disabled function (``_torchdynamo_disable``).

Modules, other callables, and both decorators after the import are untouched. Every import of Sionna in
``channels`` and ``airnet`` calls :func:`phy` first; once ``sionna.phy`` is in ``sys.modules``, a plain
``from sionna.phy... import ...`` finds it there.
"""
from __future__ import annotations

import functools
import importlib
import inspect
import sys
from types import ModuleType
from typing import Any, Callable

import torch


def _deferred_compile(real: Callable[..., Any]) -> Callable[..., Any]:
    def compile_(model: Any = None, **options: Any) -> Any:
        if model is None:                                   # used as @torch.compile(...)
            return lambda fn: compile_(fn, **options)
        if not inspect.isfunction(model):
            return real(model, **options)
        compiled: Callable[..., Any] | None = None

        @functools.wraps(model)
        def first_call_compiles(*args: Any, **kwargs: Any) -> Any:
            nonlocal compiled
            if compiled is None:
                compiled = real(model, **options)
            return compiled(*args, **kwargs)
        first_call_compiles._torchdynamo_inline = model  # type: ignore[attr-defined]
        return first_call_compiles
    return compile_


def eager_until_compiler(fn: Callable[..., Any], disable: Callable[[], Callable[..., Any]]) -> Callable[..., Any]:
    """``fn`` with compilation disabled, without importing the compiler to disable it: ``fn`` itself while
    ``torch._dynamo`` is not imported (nothing can be compiling), and ``disable()`` (built on the first call after
    the import, e.g. ``lambda: torch.compiler.disable(fn)``) from then on. A tracing compiler skips the wrapper as
    a disabled function (``_torchdynamo_disable``). Also used by :mod:`airnet.training.optimizer`."""
    disabled: Callable[..., Any] | None = None

    @functools.wraps(fn)
    def eager_unless_compiling(*a: Any, **kw: Any) -> Any:
        nonlocal disabled
        if "torch._dynamo" not in sys.modules:              # no compiler loaded: disabling changes nothing
            return fn(*a, **kw)
        if disabled is None:
            disabled = disable()
        return disabled(*a, **kw)
    eager_unless_compiling._torchdynamo_disable = True  # type: ignore[attr-defined]
    return eager_unless_compiling


def _deferred_disable(real: Callable[..., Any]) -> Callable[..., Any]:
    def disable(fn: Any = None, *args: Any, **options: Any) -> Any:
        if fn is None:                                      # used as @torch.compiler.disable(...)
            return lambda f: disable(f, *args, **options)
        if not inspect.isfunction(fn):
            return real(fn, *args, **options)
        return eager_until_compiler(fn, lambda: real(fn, *args, **options))
    return disable


def phy() -> ModuleType:
    """``sionna.phy``, imported once (see the module docstring).

    Output
    ------
    : module
        ``sionna.phy``.
    """
    if "sionna.phy" in sys.modules:
        return sys.modules["sionna.phy"]
    real_compile, real_disable = torch.compile, torch.compiler.disable
    torch.compile = _deferred_compile(real_compile)  # type: ignore[assignment]
    torch.compiler.disable = _deferred_disable(real_disable)  # type: ignore[assignment]
    try:
        return importlib.import_module("sionna.phy")
    finally:
        torch.compile, torch.compiler.disable = real_compile, real_disable  # type: ignore[assignment]
