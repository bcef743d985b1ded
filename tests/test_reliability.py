"""Nothing lost under concurrency or corruption, and every bad value named (issue: reliability and usability)."""
import csv
import re
import logging
import multiprocessing as mp
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from airnet.config.options import OptionError
from airnet.store.results import ResultTable, read_rows, shard_folder
from conftest import compose

ROOT = Path(__file__).resolve().parents[1]
KEYS = ("scheme", "snr_db")


def _writer(path: str, name: str, count: int) -> None:
    with ResultTable(path, KEYS, merge_every=0.0) as table:       # merge after every point: the most contention
        for i in range(count):
            table.add({"scheme": name, "snr_db": i, "acc_mean": 0.5})


@pytest.mark.slow
def test_concurrent_writers_lose_no_rows(tmp_path):
    path = str(tmp_path / "results.csv")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, f"w{i}", 30)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    rows = list(csv.DictReader(open(path)))
    assert len(rows) == 120 and len({(r["scheme"], r["snr_db"]) for r in rows}) == 120


def _sweep(tmp_path, *overrides):
    cmd = [sys.executable, "-m", "experiments.sweep", f"hydra.run.dir={tmp_path}/out", f"cache_dir={tmp_path}/cache",
           "progress=false", "model=mlp", "train.epochs=1", "experiment.num_realizations=2", "side_info.mode=free",
           "experiment.schemes=[clean]", *overrides]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_two_sweeps_with_different_snrs_into_one_folder_keep_both(tmp_path):
    a = _sweep(tmp_path, "experiment.snr_db=[0,5,10,15]")
    b = _sweep(tmp_path, "experiment.snr_db=[20,25,30,35]")
    for p in (a, b):
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
    rows = list(csv.DictReader(open(tmp_path / "out" / "results.csv")))
    assert sorted(float(r["snr_db"]) for r in rows) == [0, 5, 10, 15, 20, 25, 30, 35]
    # the figure is drawn from the merged store, PNG and PDF from the same rows: all 8 points, whichever job ended last
    from PIL import Image
    from airnet.run.plotting import rows_digest
    source = rows_digest(rows)
    assert source.startswith("airnet rows 8 ")
    assert Image.open(tmp_path / "out" / "accuracy_vs_snr.png").text["Description"] == source
    assert source.encode() in (tmp_path / "out" / "accuracy_vs_snr.pdf").read_bytes()
    assert not shard_folder(tmp_path / "out" / "results.csv").exists() or all(
        s.name.endswith(".done") for s in shard_folder(tmp_path / "out" / "results.csv").iterdir())


def test_cut_off_row_is_dropped_with_a_warning_and_recomputed(tmp_path, caplog):
    path = tmp_path / "results.csv"
    with ResultTable(path, KEYS) as t:
        for i in range(3):
            t.add({"scheme": "clean", "snr_db": i, "acc_mean": 0.5, "acc_std": 0.1})
    assert not shard_folder(path).exists()           # one writer, closed: its shard is folded into the CSV
    text = path.read_text()
    path.write_text(text[: text.rindex("0.5")])            # crash mid-row: "clean,2.0," is left
    with caplog.at_level(logging.WARNING, logger="airnet"):
        t2 = ResultTable(path, KEYS)
    assert "line 4" in caplog.text and "cut off" in caplog.text
    assert t2.has(scheme="clean", snr_db=1) and not t2.has(scheme="clean", snr_db=2)
    t2.add({"scheme": "clean", "snr_db": 2, "acc_mean": 0.6, "acc_std": 0.1})
    t2.close()
    assert len(list(csv.DictReader(open(path)))) == 3


def test_kill_mid_append_loses_only_the_point_in_flight(tmp_path, caplog):
    path = tmp_path / "results.csv"
    t = ResultTable(path, KEYS)
    for i in range(3):
        t.add({"scheme": "clean", "snr_db": i, "acc_mean": 0.5})
    (shard,) = shard_folder(path).glob("*.jsonl")
    text = shard.read_text()
    shard.write_text(text[: text.rindex("0.5")])     # kill -9 during the third append; never closed
    with caplog.at_level(logging.WARNING, logger="airnet"):
        t2 = ResultTable(path, KEYS)
    assert "line 3" in caplog.text and "cut off" in caplog.text and shard.name in caplog.text
    assert t2.has(scheme="clean", snr_db=1) and not t2.has(scheme="clean", snr_db=2)
    assert [r["snr_db"] for r in read_rows(path, KEYS)] == ["0", "1"]
    # a merge cut short leaves its temporary CSV: the next table opened in the folder removes it once it is old
    from airnet.store.artifacts import ORPHAN_AGE_S
    orphan = tmp_path / ".results.csv.x1y2.tmp"
    orphan.write_text("scheme,snr_db\nclean,")
    os.utime(orphan, (0, 0))
    assert ORPHAN_AGE_S < 1e9
    ResultTable(path, KEYS)
    assert not orphan.exists()


