"""Whole jobs in subprocesses: the main job against its import floors (paired rounds), two jobs at once with all
threads vs ``threads=auto``, and a parallel (joblib) vs serial multirun."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from benchmarks.common import Figure

ROOT = Path(__file__).resolve().parents[1]


def _job(tmp: Path, tag: str, *overrides: str, env: dict | None = None, cache: str | None = None) -> subprocess.Popen:
    flags = [o for o in overrides if o.startswith("-")]            # Hydra wants -m before any override
    cmd = [sys.executable, "-m", "experiments.sweep", *flags, f"hydra.run.dir={tmp}/{tag}",
           f"cache_dir={tmp}/{cache or tag}-cache", "progress=false", *[o for o in overrides if not o.startswith("-")]]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def _timed(*starts) -> float:
    """Wall time from starting every process to the last one ending."""
    t = time.perf_counter()
    procs = [start() for start in starts]
    for p in procs:
        _, err = p.communicate()
        if p.returncode:
            raise RuntimeError(err[-2000:] if err else f"exit {p.returncode}")
    return time.perf_counter() - t


def _imports(code: str) -> Callable[[], subprocess.Popen]:
    return lambda: subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE, text=True)


# the import floor, and what the main job itself must import before any work: the driver, and Sionna's 5G
# codes for the side-information chain, imported as the job imports them (channels.sionna_import: without the
# compiler; sionna.phy brings matplotlib and SciPy). Not torch._dynamo: the training loop's optimizer
# (airnet.training.optimizer) no longer imports it
FLOOR = "import torch, hydra, sionna"
OWN_FLOOR = ("import torch, experiments.sweep; from channels.sionna_import import phy; phy(); "
             "import sionna.phy.fec.ldpc")


def main_job_rounds(tmp: Path, rounds: int) -> dict[str, list[float]]:
    """Wall seconds of ``rounds`` back-to-back rounds (paired: one machine state per round) of the import floors
    and the main job: cold (empty cache, new folder; its default workers), cold in one process (``workers=0``),
    with its models cached (new folder: scored and delivered again) and rerun (same folder: every point already in
    the CSV)."""
    out: dict[str, list[float]] = {k: [] for k in ("floor", "own floor", "cold", "cold, workers=0", "cached",
                                                    "rerun")}
    for r in range(rounds):
        out["floor"].append(_timed(_imports(FLOOR)))
        out["own floor"].append(_timed(_imports(OWN_FLOOR)))
        out["cold"].append(_timed(lambda: _job(tmp, f"main{r}")))
        out["cold, workers=0"].append(_timed(lambda: _job(tmp, f"alone{r}", "workers=0")))
        out["cached"].append(_timed(lambda: _job(tmp, f"again{r}", cache=f"main{r}")))
        out["rerun"].append(_timed(lambda: _job(tmp, f"main{r}")))
    return out


def run(quick: bool = False) -> list[Figure]:
    figs = []
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        t = main_job_rounds(tmp, 1 if quick else 3)
        # the median round of each pair's ratio: the pairs share the machine's state, the rounds need not
        for job, floor, target in (("cold", "floor", "target <= 4"), ("cold", "own floor", "its own floor"),
                                   ("cold, workers=0", "floor", "one process"),
                                   ("cached", "floor", "models cached"), ("rerun", "floor", "nothing to do")):
            ratios = [a / b for a, b in zip(t[job], t[floor])]
            i = sorted(range(len(ratios)), key=ratios.__getitem__)[len(ratios) // 2]
            figs.append(Figure(f"main job, {job} / {floor} (wall, median of {len(ratios)} paired)", t[job][i],
                               t[floor][i], "s", FLOOR if floor == "floor" else "+ driver, sionna.phy",
                               target))
        # threads alone: each job one process (workers=0), as jobs a user starts side by side should be
        small = ["experiment.snr_db=[0,10,20]", "train.epochs=10", "workers=0"]
        alone = _timed(lambda: _job(tmp, "a1", *small))
        many = {"OMP_NUM_THREADS": str(cores)}
        two_many = _timed(lambda: _job(tmp, "m1", *small, f"threads={cores}", env=many),
                          lambda: _job(tmp, "m2", *small, f"threads={cores}", env=many))
        two_auto = _timed(lambda: _job(tmp, "o1", *small), lambda: _job(tmp, "o2", *small))
        figs.append(Figure(f"two jobs at once: threads={cores} each / threads=auto", two_many, two_auto, "s",
                           "threads=auto (1)", "thrash factor"))
        figs.append(Figure("two jobs at once (auto) / one job alone", two_auto, alone, "s", "one job alone",
                           f"~1 on {cores} cores"))
        # two jobs with their own work (different training seeds), as a multirun over seeds would have
        sweep = ["-m", "experiment.seeds=[0],[1]", "experiment.snr_db=[0,5,10,20]",
                 "experiment.schemes=[clean,noise_injection]",
                 "side_info.mode=free", "workers=0"]
        serial = _timed(lambda: _job(tmp, "s", *sweep, f"hydra.sweep.dir={tmp}/ms"))
        parallel = _timed(lambda: _job(tmp, "p", *sweep, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                                       f"hydra.sweep.dir={tmp}/mp"))
        figs.append(Figure("multirun of 2 jobs: serial / joblib n_jobs=2", serial, parallel, "s", "parallel",
                           "speed-up"))
    return figs
