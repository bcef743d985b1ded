"""Sionna imported without its import-time compiler (channels.sionna_import): the decorators it defers behave as
the real ones, and the import leaves torch as it found it."""
import subprocess
import sys

import torch

from channels.sionna_import import _deferred_compile, _deferred_disable


def test_sionna_imports_without_the_compiler_and_torch_is_restored():
    code = ("import sys, torch; real = (torch.compile, torch.compiler.disable)\n"
            "from channels.sionna_import import phy\n"
            "phy()\n"
            "from sionna.phy.fec.polar import Polar5GEncoder\n"
            "from sionna.phy.mimo.utils import List2LLR\n"
            "assert 'torch._dynamo' not in sys.modules, 'the compiler was imported'\n"
            "assert (torch.compile, torch.compiler.disable) == real\n"
            "assert Polar5GEncoder(20, 64)(torch.ones(1, 20)).shape == (1, 64)\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_deferred_compile_compiles_once_on_the_first_call_with_the_same_options():
    calls = []

    def real(fn, **options):
        calls.append(options)
        return lambda x: fn(x) + 100           # a "compiled" version that can be told apart

    @_deferred_compile(real)(fullgraph=True)
    def f(x):
        return 2 * x

    assert calls == [] and f.__name__ == "f" and f._torchdynamo_inline.__name__ == "f"
    assert f(1) == 102 and f(2) == 104 and calls == [{"fullgraph": True}]


def test_a_deferred_disable_runs_the_function_until_the_compiler_is_loaded(monkeypatch):
    calls = []

    def real(fn, *args, **options):
        calls.append((args, options))
        return lambda x: -fn(x)

    g = _deferred_disable(real)(lambda x: x + 1)
    h = _deferred_disable(real)(recursive=False)(lambda x: x + 2)
    assert g._torchdynamo_disable and h._torchdynamo_disable
    monkeypatch.delitem(sys.modules, "torch._dynamo", raising=False)
    assert g(1) == 2 and h(1) == 3 and calls == []                    # no compiler: nothing to disable
    monkeypatch.setitem(sys.modules, "torch._dynamo", object())
    assert g(1) == -2 and g(2) == -3 and h(1) == -3
    assert calls == [((), {}), ((), {"recursive": False})]           # the real disable, once per function


def test_deferred_functions_inside_a_compiled_function_give_the_eager_numbers():
    compiled_twice = _deferred_compile(torch.compile)(lambda x: torch.sin(x) * 2)
    skipped = _deferred_disable(torch.compiler.disable)(lambda x: x.cumsum(0))

    def outer(x):
        return compiled_twice(x) + skipped(x)

    x = torch.linspace(-1, 1, 7)
    assert torch.equal(torch.compile(outer, backend="eager")(x), outer(x))
