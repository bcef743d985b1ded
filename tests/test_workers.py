"""Workers (``workers=N``): forks of the job that take whole schemes; one build per cache key across processes; the
same CSV, byte for byte, as the job alone."""
import json
import logging
import multiprocessing
import os
import sys
import time

import pytest
import torch
from torch import nn

from conftest import compose

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers and the test's forks need Linux")
fork = multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None


def _hold_then_write(folder, name, write, started):
    from airnet.store.locks import key_lock
    with key_lock(folder, name):
        started.set()
        time.sleep(0.3)            # long enough that a reader without the lock would look before the write
        write()


def _another_process_writes(folder, name, write):
    """A started process that holds the lock ``name`` until it has called ``write()``."""
    started = fork.Event()
    child = fork.Process(target=_hold_then_write, args=(folder, name, write, started))
    child.start()
    assert started.wait(30)
    return child


@linux
def test_a_model_another_process_is_building_is_waited_for_and_loaded(tmp_path):
    from airnet.config.hashing import config_hash
    from airnet.store.artifacts import ModelCache
    from airnet.store.files import save_torch
    from airnet.zoo.params import model_vector

    key = {"what": "a model"}
    h = f"m-{config_hash(key)}"
    model = nn.Linear(3, 2)
    with torch.no_grad():
        model.weight.fill_(0.25)

    def write():
        save_torch(tmp_path / f"{h}.pt", {"w": model_vector(model), "extras": {"mask": torch.ones(2)},
                                          "key": '{"what": "a model"}', "buffers": {}})

    child = _another_process_writes(tmp_path, h, write)

    def build():
        raise AssertionError("built again although another process was building it")

    got, extras = ModelCache(tmp_path).get("m", key, build, lambda: nn.Linear(3, 2))
    child.join()
    assert torch.equal(got.weight, torch.full((2, 3), 0.25)) and torch.equal(extras["mask"], torch.ones(2))


@linux
def test_a_memo_another_process_is_computing_is_waited_for(tmp_path):
    from airnet.config.hashing import config_hash
    from airnet.store.artifacts import JsonMemo

    description = ["robust_mcs", 0.0, 64]
    name = f"memo-{config_hash(description)}"

    def write():
        (tmp_path / f"{name}.json").write_text(json.dumps({"description": description, "value": [7, 2, 0.5, 1]}))

    child = _another_process_writes(tmp_path, name, write)

    def compute():
        raise AssertionError("computed again although another process was computing it")

    assert JsonMemo(tmp_path).get(description, compute) == [7, 2, 0.5, 1]
    child.join()


def test_rows_added_out_of_turn_are_written_in_sweep_order(tmp_path):
    from airnet.store.results import ResultTable, read_rows
    with ResultTable(tmp_path / "r.csv", ["scheme", "snr_db"]) as t:
        t.add({"scheme": "old", "snr_db": 0, "acc_mean": 0.1})
    with ResultTable(tmp_path / "r.csv", ["scheme", "snr_db"]) as t:
        t.order_new([{"scheme": s, "snr_db": v} for v in (0, 10) for s in ("a", "b")])
        for s, v in (("b", 10), ("a", 0), ("b", 0), ("a", 10)):
            t.add({"scheme": s, "snr_db": v, "acc_mean": 0.5, **({"extra": 1} if s == "b" else {})})
    text = (tmp_path / "r.csv").read_text().splitlines()
    assert text[0] == "scheme,snr_db,acc_mean,extra"      # columns in the order of the sorted rows
    assert [(r["scheme"], r["snr_db"]) for r in read_rows(tmp_path / "r.csv")] == [
        ("old", "0"), ("a", "0"), ("b", "0"), ("a", "10"), ("b", "10")]


def test_worker_count_follows_the_idle_cores_and_is_checked():
    from airnet.config.options import OptionError
    from experiments.config import run_options
    auto = run_options(compose())
    assert auto.worker_count(threads=1, cores=2) == 1 and auto.worker_count(threads=1, cores=8) == 7
    assert auto.worker_count(threads=4, cores=8) == 1 and auto.worker_count(threads=2, cores=2) == 0
    assert auto.worker_count(threads=1, cores=8, shared=True) == 0          # a parallel multirun's job
    assert run_options(compose("workers=3")).worker_count(threads=8, cores=2) == 3
    with pytest.raises((OptionError, ValueError), match="workers must be in"):
        run_options(compose("workers=-1"))


SMALL = ["model=mlp", "train.epochs=2", "experiment.snr_db=[0,10,20]", "experiment.num_realizations=4",
         "experiment.schemes=[clean,noise_injection,digital_amc]", "progress=false"]


def _sweep(tmp_path, name, *overrides):
    from experiments.sweep import main
    out = tmp_path / name
    main(compose(*SMALL, f"cache_dir={tmp_path / name}-cache", *overrides), out)
    return (out / "results.csv").read_bytes()


@linux
@pytest.mark.slow
def test_a_worker_gives_the_csv_of_the_job_alone(tmp_path, caplog):
    alone = _sweep(tmp_path, "alone", "workers=0")
    with caplog.at_level(logging.INFO, logger="airnet"):
        helped = _sweep(tmp_path, "helped", "workers=1")
    assert helped == alone
    from_worker = [r.getMessage() for r in caplog.records if r.getMessage().endswith("(worker)")]
    assert len(from_worker) >= 3                    # the worker took at least one scheme's three points
    # the clean model both need (digital_amc starts from it) was trained once: one checkpoint, one lock
    assert len(list((tmp_path / "helped-cache").glob("clean-*.pt"))) == 1


@linux
@pytest.mark.slow
@pytest.mark.parametrize("how", ["raises", "is killed"])
def test_points_of_a_worker_that_fails_are_evaluated_by_the_job(tmp_path, monkeypatch, caplog, how):
    import signal
    from airnet.run.sweep import PointRunner
    alone = _sweep(tmp_path, "alone", "workers=0")
    job, evaluate = os.getpid(), PointRunner.evaluate

    def fails_in_a_worker(self, p):
        if os.getpid() != job:
            if how == "is killed":             # as the OOM killer would: no exception, no goodbye
                os.kill(os.getpid(), signal.SIGKILL)
            raise RuntimeError("worker lost")
        return evaluate(self, p)

    monkeypatch.setattr(PointRunner, "evaluate", fails_in_a_worker)
    with caplog.at_level(logging.WARNING, logger="airnet"):
        helped = _sweep(tmp_path, "helped", "workers=1")
    assert helped == alone
    assert any("its worker stopped before" in r.getMessage() for r in caplog.records)
