"""The run's own option objects: the experiment axes and the top-level run keys (typed, without Hydra).

Library users build these with :func:`airnet.config.options.build_options` from plain mappings; the Hydra driver
reads ``conf/sweep.yaml`` into them at the edge (``experiments/config.py``).
"""
from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch

from airnet.config.options import OptionError, within


@dataclass(frozen=True)
class DrawRule:
    """Sequential draws: after the first ``num_realizations`` draws of a point, draw as many again (doubling) until
    the 95 % t-interval half-width of the mean accuracy over the draws is at most ``half_width``, or ``max`` draws."""

    half_width: float
    max: int

    def __post_init__(self) -> None:
        within("experiment.draws_until.half_width", self.half_width, 0, 0.5, low_open=True)
        within("experiment.draws_until.max", self.max, 2)

    def done(self, accs: Sequence[float]) -> bool:
        """Whether ``accs`` (per-draw accuracies so far) meet the rule."""
        n = len(accs)
        if n >= self.max:
            return True
        if n < 2:
            return False
        from scipy import special

        mean = sum(accs) / n
        sd = math.sqrt(sum((a - mean) ** 2 for a in accs) / (n - 1))
        return float(special.stdtrit(n - 1, 0.975)) * sd / math.sqrt(n) <= self.half_width


@dataclass(frozen=True)
class ExperimentOptions:
    """``conf/experiment/*.yaml``: the sweep axes, the schemes, the draws per point (``num_realizations``; with a
    ``draws_until`` rule, the first batch), and the planned ``contrasts`` (pairs ``[A, B]`` tested as A - B by
    ``experiments.rank``; pairs with a scheme the run lacks are skipped)."""

    name: str
    x: Literal["snr_db", "bandwidth_ratio"]
    snr_db: tuple[float, ...]
    bandwidth_ratio: tuple[float, ...]
    num_realizations: int
    schemes: tuple[str, ...]
    seeds: tuple[int, ...]
    design_snr_db: tuple[float | None, ...]
    contrasts: tuple[tuple[str, str], ...]
    draws_until: DrawRule | None

    def __post_init__(self) -> None:
        bad_pairs = [list(c) for c in self.contrasts if len(c) != 2 or c[0] == c[1]]
        if bad_pairs:
            raise OptionError(f"experiment.contrasts must be pairs [A, B] of two schemes, got {bad_pairs}")
        if self.num_realizations < 1:
            raise OptionError(f"experiment.num_realizations must be at least 1, got {self.num_realizations}")
        if self.draws_until is not None and self.draws_until.max < self.num_realizations:
            raise OptionError(f"experiment.draws_until.max ({self.draws_until.max}) is below "
                              f"experiment.num_realizations ({self.num_realizations}), the first batch")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds) or min(self.seeds) < 0:
            raise OptionError(f"experiment.seeds must be distinct non-negative integers, got {list(self.seeds)}")
        if not self.design_snr_db:
            raise OptionError("experiment.design_snr_db is empty: give SNRs, or null for matched")
        bad = [r for r in self.bandwidth_ratio if not r > 0]
        if bad:
            raise OptionError(f"experiment.bandwidth_ratio must be positive, got {bad}")
        # a thousandth of the full model's channel uses carries nothing useful; 100x is more than any scheme uses
        bad = [r for r in self.bandwidth_ratio if not 1e-3 <= r <= 100]
        if bad:
            raise OptionError(f"experiment.bandwidth_ratio must lie in [0.001, 100] (channel uses per channel use "
                              f"of the full model), got {bad}")
        extreme = [s for s in (*self.snr_db, *(d for d in self.design_snr_db if d is not None)) if not -60 <= s <= 100]
        if extreme:
            raise OptionError(f"experiment.snr_db and design_snr_db must lie in [-60, 100] dB, got {extreme}")

    @property
    def panel(self) -> str:
        """The axis that is not the x-axis (one plot panel per value)."""
        return "bandwidth_ratio" if self.x == "snr_db" else "snr_db"


