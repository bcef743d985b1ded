"""Every command in the README's code blocks is a working example: each runs through the same Hydra entry (reduced
epochs, draws, seeds and grid: the plotted axis at its lowest and highest point, the other at its highest), and at
the highest SNR the best analog scheme is at least chance + 0.3 and no scheme is degenerate. The plug-in recipe
runs from the README's own code.

Local data sets (``data.root=...``) run on small files written here in their formats (random images: the check is
that every scheme delivers, not the accuracy).
"""
import csv
import gzip
import pickle
import re
import shlex
from pathlib import Path

import numpy as np
import pytest

from conftest import compose

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow      # every test here trains models
REDUCED = ("train.epochs=8", "scheme.pruning_kd.steps=2", "scheme.pruning_kd.finetune_epochs=2",
           "scheme.spectrum.epochs=3", "scheme.uep.draws=2", "experiment.num_realizations=4",
           "scheme.digital_capacity.bits=[1,2,4]", "scheme.digital_capacity.finetune_candidates=1",
           "scheme.digital_capacity.validation_draws=2", "scheme.digital_capacity.mixed_precision=false",
           "progress=false")
ALIASES = {"experiments.snr_sweep": "snr_sweep", "experiments.bandwidth_sweep": "bandwidth_sweep"}


def blocks(lang):
    text = (ROOT / "README.md").read_text()
    return re.findall(rf"```{lang}\n(.*?)```", text, re.S)


def commands():
    """(module, arguments) of every ``python -m experiments.*`` command in the README's bash blocks and in the
    first column of its tables (the command / cost table), each once."""
    lines = [ln for block in blocks("bash") for ln in block.replace("\\\n", " ").splitlines()]
    lines += re.findall(r"^\| `(python -m experiments\.[^`]*)` \|", (ROOT / "README.md").read_text(), re.M)
    out = []
    for line in lines:
        line = line.split("&&")[-1].strip()
        line = re.sub(r"\s+#.*$", "", line)
        if line.startswith("python -m experiments."):
            words = shlex.split(line)
            if (words[2], words[3:]) not in out:
                out.append((words[2], words[3:]))
    return out


SWEEPS = [(m, a) for m, a in commands() if m in ("experiments.sweep", *ALIASES)]


def _expand(args):
    """Hydra multirun (-m) into single runs: every key=a,b,c (outside brackets) one run per value."""
    args = [a for a in args if a != "-m"]
    runs = [[]]
    for a in args:
        key, _, value = a.partition("=")
        if "," in value and not value.startswith(("[", "{")):
            runs = [r + [f"{key}={v}"] for r in runs for v in value.split(",")]
        else:
            runs = [r + [a] for r in runs]
    return runs


def _fake_local_data(args, tmp_path):
    """Point data.root at small files in the data set's own format."""
    out = []
    rng = np.random.default_rng(0)
    for a in args:
        if a.startswith("data.root="):
            root = tmp_path / "data"
            root.mkdir(exist_ok=True)
            if "data=mnist" in args:
                for stem, shape in [("train-images-idx3-ubyte", (120, 28, 28)), ("train-labels-idx1-ubyte", (120,)),
                                    ("t10k-images-idx3-ubyte", (40, 28, 28)), ("t10k-labels-idx1-ubyte", (40,))]:
                    arr = rng.integers(0, 10 if len(shape) == 1 else 256, shape).astype(np.uint8)
                    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
                    with gzip.open(root / f"{stem}.gz", "wb") as f:
                        f.write(header + arr.tobytes())
            else:
                (root / "cifar-10-batches-py").mkdir(exist_ok=True)
                for name, count in [("data_batch_1", 120), ("test_batch", 40)]:
                    with open(root / "cifar-10-batches-py" / name, "wb") as f:
                        pickle.dump({b"data": rng.integers(0, 256, (count, 3072), dtype=np.uint8),
                                     b"labels": list(rng.integers(0, 10, count))}, f)
            a = f"data.root={root}"
        out.append(a)
    return out, any(a.startswith("data.root=") for a in args)