def test_a_later_row_replaces_and_readers_never_write(tmp_path):
    path = tmp_path / "results.csv"
    with ResultTable(path, KEYS) as a:
        a.add({"scheme": "clean", "snr_db": 0, "acc_mean": 0.5})
    b = ResultTable(path, KEYS)
    b.add({"scheme": "clean", "snr_db": 0.0, "acc_mean": 0.7, "extra": "new column"})
    reader = ResultTable(path, KEYS)
    reader.close()                                   # added nothing: must not rewrite the CSV
    assert [r["acc_mean"] for r in csv.DictReader(open(path))] == ["0.5"]
    assert [(r["acc_mean"], r["extra"]) for r in read_rows(path, KEYS)] == [("0.7", "new column")]
    b.close()
    assert [(r["acc_mean"], r["extra"]) for r in csv.DictReader(open(path))] == [("0.7", "new column")]
    assert not shard_folder(path).exists() and not list(tmp_path.glob(".*tmp"))


def test_invalid_accuracy_is_dropped(tmp_path, caplog):
    path = tmp_path / "results.csv"
    path.write_text("scheme,snr_db,acc_mean\nclean,0,0.5\nclean,1,oops\nclean,2,nan\n")
    with caplog.at_level(logging.WARNING, logger="airnet"):
        t = ResultTable(path, KEYS)
    assert [r["snr_db"] for r in t.rows] == ["0"] and "not a number" in caplog.text and "not finite" in caplog.text


def test_csv_has_lf_line_endings_and_mode_0644(tmp_path):
    path = tmp_path / "results.csv"
    old = os.umask(0o022)
    try:
        with ResultTable(path, KEYS) as t:
            t.add({"scheme": "clean", "snr_db": 0, "acc_mean": 0.5})
    finally:
        os.umask(old)
    assert b"\r" not in path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


@pytest.mark.slow
def test_corrupt_checkpoint_is_moved_aside_and_retrained(tmp_path, caplog, digits):
    from conftest import recipes_and_options
    rec, _ = recipes_and_options("model=mlp", "train.epochs=1", f"cache_dir={tmp_path}", data=digits)
    rec.context.cache.folder = tmp_path
    first = rec.teacher()
    (ckpt,) = tmp_path.glob("clean-*.pt")
    ckpt.write_bytes(b"not a zip file")
    fresh, _ = recipes_and_options("model=mlp", "train.epochs=1", data=digits)
    fresh.context.cache.folder = tmp_path
    with caplog.at_level(logging.WARNING, logger="airnet"):
        again = fresh.teacher()
    assert ckpt.name in caplog.text and "recomputing" in caplog.text
    assert (tmp_path / (ckpt.name + ".corrupt")).exists() and ckpt.exists()
    assert all(torch.equal(p, q) for p, q in zip(first.parameters(), again.parameters()))   # same seed, same model


def test_non_finite_weights_are_named_by_count_and_layer():
    from airnet.zoo.models import build_model
    from airnet.zoo.params import ParamLayout, check_weights, model_vector
    from airnet.delivery.transmit import transmit_vector
    from channels import make_channel
    torch.manual_seed(0)
    m = build_model("mlp", (1, 8, 8), 10, hidden=(8,))
    w = model_vector(m)
    w[3] = float("nan")
    w[-1] = float("inf")
    with pytest.raises(ValueError, match=r"2 non-finite weight value\(s\).*net\.1\.weight: 1, net\.3\.bias: 1"):
        check_weights(w, ParamLayout.of(m))
    with pytest.raises(ValueError, match=r"2 non-finite .*flat indices \[3, "):
        transmit_vector(w, make_channel("awgn"), 10.0)
    with pytest.raises(ValueError, match="floating point"):
        check_weights(torch.ones(5, dtype=torch.long))
    with pytest.raises(ValueError, match="no parameters"):
        check_weights(torch.zeros(0))


