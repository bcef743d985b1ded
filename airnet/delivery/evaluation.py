"""Accuracy of received models, vectorized over K channel realizations with ``torch.func.vmap``."""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn
from torch.func import vmap

from channels import Channel
from airnet.zoo.models import as_model_input, runs_channels_last
from airnet.zoo.params import ParamLayout, call_with_vector, check_model_data, model_vector
from airnet.zoo.precision import PRECISIONS
from airnet.delivery.plan import TransmissionPlan
from airnet.delivery.transmit import transmit_vector


@dataclass(frozen=True)
class AccuracyStats:
    """Accuracy over K channel realizations."""

    mean: float
    std: float
    per_realization: tuple[float, ...]

    @classmethod
    def of(cls, accs: torch.Tensor) -> "AccuracyStats":
        accs = accs.double()
        std = float(accs.std(unbiased=True)) if accs.numel() > 1 else 0.0
        return cls(float(accs.mean()), std, tuple(accs.tolist()))


STRATEGIES = ("auto", "grouped", "copy", "vmap", "loop")


def distinct_rows(vecs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The distinct rows of ``vecs``, bit for bit, in order of first appearance, and each row's index among them.

    A digital payload that decodes whole gives the same model on every draw, and one that fails gives the
    fallback on every draw: those are scored once. Rows are grouped by a signature of their bits and then compared
    exactly, so rows are merged only when every bit agrees (0.0 and -0.0 stay apart).

    Input
    -----
    vecs : [K, n], float

    Output
    ------
    distinct : [U, n], same dtype (``vecs`` itself when every row differs)
    index : [K], long, ``distinct[index] == vecs`` bit for bit
    """
    k = vecs.shape[0]
    if k < 2:
        return vecs, torch.arange(k, device=vecs.device)
    bits = vecs.contiguous().view({2: torch.int16, 4: torch.int32, 8: torch.int64}[vecs.element_size()])
    # a signature of 64 spread entries groups candidates; only rows whose signatures agree are compared in full
    cols = torch.linspace(0, bits.shape[1] - 1, min(bits.shape[1], 64), device=vecs.device).long()
    signatures = [tuple(row) for row in bits[:, cols].tolist()]
    groups: dict[tuple[int, ...], list[int]] = {}
    index = [0] * k
    keep: list[int] = []
    for i, sig in enumerate(signatures):
        for u in groups.setdefault(sig, []):
            if torch.equal(bits[keep[u]], bits[i]):
                index[i] = u
                break
        else:
            groups[sig].append(len(keep))
            index[i] = len(keep)
            keep.append(i)
    idx = torch.tensor(index, device=vecs.device)
    return (vecs if len(keep) == k else vecs[keep]), idx


@dataclass(frozen=True)
class ScoringPlan:
    """How :func:`accuracy_of_vectors` runs: ``strategy``, images per pass ``batch_size``, realizations per pass
    ``realization_chunk`` (grouped and vmap stack that many)."""

    strategy: str
    batch_size: int
    realization_chunk: int


#: images per pass tried by :func:`tune_scoring`; realizations stacked per pass while measuring (and then)
BATCH_CANDIDATES = (16, 32, 64, 128, 256, 512, 1024, 4096)
TUNE_REALIZATIONS = 32
TUNE_IMAGES = 256
TUNE_SECONDS = 0.02      # measure on more images (and repeat short timings) up to about this long
STACK_BELOW_S = 0.02    # a copy pass over TUNE_IMAGES faster than this: also try stacking strategies
DEFAULT_BATCH, DEFAULT_CHUNK = 256, 64       # an explicit strategy without sizes
# of the measurement procedure (3: in the model's input layout): a change invalidates the plans stored on disk
PLAN_VERSION = 3
_PLANS: dict[str, ScoringPlan] = {}


def scoring_key(model: nn.Module, x: torch.Tensor, precision: str = "float32") -> str:
    """What the fastest plan depends on: the architecture (class and parameter shapes), the image shape and layout,
    the device, torch's thread count and version, the CPU, the measurement procedure (:data:`PLAN_VERSION`) and the
    precision (bfloat16 only: the float32 plans keep their keys); a 16-character digest."""
    shapes = [tuple(p.shape) for p in model.parameters()]
    cpu = platform.processor() or platform.machine()
    layout = "|channels_last" if x.dim() == 4 and runs_channels_last(model, x.device) else ""
    half = "" if precision == "float32" else f"|{precision}"
    text = (f"v{PLAN_VERSION}|{type(model).__module__}.{type(model).__qualname__}|{shapes}|{tuple(x.shape[1:])}|{x.device.type}|"
            f"{torch.get_num_threads()}|{torch.__version__}|{cpu}{layout}{half}")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def strategies_for(model: nn.Module) -> list[str]:
    """The strategies that apply to ``model``: ``copy`` and ``vmap`` always, ``grouped`` with ``forward_grouped``."""
    return ["copy", *(["grouped"] if hasattr(model, "forward_grouped") else []), "vmap"]


def user_plan_file() -> Path | None:
    """This machine's scoring plans, shared by every run and process: ``$AIRNET_CACHE_HOME/scoring-plans.json``
    (default ``$XDG_CACHE_HOME/airnet``, else ``~/.cache/airnet``), as autotuners keep theirs;
    ``AIRNET_CACHE_HOME=none`` turns it off."""
    home = os.environ.get("AIRNET_CACHE_HOME")
    if home is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        home = os.path.join(base, "airnet")
    return None if home.lower() == "none" else Path(home) / "scoring-plans.json"


def tune_scoring(model: nn.Module, x: torch.Tensor, cache_file: str | os.PathLike[str] | None = None,
                 precision: str = "float32") -> ScoringPlan:
    """The fastest :class:`ScoringPlan` for ``model`` on images like ``x`` [N, ...] in ``precision``, measured once
    per :func:`scoring_key`: remembered in this process, in ``cache_file`` where given (a sweep's cache folder, so
    reruns with that cache reuse the choice) and in :func:`user_plan_file` (so other runs on this machine do).
    bfloat16 scores by ``copy`` only (the model cast once), so only its batch size is measured: on an AMX CPU
    ResNet-20 is fastest at batch 64 there, at 16 in float32.

    The measurement scores copies of the model's weights (2 for ``copy``, ``TUNE_REALIZATIONS`` stacked for the
    others) on the whole set where a pass over it is cheap, else on ``TUNE_IMAGES`` images, batch sizes growing from
    16 until time per image gets worse, and keeps the fastest. Stacking strategies are tried only where a ``copy``
    pass is short (``STACK_BELOW_S``): a longer pass already keeps the core busy. ``copy`` is K plain forward
    passes plus a weight copy each, so the plan is never slower than K bare passes beyond that copy and timing
    noise. Strategies give the same accuracies up to float rounding (a prediction flips only
    where two logits tie to ~1e-6); ``tests/test_airnet_core.py`` checks they agree on the built-in models.
    Measured (``python -m benchmarks evaluation``): ResNet-20 on a 2-core AVX2 CPU runs at 76 % of the matmul peak
    at batch 32 and 28 % at batch 1,024.
    """
    x = as_model_input(model, x)                 # measured in the layout the model is scored in
    key = scoring_key(model, x, precision)
    if key in _PLANS:
        return _PLANS[key]
    user = user_plan_file()
    paths = [p for p in (Path(cache_file) if cache_file is not None else None, user) if p is not None]
    for path in paths:
        stored = _read_plans(path)
        if key in stored:
            _PLANS[key] = ScoringPlan(**stored[key])
            for other in paths:
                if other != path:
                    _write_plan(other, key, _PLANS[key])
            return _PLANS[key]
    was_training = model.training
    model.eval()
    try:
        plan = _measure(model, x, precision)
    finally:
        model.train(was_training)
    _PLANS[key] = plan
    for path in paths:
        _write_plan(path, key, plan)
    return plan


def _write_plan(path: Path, key: str, plan: ScoringPlan) -> None:
    """Add ``key`` to the JSON file at ``path`` (atomically; an unwritable place is skipped: the plan is only a
    cache). Another process's concurrent entry may be lost; it is measured again."""
    try:
        stored = {**_read_plans(path), key: dataclasses.asdict(plan)}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(stored, indent=1, sort_keys=True))
        os.replace(tmp, path)
    except OSError:
        pass