def _reduced_grid(args):
    """The plotted axis at its lowest and highest value, the other axis at its highest (the checked point), and
    the first seed."""
    from experiments.config import experiment_options
    exp = experiment_options(compose(*args))
    snrs, ratios = [min(exp.snr_db), max(exp.snr_db)], [max(exp.bandwidth_ratio)]
    if exp.x == "bandwidth_ratio":
        snrs, ratios = snrs[1:], [min(exp.bandwidth_ratio), *ratios]
    return [f"experiment.snr_db=[{','.join(map(str, snrs))}]",
            f"experiment.bandwidth_ratio=[{','.join(map(str, ratios))}]", f"experiment.seeds=[{exp.seeds[0]}]"]


def test_the_readme_has_the_commands_this_file_runs():
    assert len(SWEEPS) >= 12 and any(m == "experiments.snr_sweep" for m, _ in SWEEPS)
    assert any("-m" in a for _, a in SWEEPS) and any(any("plugins=" in x for x in a) for _, a in SWEEPS)


@pytest.mark.parametrize("module,args", SWEEPS, ids=[" ".join(a) or m for m, a in SWEEPS])
def test_readme_sweep_command_delivers(module, args, tmp_path, monkeypatch, capsys):
    from experiments.sweep import main
    if any(a.startswith("plugins=") for a in args):                  # the recipe, from the README's own blocks
        (tmp_path / "mylab" / "conf" / "scheme").mkdir(parents=True)
        (tmp_path / "mylab" / "__init__.py").write_text("")
        (tmp_path / "mylab" / "top.py").write_text(next(b for b in blocks("python") if "register_scheme" in b))
        (tmp_path / "mylab" / "conf" / "scheme" / "top.yaml").write_text(
            next(b for b in blocks("yaml") if "@package scheme.top" in b))
        monkeypatch.chdir(tmp_path)
        monkeypatch.syspath_prepend(str(tmp_path))
        args = [a.replace("file://mylab/conf", f"file://{tmp_path}/mylab/conf") for a in args]
    if module in ALIASES:
        args = [f"experiment={ALIASES[module]}", *args]
    args, local_data = _fake_local_data(args, tmp_path)
    for i, run in enumerate(_expand(args)):
        grid = _reduced_grid(run)                    # replaces the command's own axis and seeds (same keys)
        run = [a for a in run if not a.startswith(("experiment.snr_db=", "experiment.bandwidth_ratio=",
                                                   "experiment.seeds="))]
        rows = main(compose(*run, *REDUCED, *grid, f"cache_dir={tmp_path}/cache"), tmp_path / f"out{i}")
        if "plan=true" in run:                       # the dry run: a plan printed, no rows
            assert rows == [] and "estimated time on this machine:" in capsys.readouterr().out
            continue
        top_snr = max(float(r["snr_db"]) for r in rows)
        top_ratio = max(float(r["bandwidth_ratio"]) for r in rows)
        top = [r for r in rows if float(r["snr_db"]) == top_snr and float(r["bandwidth_ratio"]) == top_ratio]
        # a transmitter designed for 20+ dB below the top point (broadcast: single-layer digital for 0 dB) sends
        # a small payload by design; everything designed near the top must deliver
        near = [r for r in top if float(r["design_snr_db"]) >= top_snr - 20]
        degenerate = sorted({r["scheme"] for r in near if float(r["delivered_fraction"]) < 0.1})
        assert not degenerate, f"{run}: degenerate at {top_snr} dB: {degenerate}"
        if not local_data:
            analog = [float(r["acc_mean"]) for r in top if not r["scheme"].startswith("digital")]
            assert max(analog) >= 0.1 + 0.3, f"{run}: best analog {max(analog):.3f} at {top_snr} dB"


def test_readme_rank_command_runs_on_a_sweep(tmp_path, capsys):
    from experiments.rank import main as rank
    from experiments.sweep import main
    rank_args = next(a for m, a in commands() if m == "experiments.rank")
    assert rank_args == ["outputs/snr_sweep/default/results.csv"]
    main(compose("experiment.snr_db=[0,20]", *REDUCED, f"cache_dir={tmp_path}/cache"), tmp_path / "out")
    rank([str(tmp_path / "out" / "results.csv")])
    assert "SNR 20 dB" in capsys.readouterr().out
    assert len(list(csv.DictReader(open(tmp_path / "out" / "results.csv")))) == 4