def test_model_and_data_of_different_dtypes_are_named(digits):
    from airnet.delivery.evaluation import accuracy_of_vectors
    from airnet.zoo.models import build_model
    from airnet.zoo.params import model_vector
    m = build_model("mlp", digits.input_shape, 10).double()
    with pytest.raises(ValueError, match="parameters are torch.float64 but the data is torch.float32"):
        accuracy_of_vectors(m, model_vector(m)[None], digits.x_test, digits.y_test)


def test_channel_layer_passes_all_zero_samples_and_keeps_its_snr():
    from channels import ChannelLayer, make_channel
    layer = ChannelLayer(make_channel("rayleigh", block_length=4), 7.5, torch.Generator().manual_seed(0))
    x = torch.relu(torch.randn(6, 3, 4))
    x[2] = 0.0                                               # a sample whose ReLUs are all dead
    x.requires_grad_(True)
    y = layer(x)
    y.sum().backward()
    assert torch.equal(y[2], torch.zeros(3, 4)) and torch.isfinite(y).all() and torch.isfinite(x.grad).all()
    assert "snr_db=7.5" in repr(layer)
    other = ChannelLayer(make_channel("rayleigh", block_length=4), 0.0)
    other.load_state_dict(layer.state_dict())
    assert float(other.snr_db) == 7.5


def _main(tmp_path, *overrides):
    from experiments.sweep import main
    cfg = compose(f"cache_dir={tmp_path}/cache", "progress=false", "model=mlp", "train.epochs=1",
                  "experiment.schemes=[clean]", "experiment.snr_db=[10]", "experiment.num_realizations=2", *overrides)
    return main(cfg, tmp_path / "out")


@pytest.mark.parametrize("override,message", [
    ("experiment.snr_db=abc", "experiment.snr_db must be finite numbers, got 'abc'"),
    ("experiment.snr_db=null", "experiment.snr_db must be finite numbers, got None"),
    ("experiment.bandwidth_ratio=[0]", "experiment.bandwidth_ratio must be positive"),
    ("seed=abc", "seed must be an integer, got 'abc'"),
    ("experiment.schemes=[]", "experiment.schemes is empty"),
    ("experiment.num_realizations=0", "experiment.num_realizations must be at least 1, got 0"),
    ("+scheme.uep.drawz=3", "unknown option scheme.uep.drawz; did you mean scheme.uep.draws"),
    ("progress=maybe", "progress must be true or false or 'auto', got 'maybe'"),
    ("data.name=imagenet", "data: unknown dataset 'imagenet'"),
    ("channel.equalizer=ml", "channel: unknown equalizer 'ml'"),
    # each of these used to train for up to a minute and then crash, or run and score chance
    ("scheme.pruning_kd.alpha=5", "scheme.pruning_kd: alpha must be in [0, 1], got 5.0"),
    ("scheme.expansion.factor=0", "scheme.expansion: factor must be in [1, 31], got 0"),
    ("scheme.expansion.factor=-2", "scheme.expansion: factor must be in [1, 31], got -2"),
    ("scheme.uep.max_factor=64", "scheme.uep: max_factor must be in [2, 31], got 64"),
    ("scheme.spectrum.levels=[{snr_db: 0, factor: 0}]", "scheme.spectrum.levels[0]: factor must be in [1, 31], got 0"),
    ("scheme.digital_capacity.bits=[0]", "scheme.digital_capacity: bits must be in [1, 24], got 0"),
    ("link.num_iter=0", "link: num_iter must be in [1, inf), got 0"),
    ("link.error_probability=2", "link: error_probability must be in (0, 0.5], got 2.0"),
    ("train.weight_decay=1e9", "train: weight_decay must be in [0, 1], got 1000000000.0"),
    ("experiment.snr_db=[1e6]", "experiment.snr_db and design_snr_db must lie in [-60, 100] dB, got [1000000.0]"),
    ("side_info.snr_db=1e9", "side_info.snr_db must be design or an SNR in [-60, 100] dB, got 1000000000.0"),
    ("side_info.margin_db=-1", "side_info.margin_db must be in [0, 60] dB, got -1.0"),
])
def test_bad_config_values_fail_before_training_naming_the_key(tmp_path, override, message):
    with pytest.raises(OptionError) as exc:
        _main(tmp_path, override)
    assert message in str(exc.value)
    assert not (tmp_path / "cache").exists() and not (tmp_path / "out" / "results.csv").exists()


