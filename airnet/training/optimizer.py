"""The training loop's optimizer: ``torch.optim.Adam``, without importing PyTorch's compiler when none runs.

Every ``torch.optim`` optimizer imports ``torch._dynamo`` on its first use: 1.2-1.5 s on a CPU, about the time of
``import torch`` itself, and most of what a short job spends beyond its imports. Two wrappers do it, and outside
a compiled region neither changes what runs:

* ``step`` is wrapped by ``_use_grad_for_differentiable``, which imports the compiler to insert graph breaks and
  sets the grad mode to ``defaults["differentiable"]`` (off here).
* ``zero_grad``, ``add_param_group``, ``state_dict``, ``load_state_dict`` and the functional ``adam`` update are
  wrapped by ``torch._disable_dynamo``, which imports the compiler on the first call to build
  ``torch._dynamo.disable(fn)`` and keeps it as ``fn.__dynamo_disable``. Disabling changes nothing while no
  compiler is loaded (nothing can be compiling).

:class:`Adam` runs its step as ``_use_grad`` would, without the import, while ``torch._dynamo`` is not in
``sys.modules``, and through torch's own wrapper once it is; and :func:`defer_compiler` gives those functions a
``__dynamo_disable`` that calls ``fn`` as it is while no compiler is loaded and builds the real
``torch._dynamo.disable(fn)`` (keeping it in its place) once one is; a tracing compiler skips it as a disabled
function (``_torchdynamo_disable``). The update itself is torch's (the same numbers, tested). Where torch's
internals differ from these (another version), nothing is changed and the compiler is imported as before.
"""
from __future__ import annotations

import inspect
import sys
from typing import Any, Callable

import torch
from torch.optim.optimizer import Optimizer

from channels.sionna_import import eager_until_compiler

# the code object of the function torch._disable_dynamo returns (it closes over fn and recursive)
_LAZY_DISABLE = torch._disable_dynamo(lambda: None).__code__
_ADAM_STEP: Callable[..., Any] = inspect.unwrap(torch.optim.Adam.step)      # below the grad-mode / hook wrappers
_deferred = False


def _compilable_step() -> Callable[..., Any] | None:
    """torch's grad-mode wrapper around the bare step, or None where ``Adam.step`` is wrapped otherwise (another
    torch version): then :class:`Adam` steps as torch's does."""
    try:
        from torch.optim.optimizer import _use_grad_for_differentiable
    except ImportError:
        return None
    chain: list[str | None] = []
    fn: Any = torch.optim.Adam.step
    while fn is not None:
        chain.append(getattr(fn, "__code__", None) and fn.__code__.co_name)
        fn = getattr(fn, "__wrapped__", None)
    # the bare step, under _use_grad (and profile_hook_step's wrapper once a torch Adam has been made)
    return _use_grad_for_differentiable(_ADAM_STEP) if chain[-2:] == ["_use_grad", "step"] else None


_COMPILABLE_STEP = _compilable_step()


def _deferred_disable(fn: Callable[..., Any], recursive: bool) -> Callable[..., Any]:
    def real() -> Callable[..., Any]:
        disabled = torch._dynamo.disable(fn, recursive, wrapping=False)
        setattr(fn, "__dynamo_disable", disabled)           # torch's own cache, as its wrapper would fill it
        return disabled
    return eager_until_compiler(fn, real)


def _defer(wrapper: Any) -> bool:
    """Give the function behind one ``torch._disable_dynamo`` wrapper its deferred ``__dynamo_disable``; False
    when ``wrapper`` is not one (another torch version)."""
    code = getattr(wrapper, "__code__", None)
    if code is not _LAZY_DISABLE or not wrapper.__closure__:
        return False
    cells = dict(zip(code.co_freevars, (c.cell_contents for c in wrapper.__closure__)))
    fn, recursive = cells.get("fn"), cells.get("recursive", True)
    if fn is None:
        return False
    if getattr(fn, "__dynamo_disable", None) is None:       # else torch (or an earlier call) has set it
        setattr(fn, "__dynamo_disable", _deferred_disable(fn, bool(recursive)))
    return True


def defer_compiler() -> None:
    """Let ``torch.optim.Optimizer``'s methods and the functional Adam update import no compiler while none is
    loaded (see the module docstring). Process-wide, once; every optimizer's behaviour is unchanged."""
    global _deferred
    if _deferred:
        return
    _deferred = True
    for name in ("zero_grad", "add_param_group", "state_dict", "load_state_dict"):
        _defer(getattr(Optimizer, name, None))
    from torch.optim.adam import adam as update              # wrapped once more: its closure holds the lazy one
    for cell in getattr(update, "__closure__", None) or ():
        _defer(cell.cell_contents)


class Adam(torch.optim.Adam):
    """``torch.optim.Adam`` (``differentiable=False``) whose step imports no compiler while none is loaded.

    Example
    -------
    >>> opt = Adam(model.parameters(), lr=3e-3, foreach=True)
    >>> loss.backward(); opt.step(); opt.zero_grad()
    """

    def __init__(self, params: Any, **options: Any) -> None:
        if options.get("differentiable"):
            raise ValueError("airnet's Adam runs its step without autograd (differentiable=False)")
        defer_compiler()
        super().__init__(params, **options)

    def step(self, closure: Callable[[], float] | None = None) -> Any:    # type: ignore[override]
        if _COMPILABLE_STEP is None:                          # torch's internals are not the ones described
            return super().step(closure)
        if "torch._dynamo" in sys.modules:                   # a compiler is loaded: torch's own wrapper
            return _COMPILABLE_STEP(self, closure)
        with torch.no_grad():                                 # what that wrapper does outside compilation
            return _ADAM_STEP(self, closure)
