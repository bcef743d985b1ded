"""airnet.training.optimizer: torch's Adam, the same numbers, and no compiler imported while none runs."""
import copy
import subprocess
import sys

import pytest
import torch

from airnet.training.optimizer import Adam


def _net() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU(), torch.nn.Linear(4, 3))


def _train(opt_cls, model, compiled=False, steps=6):
    torch.manual_seed(1)
    x, y = torch.randn(16, 5), torch.randint(0, 3, (16,))
    opt = opt_cls(model.parameters(), lr=1e-2, weight_decay=1e-3, foreach=True)

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    if compiled:
        step = torch.compile(step, backend="eager")
    for _ in range(steps):
        step()
    return torch.cat([p.detach().flatten() for p in model.parameters()]), opt


def test_adam_gives_torch_adams_numbers_and_state():
    ours, opt = _train(Adam, _net())
    ref, ref_opt = _train(torch.optim.Adam, _net())
    assert torch.equal(ours, ref)
    a, b = opt.state_dict(), ref_opt.state_dict()
    assert a["param_groups"] == b["param_groups"]
    for i in b["state"]:
        for k in ("step", "exp_avg", "exp_avg_sq"):
            assert torch.equal(a["state"][i][k], b["state"][i][k])
    with pytest.raises(ValueError, match="differentiable"):
        Adam(_net().parameters(), differentiable=True)


def test_adam_under_a_compiler_runs_as_torchs_adam_does():
    # traced by torch.compile, the step goes through torch's own wrappers: the numbers of torch's Adam compiled
    # (which differ from eager ones in the last bits, for torch's Adam too)
    ours, _ = _train(Adam, _net(), compiled=True)
    ref, _ = _train(torch.optim.Adam, _net(), compiled=True)
    assert torch.equal(ours, ref)


def test_training_imports_no_compiler_until_one_is_loaded():
    code = """
import sys, torch
from airnet.training.loop import TrainSettings, train_model
from torch.optim.optimizer import Optimizer
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))
x, y = torch.randn(40, 1, 2, 2), torch.randint(0, 3, (40,))
settings = TrainSettings(epochs=2, batch_size=16, lr=1e-2, weight_decay=0.0, noise_stream="fresh",
                         noise_finetune_epochs=0, noise_finetune_lr=1e-3, precision="float32")
train_model(model, x, y, settings, torch.Generator().manual_seed(0))
print("after training", "torch._dynamo" in sys.modules)
import torch._dynamo
from airnet.training.optimizer import Adam
opt = Adam(model.parameters(), lr=1e-2)
model(x).sum().backward(); opt.step(); opt.zero_grad()
print("zero_grad disabled by", getattr(Optimizer.zero_grad.__wrapped__, "__dynamo_disable").__qualname__)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "after training False" in out
    # once the compiler is loaded, torch's own disabled function takes the deferred one's place
    assert "zero_grad disabled by DisableContext" in out, out


def test_adam_steps_as_torchs_where_its_internals_differ(monkeypatch):
    import airnet.training.optimizer as optimizer

    monkeypatch.setattr(optimizer, "_COMPILABLE_STEP", None)        # e.g. another torch version's step wrapper
    assert torch.equal(_train(Adam, _net())[0], _train(torch.optim.Adam, _net())[0])
    assert optimizer._defer(lambda: None) is False                  # not torch's lazy wrapper: left alone