def test_model_without_parameters_fails_naming_the_model(tmp_path):
    from airnet.zoo.models import MODELS, register_model
    register_model("empty")(lambda input_shape, num_classes: torch.nn.Flatten())
    try:
        with pytest.raises(OptionError, match="model 'empty' has no parameters"):
            _main(tmp_path, "model.name=empty", "~model.kwargs.hidden")
    finally:
        del MODELS["empty"]


@pytest.mark.slow
def test_zero_epochs_warns(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="airnet"):
        _main(tmp_path, "train.epochs=0", "side_info.mode=free")
    assert "train.epochs=0" in caplog.text


def _run_dir(*overrides):
    from hydra import compose as hc, initialize_config_dir
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf
    from conftest import CONF
    import experiments.sweep  # noqa: F401  (registers the run-name resolver)
    with initialize_config_dir(config_dir=CONF, version_base="1.3"):
        cfg = hc(config_name="sweep", overrides=list(overrides), return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    return OmegaConf.to_container(cfg.hydra.run, resolve=True)["dir"]


@pytest.mark.slow
def test_override_runs_do_not_nest_in_the_default_folder():
    plain, other = _run_dir(), _run_dir("channel=rayleigh")
    assert plain == "outputs/snr_sweep/default" and other == "outputs/snr_sweep/channel=rayleigh"
    assert not other.startswith(plain + "/")
    assert _run_dir("channel=rayleigh", "progress=false", "cache_dir=x") == other    # bookkeeping keys ignored


def test_a_checkpoint_of_another_configuration_is_not_used(tmp_path, caplog):
    """A checkpoint copied under another key's file name is named, set aside and rebuilt, never loaded."""
    from airnet.store.artifacts import ModelCache
    built = []

    def build(value):
        def make():
            built.append(value)
            m = torch.nn.Linear(2, 1)
            torch.nn.init.constant_(m.weight, value)
            return m, {}
        return make

    cache = ModelCache(tmp_path)
    cache.get("m", {"lr": 1}, build(1.0), lambda: torch.nn.Linear(2, 1))
    cache.get("m", {"lr": 2}, build(2.0), lambda: torch.nn.Linear(2, 1))
    one, two = sorted(tmp_path.glob("m-*.pt"), key=lambda p: p.stat().st_mtime)
    two.write_bytes(one.read_bytes())                       # lr=1's weights under lr=2's name
    with caplog.at_level(logging.WARNING, logger="airnet"):
        model, _ = ModelCache(tmp_path).get("m", {"lr": 2}, build(2.0), lambda: torch.nn.Linear(2, 1))
    assert float(model.weight[0, 0]) == 2.0 and built == [1.0, 2.0, 2.0]
    assert "another configuration" in caplog.text and (tmp_path / (two.name + ".mismatch")).exists()
    again, _ = ModelCache(tmp_path).get("m", {"lr": 2}, build(9.0), lambda: torch.nn.Linear(2, 1))
    assert float(again.weight[0, 0]) == 2.0 and built == [1.0, 2.0, 2.0]        # the rebuilt one is valid


@pytest.mark.parametrize("content", ["{}", "not json", '{"description": ["other"], "value": 3}'])
def test_a_corrupt_or_foreign_memo_is_recomputed_once(tmp_path, caplog, content):
    from airnet.config.hashing import config_hash
    from airnet.store.artifacts import JsonMemo
    description = ["robust_mcs", "awgn", [0.0, 512]]
    path = tmp_path / f"memo-{config_hash(description)}.json"
    path.write_text(content)
    calls = []
    with caplog.at_level(logging.WARNING, logger="airnet"):
        value = JsonMemo(tmp_path).get(description, lambda: calls.append(1) or {"mcs": [3, 2, 0.5, 1]})
    assert value == {"mcs": [3, 2, 0.5, 1]} and calls == [1] and path.name in caplog.text
    assert JsonMemo(tmp_path).get(description, lambda: calls.append(1) or None) == value and calls == [1]


def test_orphan_temporary_files_are_removed_when_the_cache_opens(tmp_path):
    import os
    import time
    from airnet.store.artifacts import ORPHAN_AGE_S, ModelCache
    old = tmp_path / ".clean-abc.pt.x1y2.tmp"
    young = tmp_path / ".clean-def.pt.z3w4.tmp"
    old.write_bytes(b"half a checkpoint")
    young.write_bytes(b"a writer still at work")
    past = time.time() - ORPHAN_AGE_S - 60
    os.utime(old, (past, past))
    ModelCache(tmp_path)
    assert not old.exists() and young.exists()


@pytest.mark.parametrize("overrides, message", [
    (["experiment.schemes=[nosuch]"], "experiment.schemes: unknown scheme 'nosuch'; available: clean"),
    (["data=mnist"], "data: dataset 'mnist' needs a local folder: set data.root="),
    (["model=mlp", "model.kwargs.hidden=[-5]"], "model=mlp with {'hidden': [-5]} does not run on digits images"),
    (["model.kwargs.channels=[0,0]"], "model=cnn with {'channels': [0, 0]} does not run on digits images"),
    (["seed=-1"], "seed must"),
])
def test_more_bad_inputs_fail_in_one_line_before_training(overrides, message, tmp_path):
    from experiments.sweep import main
    with pytest.raises(OptionError, match=re.escape(message)):
        main(compose(*overrides, "cache_dir=null", "progress=false"), tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv", [["scheme.expansion.factr=2"], ["+scheme.expansion.factr=2"]])
def test_misspelt_keys_get_did_you_mean_with_or_without_plus(argv, tmp_path):
    out = subprocess.run([sys.executable, "-m", "experiments.sweep", *argv, f"hydra.run.dir={tmp_path}/run",
                          "progress=false"], cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 2
    assert "unknown option scheme.expansion.factr; did you mean scheme.expansion.factor?" in out.stderr + out.stdout
    assert "Traceback" not in out.stderr and not (tmp_path / "run").exists()     # no empty run folder either


def test_a_failed_run_folder_is_removed_but_never_one_with_results(tmp_path, monkeypatch):
    from experiments.sweep import remove_failed_run
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "outputs" / "techniques" / "x=1"
    (run / ".hydra").mkdir(parents=True)
    (run / "sweep.log").write_text("config error")
    remove_failed_run(run)
    assert not (tmp_path / "outputs").exists()
    kept = tmp_path / "outputs" / "snr_sweep" / "default"
    (kept / ".hydra").mkdir(parents=True)
    (kept / "results.csv").write_text("scheme\n")
    remove_failed_run(kept)
    assert (kept / "results.csv").exists()


def test_without_a_terminal_every_point_is_logged_with_progress_and_eta(tmp_path, caplog):
    from experiments.sweep import main
    with caplog.at_level(logging.INFO, logger="airnet"):
        main(compose("model=mlp", "train.epochs=1", "experiment.snr_db=[0,10]", "experiment.num_realizations=2",
                     "experiment.schemes=[clean]", f"cache_dir={tmp_path}/cache", "progress=false"), tmp_path / "out")
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("point ")]
    assert [x.split(":")[0] for x in lines] == ["point 1/2", "point 2/2"]
    assert "clean at 10 dB, ratio 1, seed 0: accuracy" in lines[1] and "ETA 0s" in lines[1]


def test_the_same_rows_give_byte_identical_figures(tmp_path):
    from airnet.run.plotting import plot_accuracy
    rows = [dict(scheme="clean", label="clean", snr_db=s, bandwidth_ratio=1.0, seed=0, matched="True",
                 design_snr_db=s, acc_mean=0.5 + s / 100, acc_std=0.05, num_realizations=8, test_size=359,
                 delivered_fraction=1.0) for s in (0.0, 10.0)]
    a = plot_accuracy(rows, "snr_db", tmp_path / "a")
    b = plot_accuracy(rows, "snr_db", tmp_path / "b")
    for x, y in zip(a, b):
        assert x.read_bytes() == y.read_bytes(), x.name


def test_bfloat16_falls_back_on_a_cpu_without_it(monkeypatch, caplog):
    from airnet.zoo import precision
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: False)
    monkeypatch.setattr(precision, "_WARNED", set())
    with caplog.at_level(logging.WARNING, logger="airnet"):
        assert precision.effective_precision("bfloat16", torch.device("cpu")) == "float32"
        assert precision.effective_precision("bfloat16", torch.device("cpu"), "train.precision") == "float32"
    assert "eval_precision=bfloat16: this CPU has no native bfloat16" in caplog.text
    assert "train.precision=bfloat16: this CPU has no native bfloat16" in caplog.text
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)
    assert precision.effective_precision("bfloat16", torch.device("cpu")) == "bfloat16"
    assert precision.effective_precision("float32", torch.device("cpu")) == "float32"
    assert precision.effective_precision("bfloat16", torch.device("cuda")) == "bfloat16"    # no check off the CPU
    with pytest.raises(ValueError, match="train.precision must be one of float32, bfloat16, got 'half'"):
        precision.effective_precision("half", torch.device("cpu"), "train.precision")