def _read_plans(path: Path | None) -> dict[str, dict[str, Any]]:
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}                                   # unreadable: measure again and rewrite
    return {k: v for k, v in data.items() if isinstance(v, dict) and set(v) == {"strategy", "batch_size",
                                                                                   "realization_chunk"}}


@torch.no_grad()
def _measure(model: nn.Module, x: torch.Tensor, precision: str = "float32") -> ScoringPlan:
    layout = ParamLayout.of(model)
    w = model_vector(model).to(x.device)

    def per_vector(plan: ScoringPlan, k: int, sub: torch.Tensor, warm_up: bool = False) -> float:
        """Seconds per realization: the best of up to 3 calls (while they are short), after a warm-up call for a
        strategy's first size (kernels, caches)."""
        vecs = w.expand(k, layout.total).contiguous()
        y = torch.zeros(sub.shape[0], dtype=torch.long, device=x.device)
        run = lambda: _score(model, vecs, sub, y, plan, precision, layout)  # noqa: E731
        if warm_up:
            run()
        times = [_time(run, x.device)]
        while len(times) < 3 and sum(times) < TUNE_SECONDS:
            times.append(_time(run, x.device))
        return min(times) / k

    # images to measure on: the whole set where that is cheap (so "one pass over everything" is a candidate),
    # else TUNE_IMAGES, enough for the batch sizes that win on a CPU
    probe = x[:min(len(x), 64)]
    per_image = per_vector(ScoringPlan("copy", probe.shape[0], 1), 1, probe, warm_up=True) / probe.shape[0]
    cap = max(TUNE_IMAGES, int(TUNE_SECONDS / max(per_image, 1e-9)))
    sub = x[:min(len(x), cap, max(BATCH_CANDIDATES))]

    def sweep_batches(strategy: str, k: int, beat: float = float("inf")) -> tuple[float, ScoringPlan]:
        """Batch sizes growing from the smallest until the time per image gets worse (or is twice ``beat``, the
        best plan so far, which it will not catch up with): the best, as (seconds per realization and image, plan).
        A batch larger than the measuring set is measured on that many images (up to the whole set)."""
        found: tuple[float, ScoringPlan] | None = None
        worse = 0
        sizes = sorted({min(b, len(x)) for b in BATCH_CANDIDATES})
        for i, b in enumerate(sizes):
            plan = ScoringPlan(strategy, b, k)
            images = x[:max(sub.shape[0], b)]
            t = per_vector(plan, k, images, warm_up=i == 0) / images.shape[0]
            worse = worse + 1 if found is not None and t > 1.15 * found[0] else 0
            if worse == 2 or t > 2 * beat:                 # past the sweet spot (twice: timing noise), or hopeless
                if found is None:
                    found = (t, plan)
                break
            if found is None or t < found[0]:
                found = (t, plan)
        assert found is not None
        return found

    best = sweep_batches("copy", 2)                     # K plain passes: the floor every plan must beat
    if best[0] * sub.shape[0] < STACK_BELOW_S and precision == "float32":
        # stacking realizations pays where one pass leaves the core idle (small models); a pass that already
        # takes longer is compute-bound, and stacking only adds memory traffic (1.2x slower at 9.5M weights)
        for strategy in strategies_for(model)[1:]:
            found = sweep_batches(strategy, TUNE_REALIZATIONS, best[0])
            if found[0] < best[0]:
                best = found
    return best[1]


