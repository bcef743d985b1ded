"""Every script in examples/ runs, at tiny scale, as a user would copy it."""
import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
pytestmark = pytest.mark.slow
TINY = ["model=mlp", "train.epochs=1", "experiment.snr_db=[10]", "experiment.num_realizations=2", "progress=false"]


def _run(cmd, cwd=ROOT, env=None, timeout=600):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                       env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    return r.stdout + r.stderr


def test_pytorch_deepjscc_loop():
    out = _run([sys.executable, str(EXAMPLES / "pytorch_deepjscc.py"), "--epochs", "2"])
    assert "test PSNR at 10 dB:" in out


def test_keras_fit_save_load(tmp_path):
    import importlib.util
    if importlib.util.find_spec("keras") is None:            # not imported here: its backend is chosen first
        pytest.skip("keras is not installed")
    out = _run([sys.executable, str(EXAMPLES / "keras_fit_save_load.py"), "--epochs", "2", "--out",
                str(tmp_path / "m.keras")], env={"KERAS_BACKEND": "torch"})
    assert "weights identical after reload: True" in out and "rayleigh at 15 dB" in out


def test_plugin_scheme_that_prunes(tmp_path):
    _run([sys.executable, "-m", "experiments.sweep", "plugins=[mylab.top]", "hydra.searchpath=[file://mylab/conf]",
          "+scheme=top", "experiment.schemes=[clean,top]", "experiment.bandwidth_ratio=[0.5]",
          f"hydra.run.dir={tmp_path}/out", f"cache_dir={tmp_path}/cache", *TINY], cwd=EXAMPLES)
    rows = list(csv.DictReader(open(tmp_path / "out" / "results.csv")))
    top = [r for r in rows if r["scheme"] == "top"]
    assert len(top) == 1 and int(top[0]["channel_uses"]) <= int(top[0]["budget_channel_uses"])
    assert 0 < int(float(top[0]["params_sent"])) < int(float(rows[0]["budget_channel_uses"]))    # it pruned


@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_local_data_folder(tmp_path, name):
    from benchmarks.robustness import _cifar, _mnist
    root = _mnist(tmp_path / "mnist", n=40) if name == "mnist" else _cifar(tmp_path / "cifar", n=20)
    _run([sys.executable, str(EXAMPLES / "local_data.py"), name, str(root), f"hydra.run.dir={tmp_path}/out",
          f"cache_dir={tmp_path}/cache", "experiment.schemes=[clean]", *TINY])
    rows = list(csv.DictReader(open(tmp_path / "out" / "results.csv")))
    assert [r["data"] for r in rows] == [name]


def test_slurm_multirun_through_submitit_local_into_one_folder_per_channel(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    _run(["bash", str(EXAMPLES / "slurm_multirun.sh"), "experiment.schemes=[clean]", "side_info.mode=free",
          f"cache_dir={tmp_path}/cache", *TINY], env={"LAUNCHER": "submitit_local", "OUT": str(tmp_path / "slurm"), "SEEDS": "[0],[1]"},
         timeout=900)
    for channel in ("awgn", "rayleigh"):
        folder = tmp_path / "slurm" / channel
        rows = list(csv.DictReader(open(folder / "results.csv")))
        assert sorted(r["seed"] for r in rows) == ["0", "1"] and {r["channel"] for r in rows} == {channel}
        shards = folder / "results.d"
        assert not shards.exists() or all(s.name.endswith(".done") for s in shards.iterdir())
