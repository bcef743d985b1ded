"""One small sweep on the CPU and, when torch sees one, on the GPU (``device=cuda``)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import torch

from benchmarks.common import Figure
from benchmarks.jobs import _job, _timed

SWEEP = ["experiment.snr_db=[0,10,20]", "experiment.schemes=[clean,noise_injection]", "side_info.mode=free"]


def run(quick: bool = False) -> list[Figure]:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        cpu = _timed(lambda: _job(tmp, "cpu", *SWEEP, "device=cpu"))
        if not torch.cuda.is_available():
            print("  (no CUDA device here: only the CPU time is measured; the device=cuda path is tested on CPU)")
            return [Figure("small sweep on the CPU (wall)", cpu, cpu, "s", "itself", "no GPU to compare")]
        gpu = _timed(lambda: _job(tmp, "gpu", *SWEEP, "device=cuda"))
        return [Figure("small sweep: CPU / GPU (wall)", cpu, gpu, "s", "GPU", "speed-up")]
