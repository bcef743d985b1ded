import csv
import subprocess
import sys
from pathlib import Path

import pytest

from airnet.store.results import ResultTable

ROOT = Path(__file__).resolve().parents[1]


pytestmark = pytest.mark.slow      # every test here trains models


def test_result_table_resumes(tmp_path):
    t = ResultTable(tmp_path / "r.csv", ["scheme", "snr_db"])
    t.add({"scheme": "clean", "snr_db": 5, "acc_mean": 0.5})
    t2 = ResultTable(tmp_path / "r.csv", ["scheme", "snr_db"])
    assert t2.has(scheme="clean", snr_db=5.0)
    assert not t2.has(scheme="clean", snr_db=10.0)
    t2.add({"scheme": "clean", "snr_db": 5.0, "acc_mean": 0.7})  # replaces, never duplicates
    t.close()
    t2.close()
    assert len(ResultTable(tmp_path / "r.csv", ["scheme", "snr_db"]).rows) == 1
    assert not list(tmp_path.glob("*.tmp"))


def _run(module, tmp_path, *overrides):
    cmd = [sys.executable, "-m", module, f"hydra.run.dir={tmp_path}/out", f"cache_dir={tmp_path}/cache",
           "progress=false", "train.epochs=2", "experiment.num_realizations=4", *overrides]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_snr_sweep_writes_csv_and_plot_and_resumes(tmp_path):
    r = _run("experiments.snr_sweep", tmp_path, "experiment.snr_db=[0,20]")
    assert r.returncode == 0, r.stderr[-3000:]
    out = tmp_path / "out"
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert {(row["scheme"], float(row["snr_db"])) for row in rows} == {
        (s, v) for s in ("clean", "noise_injection") for v in (0.0, 20.0)}
    assert all(int(row["num_realizations"]) == 4 for row in rows)
    assert (out / "accuracy_vs_snr.png").stat().st_size > 0 and (out / "accuracy_vs_snr.pdf").exists()
    before = (out / "results.csv").read_text()
    r2 = _run("experiments.snr_sweep", tmp_path, "experiment.snr_db=[0,20]")
    assert r2.returncode == 0
    assert "skipping 4 finished points" in r2.stderr + r2.stdout
    assert (out / "results.csv").read_text() == before  # same seed, nothing recomputed


def test_unknown_channel_fails_clearly(tmp_path):
    r = _run("experiments.snr_sweep", tmp_path, "channel=awgn", "channel.name=wifi")
    assert r.returncode == 2
    assert "config error: channel: unknown channel 'wifi'" in r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr


def test_bandwidth_sweep_with_techniques_and_baseline(tmp_path):
    r = _run("experiments.bandwidth_sweep", tmp_path, "model=mlp", "experiment.snr_db=[10]",
             "experiment.bandwidth_ratio=[0.25,0.5]", "experiment.schemes=[noise_injection,expansion]",
             "baseline=digital_capacity", "scheme.pruning_kd.steps=1", "scheme.pruning_kd.finetune_epochs=1")
    assert r.returncode == 0, r.stderr[-3000:]
    rows = list(csv.DictReader(open(tmp_path / "out" / "results.csv")))
    assert {(row["scheme"], float(row["bandwidth_ratio"])) for row in rows} == {
        (s, b) for s in ("noise_injection", "expansion", "digital_capacity") for b in (0.25, 0.5)}
    assert all(int(row["channel_uses"]) <= int(row["budget_channel_uses"]) for row in rows)
    assert (tmp_path / "out" / "accuracy_vs_bandwidth.png").exists()


@pytest.mark.parametrize("channel,experiment", [("tdl", "snr_sweep"), ("cdl", "bandwidth_sweep")])
def test_ofdm_channels_in_both_sweeps(tmp_path, channel, experiment):
    # side information free: on this slow, nearly flat channel, side information protected for 64/64 blocks needs a
    # deep fading margin and would leave almost nothing for the model (see tests/test_side_info.py for counted)
    r = _run("experiments.sweep", tmp_path, f"experiment={experiment}", f"channel={channel}", "channel.csi=estimated",
             "side_info.mode=free",
             "model=mlp", "train.epochs=1", "experiment.snr_db=[10]", "experiment.bandwidth_ratio=[0.5,1.0]",
             "experiment.design_snr_db=[10]", "experiment.schemes=[noise_injection,pruning_kd_structured]",
             "scheme.pruning_kd.steps=1", "scheme.pruning_kd.finetune_epochs=1")
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    rows = list(csv.DictReader(open(tmp_path / "out" / "results.csv")))
    assert len(rows) == 4 and all(row["channel"] == channel for row in rows)
    assert all(int(row["channel_uses"]) <= int(row["budget_channel_uses"]) for row in rows)
    assert all(float(row["acc_mean"]) > 0.3 for row in rows)            # chance is 0.1