def _time(fn: Callable[[], object], device: torch.device) -> float:
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


@torch.no_grad()
def accuracy_of_vectors(model: nn.Module, vecs: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                        batch_size: int | None = None, realization_chunk: int | None = None, strategy: str = "auto",
                        precision: str = "float32", plan_cache: str | os.PathLike[str] | None = None) -> torch.Tensor:
    """Accuracy of ``model`` with each flat parameter vector of ``vecs``.

    Input
    -----
    model : nn.Module
    vecs : [K, n], float
        One parameter vector per channel realization; rows equal bit for bit are scored once
        (:func:`distinct_rows`).
    x : [N, ...], float; y : [N], long
    batch_size, realization_chunk : int, optional
        Images and realizations per pass; by default those of the measured plan (:func:`tune_scoring`).
    strategy : "auto" | "grouped" | "copy" | "vmap" | "loop"
        Same results, different speed; ``auto``: the fastest measured for this model and device
        (:func:`tune_scoring`, cached in ``plan_cache`` where given).
    precision : "float32" | "bfloat16"
        Scoring precision; bfloat16 (with channels_last for conv nets) is faster on hardware that has it and may
        flip a few borderline predictions (measured in benchmarks/evaluation.py).

    Output
    ------
    : [K], float64 accuracies

    Example
    -------
    >>> accs = accuracy_of_vectors(model, received, data.x_test, data.y_test)   # doctest: +SKIP
    """
    if vecs.dim() != 2:
        raise ValueError(f"vecs must be [K, n], got shape {tuple(vecs.shape)}")
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {STRATEGIES}")
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {PRECISIONS}")
    model.eval()
    check_model_data(model, x)
    x = as_model_input(model, x)
    vecs = vecs.to(x.device)
    layout = ParamLayout.of(model)
    if vecs.shape[1] != layout.total:
        raise ValueError(f"vectors have {vecs.shape[1]} entries, the model has {layout.total} parameters")
    if strategy == "grouped" and not hasattr(model, "forward_grouped"):
        raise ValueError(f"strategy 'grouped' needs a model with forward_grouped(params, x); "
                         f"{type(model).__name__} has none")
    if strategy == "auto":
        tuned = tune_scoring(model, x, plan_cache, precision)
    else:
        tuned = ScoringPlan(strategy, DEFAULT_BATCH, DEFAULT_CHUNK)
    plan = ScoringPlan(tuned.strategy, batch_size or tuned.batch_size, realization_chunk or tuned.realization_chunk)
    distinct, index = distinct_rows(vecs)                 # the same model on several draws is scored once
    return _score(model, distinct, x, y, plan, precision, layout)[index.cpu()]


