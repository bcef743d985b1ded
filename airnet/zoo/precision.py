"""Reduced precision where the hardware has it: bfloat16 for training (autocast) and scoring (bfloat16 weights).

bfloat16 pays only on hardware that computes it: CUDA GPUs and CPUs with AVX512-BF16 or AMX. A CPU without them
emulates it, 8-21x slower than float32 (measured on AVX2), so there the request falls back to float32 with a
warning (:func:`effective_precision`). On a 2-core Intel Xeon with AMX (``python -m benchmarks paper``) a ResNet-20
epoch under bfloat16 autocast took 0.50-0.59x the float32 time and scoring in bfloat16 0.33-0.40x; both change the
numbers (README).
"""
from __future__ import annotations

import contextlib
import logging
from typing import ContextManager, Literal

import torch

Precision = Literal["float32", "bfloat16"]
PRECISIONS: tuple[Precision, ...] = ("float32", "bfloat16")
_WARNED: set[str] = set()


def cpu_has_bf16() -> bool | None:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX; from ``/proc/cpuinfo``); None where that
    cannot be read (not Linux)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return None
    return "avx512_bf16" in flags or "amx_bf16" in flags


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 natively: any non-CPU device (CUDA), or a CPU with AVX512-BF16 or AMX
    (also where ``/proc/cpuinfo`` cannot be read: then it is not refused)."""
    return device.type != "cpu" or cpu_has_bf16() is not False


def effective_precision(precision: str, device: torch.device, key: str = "eval_precision") -> Precision:
    """``precision`` (the value of config ``key``), except ``bfloat16`` on a CPU without native bfloat16, where it
    is emulated and 8-21x slower than float32: float32, and a warning naming ``key`` (once per process).

    Input
    -----
    precision : "float32" | "bfloat16"
    device : torch.device
    key : str
        The config key it came from (for the messages).

    Output
    ------
    : "float32" | "bfloat16"
    """
    if precision not in PRECISIONS:
        raise ValueError(f"{key} must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "bfloat16" and not native_bf16(device):
        if key not in _WARNED:                        # once per key and process (the config edge asks again)
            _WARNED.add(key)
            logging.getLogger("airnet").warning(f"{key}=bfloat16: this CPU has no native bfloat16 (no AVX512-BF16 "
                                                f"or AMX), where it runs 8-21x slower than float32; using float32")
        return "float32"
    return "bfloat16" if precision == "bfloat16" else "float32"


def autocast(precision: str, device: torch.device) -> ContextManager[object]:
    """The context a training step's forward pass runs in: bfloat16 autocast (matmuls and convolutions in
    bfloat16; parameters and optimizer stay float32), or nothing. CPU autocast leaves ``log_softmax`` in bfloat16:
    the caller computes its loss on float32 logits (:func:`airnet.training.loop.train_model` does)."""
    if precision == "bfloat16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
