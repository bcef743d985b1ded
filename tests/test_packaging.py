"""The wheel carries its configs and the console command runs the main job from an empty folder."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_the_wheel_runs_the_main_job_from_an_empty_folder(tmp_path):
    import zipfile
    run = lambda *cmd, **kw: subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)  # noqa: E731
    built = run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                str(tmp_path / "dist"), str(ROOT))
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("airnet-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert sum(n.startswith("experiments/conf/") and n.endswith(".yaml") for n in names) == len(
        list((ROOT / "conf").rglob("*.yaml")))                       # every config travels
    assert any(n.endswith("licenses/LICENSE") for n in names)
    # a fresh venv that reuses this environment's dependencies (no downloads) but not its editable airnet
    assert run(sys.executable, "-m", "venv", "--system-site-packages", str(tmp_path / "venv")).returncode == 0
    bin_dir = tmp_path / "venv" / "bin"
    installed = run(str(bin_dir / "pip"), "install", "-q", "--no-deps", str(wheel))
    assert installed.returncode == 0, installed.stderr[-2000:]
    empty = tmp_path / "empty"
    empty.mkdir()
    where = run(str(bin_dir / "python"), "-c", "import experiments, airnet, channels; print(experiments.__file__)",
                cwd=empty)
    assert where.stdout.strip().startswith(str(tmp_path / "venv")), where.stdout + where.stderr
    job = run(str(bin_dir / "airnet"), "sweep", "model=mlp", "train.epochs=1", "experiment.snr_db=[0,10]",
              "experiment.num_realizations=2", "progress=false", "cache_dir=.cache/airnet", cwd=empty)
    assert job.returncode == 0, job.stderr[-3000:]
    (csv,) = empty.glob("outputs/snr_sweep/*/results.csv")
    assert len(csv.read_text().splitlines()) == 1 + 4 and (csv.parent / "accuracy_vs_snr.png").is_file()
    helped = run(str(bin_dir / "airnet"), "rank", str(csv), cwd=empty)
    assert helped.returncode == 0 and "planned contrasts" in helped.stdout, helped.stderr[-2000:]
    assert run(str(bin_dir / "airnet"), "nosuch", cwd=empty).returncode == 2