def _score(model: nn.Module, vecs: torch.Tensor, x: torch.Tensor, y: torch.Tensor, plan: ScoringPlan,
           precision: str, layout: ParamLayout) -> torch.Tensor:
    """Accuracies [K] by ``plan`` (inputs checked by the caller)."""
    if precision == "bfloat16" or plan.strategy == "copy":
        return _accuracy_by_copy(model, vecs, x, y, plan.batch_size, precision, layout)
    if plan.strategy == "loop":
        return accuracy_of_vectors_loop(model, vecs, x, y, plan.batch_size)
    correct = torch.zeros(vecs.shape[0], dtype=torch.long, device=vecs.device)

    def predict(v: torch.Tensor, xb: torch.Tensor) -> torch.Tensor:
        return call_with_vector(model, v, xb, layout).argmax(dim=-1)

    batched: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    if plan.strategy == "grouped":
        grouped = getattr(model, "forward_grouped")

        def batched(v: torch.Tensor, xb: torch.Tensor) -> torch.Tensor:
            return grouped(layout.unflatten(v), xb).argmax(dim=-1)
    else:
        batched = vmap(predict, in_dims=(0, None))
    for k in range(0, vecs.shape[0], plan.realization_chunk):
        vk = vecs[k:k + plan.realization_chunk]
        for i in range(0, x.shape[0], plan.batch_size):
            pred = batched(vk, x[i:i + plan.batch_size])
            correct[k:k + vk.shape[0]] += (pred == y[i:i + plan.batch_size]).sum(dim=1)
    return correct.double().cpu() / x.shape[0]


def _accuracy_by_copy(model: nn.Module, vecs: torch.Tensor, x: torch.Tensor, y: torch.Tensor, batch_size: int,
                      precision: str, layout: ParamLayout) -> torch.Tensor:
    """Copy each vector into one working copy of the model and run plain forward passes (no functional_call)."""
    work = copy.deepcopy(model)
    params: list[torch.Tensor] = list(work.parameters())
    if precision == "bfloat16":
        work = work.to(torch.bfloat16)
        x = x.to(torch.bfloat16)
        if x.dim() == 4:
            work = work.to(memory_format=torch.channels_last)   # type: ignore[call-overload]  # torch's stub lacks it
            x = x.contiguous(memory_format=torch.channels_last)
        params = list(work.parameters())
    preds = torch.empty(vecs.shape[0], x.shape[0], dtype=torch.long, device=vecs.device)
    for k, v in enumerate(vecs):
        torch._foreach_copy_(params, list(layout.unflatten(v).values()))     # registration order = params order
        for i in range(0, x.shape[0], batch_size):
            preds[k, i:i + batch_size] = work(x[i:i + batch_size]).argmax(-1)
    return (preds == y).sum(dim=1).double().cpu() / x.shape[0]


@torch.no_grad()
def accuracy_of_vectors_loop(model: nn.Module, vecs: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                             batch_size: int = DEFAULT_BATCH) -> torch.Tensor:
    """Same as :func:`accuracy_of_vectors` with a Python loop of ``functional_call`` passes: [K]."""
    model.eval()
    layout = ParamLayout.of(model)
    correct = torch.zeros(vecs.shape[0], dtype=torch.long, device=vecs.device)
    for k, v in enumerate(vecs):
        for i in range(0, x.shape[0], batch_size):
            correct[k] += (call_with_vector(model, v, x[i:i + batch_size], layout).argmax(-1)
                           == y[i:i + batch_size]).sum()
    return correct.double().cpu() / x.shape[0]


def evaluate_over_channel(model: nn.Module, w: torch.Tensor, channel: Channel, snr_db: float,
                          num_realizations: int, x: torch.Tensor, y: torch.Tensor,
                          generator: torch.Generator | None = None, plan: TransmissionPlan | None = None,
                          combiner: str | None = None) -> AccuracyStats:
    """Send weight vector w [n] over K channel draws (one batched call) and score each received model."""
    rx = transmit_vector(w, channel, snr_db, num_realizations, plan, generator, combiner)
    return AccuracyStats.of(accuracy_of_vectors(model, rx, x, y))