def test_flat_channel_with_estimated_csi_in_the_sweep(tmp_path):
    r = _run("experiments.sweep", tmp_path, "channel=rayleigh", "channel.csi=estimated", "channel.block_length=16",
             "model=mlp", "train.epochs=2", "experiment.snr_db=[10]", "experiment.schemes=[noise_injection]")
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]


def test_device_cuda_without_a_gpu_is_a_clear_error(tmp_path):
    import torch
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    r = _run("experiments.sweep", tmp_path, "device=cuda", "experiment.snr_db=[10]")
    assert r.returncode == 2 and "device='cuda' but torch sees no CUDA device" in r.stdout + r.stderr


def test_parallel_multirun_with_joblib_merges_into_one_csv_and_resumes(tmp_path):
    args = [sys.executable, "-m", "experiments.sweep", "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
            "experiment.snr_db=[0],[10]", "model=mlp", "train.epochs=1", "experiment.num_realizations=2",
            "experiment.schemes=[clean]", f"hydra.sweep.dir={tmp_path}/multi", "hydra.sweep.subdir=shared",
            f"cache_dir={tmp_path}/cache", "progress=false"]
    r = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    rows = list(csv.DictReader(open(tmp_path / "multi" / "shared" / "results.csv")))
    assert sorted(float(row["snr_db"]) for row in rows) == [0.0, 10.0]        # both workers' rows, merged
    # resuming: each worker's point is found in the merged store (what a second launch would skip)
    from airnet.store.results import ResultTable
    from airnet.run.sweep import KEY_COLUMNS
    table = ResultTable(tmp_path / "multi" / "shared" / "results.csv", KEY_COLUMNS)
    assert all(table.has(**{k: row[k] for k in KEY_COLUMNS}) for row in rows)


def test_sweep_aliases_accept_every_flag_of_the_driver(tmp_path):
    """experiments.snr_sweep / bandwidth_sweep add their experiment after the user's arguments, so -m, --cfg and
    --help work as with the main driver (the override used to split Hydra's positionals: 'unrecognized arguments')."""
    import subprocess
    import sys
    root = Path(__file__).resolve().parents[1]

    def run(module, *args):
        return subprocess.run([sys.executable, "-m", module, *args], cwd=root, capture_output=True, text=True,
                              timeout=300)

    multi = run("experiments.snr_sweep", "-m", "channel=awgn,rayleigh", "experiment.snr_db=[0]", "train.epochs=1",
                "model=mlp", "experiment.num_realizations=2", f"hydra.sweep.dir={tmp_path}/multi",
                f"cache_dir={tmp_path}/cache", "progress=false")
    assert multi.returncode == 0, multi.stderr[-2000:]
    assert sorted(p.name.split(",")[0] for p in (tmp_path / "multi").glob("channel=*")) == ["channel=awgn",
                                                                                           "channel=rayleigh"]
    job = run("experiments.bandwidth_sweep", "--cfg", "job")
    assert job.returncode == 0 and "name: bandwidth_sweep" in job.stdout
    assert run("experiments.snr_sweep", "--help").returncode == 0


def test_a_run_with_many_overrides_gets_a_short_folder(tmp_path):
    # Hydra names the folder after the overrides: 17 SNRs and 10 schemes once made a name over 255 bytes (OSError)
    snrs = ",".join(str(-10 + 2.5 * i) for i in range(17))
    cmd = [sys.executable, "-m", "experiments.sweep", f"experiment.snr_db=[{snrs}]", "experiment.schemes=[clean]",
           "model=mlp", "side_info.mode=free", "plan=true", "progress=false", "cache_dir=null"]
    r = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    (folder,) = (tmp_path / "outputs" / "snr_sweep").iterdir()
    assert len(folder.name) == 120 and folder.name.startswith("experiment.schemes=[clean],experiment.snr_db=[-10.0,")
    assert str(folder) in r.stdout                      # the plan names the folder the run would write