def test_every_channel_answers_every_bad_input_alike_and_never_silently():
    """The channel API contract: every public call on every built-in channel (OFDM included) gives a correct
    result or a clear error of our own for each malformed input, the same message on every channel; no NaN/inf."""
    from collections import defaultdict
    from benchmarks.robustness import channel_cases, counts
    cases = channel_cases()
    assert len(cases) >= 197
    n = counts(cases)
    assert n["cryptic"] == 0 and n["silent"] == 0, [c for c in cases if c.outcome in ("cryptic", "silent")][:5]
    answers = defaultdict(set)
    for c in cases:
        answers[c.name].add((c.outcome, c.message))
    assert all(len(a) == 1 for a in answers.values()), {k: a for k, a in answers.items() if len(a) > 1}
    assert answers["call snr=-400 dB"] == {("clear", "ValueError: snr_db must lie in [-150, 150] dB, got -400")}
    assert answers["transmit_reals x=row of 1e30"] == {("ok", "")}


@pytest.mark.parametrize("value", [1e30, 1e-30, 1e-20])
def test_rows_far_from_unit_power_are_sent_at_the_channel_snr(value):
    from channels import make_channel, transmit_reals
    x = torch.full((2, 16), value) * torch.linspace(1, 2, 16)
    for name in ("awgn", "rayleigh"):
        y = transmit_reals(x, make_channel(name), 100.0, torch.Generator().manual_seed(0))
        rel = ((y - x).abs() / x.abs()).max()
        assert 1e-7 < float(rel) < 1e-3          # noise of relative size ~1e-5 (100 dB): neither lost nor blown up