@dataclass(frozen=True)
class SideInfoOptions:
    """``side_info``: ``mode`` counted | free; ``link`` for analog schemes' side information: ``nr`` (as NR
    codes control messages: the cheaper of CRC-aided polar and LDPC up to 1,706 bits, LDPC above), ``ldpc``,
    ``polar``, or ``capacity`` (an ideal code); ``snr_db``: the SNR side information is protected for when the transmitter
    does not know the receiver's SNR: a number, or ``design`` (the point's design SNR minus ``margin_db``). Never
    derived from other points of a sweep. A matched transmitter protects it for the actual SNR."""

    mode: Literal["counted", "free"]
    link: Literal["nr", "ldpc", "polar", "capacity"]
    snr_db: float | Literal["design"]
    margin_db: float

    def __post_init__(self) -> None:
        if not 0 <= self.margin_db <= 60:
            raise ValueError(f"side_info.margin_db must be in [0, 60] dB, got {self.margin_db}")
        if not isinstance(self.snr_db, str) and not -60 <= self.snr_db <= 100:
            raise ValueError(f"side_info.snr_db must be design or an SNR in [-60, 100] dB, got {self.snr_db}")

    def describe(self) -> str:
        """How side information is paid for and protected, for captions and logs."""
        if self.mode == "free":
            return "side information free (assumed known at the receiver)"
        at = (f"design SNR - {self.margin_db:g} dB" if self.snr_db == "design" else f"{self.snr_db:g} dB")
        return f"side information counted ({self.link}), protected at {at} (matched: the actual SNR)"


@dataclass(frozen=True)
class RunOptions:
    """Top-level keys of ``conf/sweep.yaml``."""

    seed: int
    cache_dir: str | None
    progress: bool | Literal["auto"]
    plugins: tuple[str, ...]
    side_info: SideInfoOptions
    device: Literal["auto", "cpu", "cuda"] | str
    threads: int | Literal["auto"]
    workers: int | Literal["auto"]
    eval_precision: Literal["float32", "bfloat16"]
    plan: bool

    def __post_init__(self) -> None:
        within("seed", self.seed, 0, 2 ** 32 - 1)        # numpy's and scikit-learn's seed range
        if self.workers != "auto":
            within("workers", self.workers, 0, 256)

    def torch_threads(self, num_params: int) -> int:
        """Intra-op threads: ``auto`` is 1 for models under a million parameters, whose tiny ops gain nothing
        from more threads and thrash when several jobs share the cores; larger models get every core."""
        if self.threads == "auto":
            return 1 if num_params < 1_000_000 else (os.cpu_count() or 1)
        if self.threads < 1:
            raise OptionError(f"threads must be a positive integer or auto, got {self.threads}")
        return self.threads

    def worker_count(self, threads: int, cores: int, shared: bool = False) -> int:
        """Helper processes (:mod:`airnet.run.workers`): ``auto`` is one per ``threads`` of the ``cores`` the job
        leaves idle, none when the job shares the cores with other jobs of its multirun (``shared``: a parallel
        launcher); a number is taken as it is."""
        if self.workers == "auto":
            return 0 if shared else max(0, cores // max(1, threads) - 1)
        return self.workers

    def torch_device(self) -> torch.device:
        """``auto``: CUDA when available, else the CPU; ``cuda`` without a GPU is an error naming the key."""
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        try:
            device = torch.device(self.device)
        except RuntimeError as exc:
            raise OptionError(f"device must be auto, cpu, cuda or cuda:N, got {self.device!r}") from exc
        if device.type == "cuda" and not torch.cuda.is_available():
            raise OptionError(f"device={self.device!r} but torch sees no CUDA device (torch {torch.__version__}); "
                              f"use device=cpu or auto")
        return device

    @property
    def show_progress(self) -> bool:
        """Progress bars: on when asked, or (``auto``) when stderr is a terminal."""
        return sys.stderr.isatty() if self.progress == "auto" else bool(self.progress)


def value_list(spec: Any, name: str) -> list[float]:
    """Expand ``{start, stop, step}`` (inclusive) or a list/number into a non-empty list of finite floats.

    Input
    -----
    spec : mapping with start, stop, step; a sequence of numbers; or a number
    name : str, the config key (for error messages)

    Output
    ------
    : list of float

    Example
    -------
    >>> value_list({"start": -10, "stop": 0, "step": 5}, "experiment.snr_db")
    [-10.0, -5.0, 0.0]
    """
    if isinstance(spec, Mapping):
        try:
            start, stop, step = (float(spec[k]) for k in ("start", "stop", "step"))
        except (KeyError, TypeError, ValueError) as exc:
            raise OptionError(f"{name} range needs numbers start, stop and step, got {dict(spec)}") from exc
        if not step > 0 or stop < start:
            raise OptionError(f"{name} range needs step > 0 and stop >= start, got {dict(spec)}")
        n = int(math.floor((stop - start) / step + 1e-9)) + 1
        return [round(start + i * step, 10) for i in range(n)]
    items = list(spec) if isinstance(spec, Sequence) and not isinstance(spec, str) else [spec]
    values = []
    for v in items:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise OptionError(f"{name} must be finite numbers, got {v!r}")
        values.append(float(v))
    if not values:
        raise OptionError(f"{name} is empty")
    return values