def test_malformed_data_files_are_named_and_cifar_batches_cannot_run_code(tmp_path):
    import pickle
    import numpy as np
    from benchmarks.robustness import _cifar, counts, loader_cases
    from airnet.zoo.data import load_data
    cases = loader_cases()
    assert counts(cases) == {"ok": 2, "clear": len(cases) - 2, "cryptic": 0, "silent": 0}, cases
    assert all(("/" in c.message) for c in cases if c.outcome == "clear")            # every message names a path
    # the real CIFAR-10 files are protocol-2 pickles from Python 2: they load through the safe unpickler too
    root = _cifar(tmp_path / "c")
    for f in (root / "cifar-10-batches-py").iterdir():
        f.write_bytes(pickle.dumps(pickle.loads(f.read_bytes()), protocol=2))
    d = load_data("cifar10", str(root))
    assert d.x_test.shape == (10, 3, 32, 32) and d.y_test.dtype == torch.long
    assert np.isclose(float(d.x_test.std()), float(load_data("cifar10", str(_cifar(tmp_path / "d"))).x_test.std()))


@pytest.mark.slow
def test_every_fuzzed_config_value_is_refused_in_one_line_before_training():
    """benchmarks/robustness.py's 90+ bad values (and valid neighbours, which must train) through the driver."""
    from benchmarks.robustness import CONFIG_VALID, config_cases, counts
    cases = config_cases()
    assert len(cases) >= 62
    assert counts(cases) == {"ok": len(CONFIG_VALID), "clear": len(cases) - len(CONFIG_VALID), "cryptic": 0,
                             "silent": 0}, [c for c in cases if c.outcome in ("cryptic", "silent")]
    assert all(c.message.startswith("config error: ") for c in cases if c.outcome == "clear")
