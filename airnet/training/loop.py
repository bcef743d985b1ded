"""The training loop over the flat parameter vector: weight noise, pruning mask, distillation, nested views."""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import time
import typing
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Literal, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from airnet.config.options import within
from airnet.training.distillation import distillation_loss
from airnet.training.optimizer import Adam
from airnet.zoo.models import as_model_input
from airnet.zoo.params import ParamLayout, call_with_vector, check_model_data
from airnet.zoo.precision import PRECISIONS, Precision, autocast

WeightNoise = Callable[[torch.Tensor], torch.Tensor]
NoiseStream = Literal["auto", "fresh", "pool"]


@dataclass(frozen=True)
class TrainSettings:
    """Optimizer settings (values from ``conf/train/``; Adam with a cosine schedule)."""

    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    # noise injection's standard normals (training.noise.ChannelNoise): fresh | pool | auto
    noise_stream: NoiseStream
    # the noise-injected model: fine-tuned from the clean model for this many epochs at noise_finetune_lr
    # (0: trained from scratch for ``epochs`` at ``lr``)
    noise_finetune_epochs: int
    noise_finetune_lr: float
    # float32 | bfloat16: the forward pass under bfloat16 autocast, the loss on float32 logits (parameters,
    # gradients and Adam stay float32); only where the hardware has it (airnet.zoo.precision)
    precision: Precision

    def __post_init__(self) -> None:
        within("epochs", self.epochs, 0)
        within("batch_size", self.batch_size, 1)
        within("lr", self.lr, 0, 1, low_open=True)
        within("noise_finetune_epochs", self.noise_finetune_epochs, 0)
        within("noise_finetune_lr", self.noise_finetune_lr, 0, 1, low_open=True)
        within("weight_decay", self.weight_decay, 0, 1)     # an L2 coefficient; above 1 the weights collapse
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.noise_stream not in typing.get_args(NoiseStream):
            raise ValueError(f"noise_stream must be one of {', '.join(typing.get_args(NoiseStream))}, "
                             f"got {self.noise_stream!r}")

    def replace(self, **changes: Any) -> "TrainSettings":
        """These settings with ``changes`` (e.g. a fine-tuning phase's epochs and learning rate)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Distillation:
    """A teacher model and the KD loss weights."""

    teacher: nn.Module
    temperature: float
    alpha: float


@dataclass(frozen=True)
class View:
    """One network the loss is taken on: the weights times ``mask`` [n] (None: all), perturbed by ``noise``.

    ``teacher``: ``"model"`` distils from the :class:`Distillation` teacher (or uses labels without one);
    ``"first"`` distils in place from the first view's logits of the same step (sandwich training).
    """

    mask: torch.Tensor | None = None
    noise: WeightNoise | None = None     # with a ``perturbation(w) -> delta`` method: straight-through (w + delta)
    teacher: str = "model"


PROBE_BATCHES = 8    # a kind's probe times epochs of this many batches
PROBE_REPEATS = 3    # and keeps the fastest of this many runs


@dataclass
class TrainingKind:
    """One kind of training the tally saw (its path through :func:`train_model`, noise, mask, teacher): its sample
    passes, and ``probe``, which times this kind of training for real on a copy of the first such model."""

    sample_passes: int
    probe: Callable[[], float]


@dataclass
class TrainingTally:
    """What :func:`train_model` would have done inside :func:`tally_training`: calls, sample passes
    (samples x epochs x views, each a forward and a backward pass), teacher passes (samples: a distillation
    teacher's logits are computed once per teacher, data and batch size, :func:`teacher_logits`), and the sample
    passes of each kind of training (``kinds``, by :func:`training_kind`: a mask, a per-step weight function such
    as QAT, or several views cost more than a clean step, most on small models)."""

    calls: int = 0
    sample_passes: int = 0
    teacher_passes: int = 0
    kinds: dict[str, TrainingKind] = dataclasses.field(default_factory=dict)
    # samples of every distilling training: its teacher's passes if each computed the logits anew (the rule before)
    distilling_samples: int = 0
    # the (teacher, data, batch size) whose logits a real run would already hold (:func:`teacher_logits`)
    teachers_seen: set[tuple[Any, ...]] = dataclasses.field(default_factory=set)


def training_kind(weight_noise: WeightNoise | None, mask: torch.Tensor | None, distill: Distillation | None,
                  views: Sequence[View] | Callable[[], Sequence[View]] | None, mask_update: MaskUpdate | None) -> str:
    """A short name of what one step of :func:`train_model` runs with these arguments: its path (``module``: the
    module's own forward, for one view with straight-through noise or none and no mask but the hard one;
    ``vector``: a functional call on the flat weight vector) and what it adds, e.g. ``"module"`` (clean),
    ``"module: mask, QuantizationNoise, KD"`` (a QAT fine-tune) or ``"vector: 3 views, ChannelNoise, KD"``."""
    if views is None:
        parts = ["mask"] if mask is not None else []
        parts += [type(weight_noise).__name__] if weight_noise is not None else []
    elif callable(views):
        parts = ["views (drawn per step)"]
    else:
        parts = [f"{len(views)} views", *sorted({type(v.noise).__name__ for v in views if v.noise is not None})]
    direct = not callable(views) and _runs_directly([View(mask, weight_noise)] if views is None else views,
                                                    views is None, mask_update)
    path = "module" if direct else "vector"
    parts += ["KD"] if distill is not None else []
    parts += ["mask updates"] if mask_update is not None else []
    return f"{path}: {', '.join(parts)}" if parts else path


def training_probe(model: nn.Module, x: torch.Tensor, y: torch.Tensor, settings: TrainSettings,
                   device: torch.device, passes_per_sample: int = 1, **kwargs: Any) -> Callable[[], float]:
    """A function that measures the seconds per sample pass of ``train_model(model, x, y, settings, ...,
    **kwargs)`` on a copy of ``model`` (taken now) and the first ``PROBE_BATCHES`` batches: the fastest of
    ``PROBE_REPEATS`` 2-epoch runs minus the fastest 1-epoch run (after a warm-up epoch), so that one-time work
    (the optimizer, a teacher's logits) cancels and a busy machine's slow runs drop out; divided by
    ``passes_per_sample`` (the views each sample is counted for)."""
    clone = copy.deepcopy(model)
    m = min(x.shape[0], PROBE_BATCHES * settings.batch_size)
    xs, ys = x[:m], y[:m]

    def probe() -> float:
        def seconds(epochs: int) -> float:
            g = torch.Generator(device=device).manual_seed(0)
            t = time.perf_counter()
            train_model(clone, xs, ys, settings.replace(epochs=epochs), g, **kwargs)
            return time.perf_counter() - t

        seconds(1)
        one, two = math.inf, math.inf
        for _ in range(PROBE_REPEATS):
            one, two = min(one, seconds(1)), min(two, seconds(2))
        per_epoch = two - one if two > one else two / 2      # a noisy clock: never below zero
        return per_epoch / (m * passes_per_sample)

    return probe


_TALLY: TrainingTally | None = None


@contextlib.contextmanager
def tally_training() -> Iterator[TrainingTally]:
    """Within this block :func:`train_model` counts its work and returns at once, leaving the model untrained (a
    sweep's dry run, ``plan=true``). Not thread-safe; nested blocks share the outer tally."""
    global _TALLY
    outer = _TALLY
    _TALLY = outer or TrainingTally()
    try:
        yield _TALLY
    finally:
        _TALLY = outer


MaskUpdate = Callable[[int, nn.Module, torch.Tensor, torch.Tensor, torch.Tensor], "torch.Tensor | None"]


def flat_params(model: nn.Module) -> torch.Tensor:
    """Differentiable concatenation of all parameters: [n]."""
    return torch.cat([p.reshape(-1) for p in model.parameters()])


# a teacher's logits on a data set, per (teacher, data, batch size): the sweep distills one clean model into every
# pruned, expanded, nested and digital candidate, over the same training set
_LOGITS: "weakref.WeakKeyDictionary[nn.Module, dict[tuple[Any, ...], tuple[torch.Tensor, torch.Tensor]]]" = \
    weakref.WeakKeyDictionary()


def _logits_key(teacher: nn.Module, x: torch.Tensor, batch_size: int) -> tuple[Any, ...]:
    """What a teacher's logits on ``x`` depend on besides the fixed way :func:`teacher_logits` computes them (eval
    mode, no grad, the teacher's input layout): the teacher's tensors as they are now (an in-place update bumps a
    tensor's version), the data's storage, version, shape, dtype and device, and the batch size (batches of other
    sizes may round differently)."""
    state = tuple((t.data_ptr(), t._version) for t in [*teacher.parameters(), *teacher.buffers()])
    return (id(teacher), state, x.data_ptr(), x._version, tuple(x.shape), x.dtype, x.device, int(batch_size))


def teacher_logits(teacher: nn.Module, x: torch.Tensor, batch_size: int) -> torch.Tensor:
    """The logits of ``teacher`` (put in eval mode) on ``x``, in batches of ``batch_size``, computed once per
    teacher, data and batch size and kept while the teacher lives: bit for bit those of computing them again.

    Input
    -----
    teacher : nn.Module
    x : [N, ...], float
    batch_size : int

    Output
    ------
    : [N, classes], float, no grad
    """
    teacher.eval()
    held = _LOGITS.setdefault(teacher, {})
    key = _logits_key(teacher, x, batch_size)
    hit = held.get(key)
    if hit is not None and hit[0] is x:
        return hit[1]
    with torch.no_grad():
        logits = torch.cat([teacher(as_model_input(teacher, x[i:i + batch_size]))
                            for i in range(0, x.shape[0], batch_size)])
    held.clear()                                   # the teacher's older states or other data: not needed again
    held[key] = (x, logits)
    return logits


def train_model(model: nn.Module, x: torch.Tensor, y: torch.Tensor, settings: TrainSettings,
                generator: torch.Generator, weight_noise: WeightNoise | None = None,
                mask: torch.Tensor | None = None, distill: Distillation | None = None,
                views: Sequence[View] | Callable[[], Sequence[View]] | None = None,
                mask_update: MaskUpdate | None = None, desc: str | None = None) -> list[float]:
    """Train ``model`` in place; return the mean loss of each epoch.

    Each step builds the flat weight vector and, for every view, zeroes its masked-out entries, perturbs it with
    its noise (e.g. :class:`airnet.training.noise.ChannelNoise`) and runs the model functionally on it; the loss
    is the mean over views (cross-entropy, or the KD loss with ``distill``).

    Input
    -----
    model : nn.Module
    x : [N, ...], float; y : [N], long
    settings : TrainSettings
    generator : torch.Generator
        Batch order and (through the views' noise) the injected noise.
    weight_noise : callable [n] -> [n], optional
        Noise of the single default view.
    mask : [n], bool, optional
        Hard pruning: these weights are zeroed before training and after every step (also the default view's mask).
    distill : Distillation, optional
    views : sequence of View, or a callable returning one per step, optional
        Several networks sharing the weights (spectrum training); replaces the default view ``(mask, weight_noise)``.
        A callable draws the step's views (e.g. random widths of the sandwich rule).
    mask_update : callable (step, model, mask, xb, yb) -> new mask or None, optional
        Called after every optimizer step with the hard mask (e.g. RigL's drop and regrow); a returned mask
        replaces it (and the default view's) from the next step on.
    desc : str, optional
        Progress-bar label (no bar when None).

    Output
    ------
    : list of float, one loss per epoch
    """
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x has {x.shape[0]} samples but y has {y.shape[0]}")
    check_model_data(model, x)
    if mask_update is not None and mask is None:
        raise ValueError("mask_update needs the hard mask it updates: pass mask")
    if _TALLY is not None:
        nviews = 1 if views is None or callable(views) else max(1, len(list(views)))
        passes = x.shape[0] * settings.epochs * nviews
        _TALLY.calls += 1
        _TALLY.sample_passes += passes
        if distill is not None:
            _TALLY.distilling_samples += x.shape[0]
            held = _logits_key(distill.teacher, x, settings.batch_size)
            if held not in _TALLY.teachers_seen:                      # once per teacher and data: the logits are kept
                _TALLY.teachers_seen.add(held)
                _TALLY.teacher_passes += x.shape[0]
        kind = training_kind(weight_noise, mask, distill, views, mask_update)
        seen = _TALLY.kinds.get(kind)
        if seen is None:
            seen = _TALLY.kinds[kind] = TrainingKind(0, training_probe(
                model, x, y, settings, generator.device, nviews, weight_noise=weight_noise, mask=mask,
                distill=distill, views=views, mask_update=mask_update))
        seen.sample_passes += passes
        model.eval()
        return [0.0] * settings.epochs
    layout = ParamLayout.of(model)
    maskf = None
    if mask is not None:
        if mask.shape != (layout.total,):
            raise ValueError(f"mask has shape {tuple(mask.shape)}, the model has {layout.total} parameters")
        maskf = mask.to(torch.float32)
        _apply_mask(model, maskf)
    if callable(views):
        draw_views = views
    else:
        fixed = list(views) if views is not None else [View(mask, weight_noise)]
        if not fixed:
            raise ValueError("train_model needs at least one view")
        draw_views = lambda: fixed  # noqa: E731
    step = 0
    params = list(model.parameters())
    flat: _FlatParams | None = None          # set up on the first step with in-place noise
    # foreach: one kernel per op over all tensors (the CPU default loops per tensor); identical numbers.
    # airnet.training.optimizer.Adam: torch's Adam, without importing the compiler (1.2-1.5 s) when none runs
    opt = Adam(params, lr=settings.lr, weight_decay=settings.weight_decay, foreach=True)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, settings.epochs))
    t_all = None if distill is None else teacher_logits(distill.teacher, x, settings.batch_size)
    history: list[float] = []
    epochs = tqdm(range(settings.epochs), desc=desc, leave=False, disable=desc is None)
    for _ in epochs:
        model.train()
        perm = torch.randperm(x.shape[0], generator=generator, device=generator.device)
        total, count = 0.0, 0
        for i in range(0, x.shape[0], settings.batch_size):
            idx = perm[i:i + settings.batch_size]
            xb, yb = as_model_input(model, x[idx]), y[idx]
            t_logits = None if t_all is None else t_all[idx]
            step_views = draw_views() if views is not None else [View(mask, weight_noise)]
            direct = _runs_directly(step_views, views is None, mask_update)
            noise = step_views[0].noise if direct else None
            if noise is not None:
                flat = flat or _FlatParams(params)
                flat.perturb(noise)
            try:
                w = None if direct else flat_params(model)
                first: torch.Tensor | None = None
                loss: torch.Tensor | None = None
                with autocast(settings.precision, xb.device):
                    for view in step_views:
                        logits = (model(xb) if w is None
                                  else call_with_vector(model, _view_weights(w, view), xb, layout))
                        # the loss in float32: CPU autocast keeps log_softmax in bfloat16 (CUDA's does not), and
                        # KD's KL between close distributions then rounds to noise
                        logits = logits.float()
                        soft = first.detach() if view.teacher == "first" and first is not None else t_logits
                        first = logits if first is None else first
                        if soft is None:
                            term = F.cross_entropy(logits, yb)
                        elif distill is None:
                            raise ValueError("in-place distillation (View.teacher='first') takes its temperature "
                                             "and weight from distill: pass a Distillation")
                        else:
                            term = distillation_loss(logits, soft, yb, distill.temperature, distill.alpha)
                        loss = term if loss is None else loss + term
                assert loss is not None                     # at least one view (checked above)
                loss = loss / len(step_views)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if direct and maskf is not None:     # the flat-vector path's gradient: d(w * mask)/dw = mask
                    _apply_mask(model, maskf, grads=True)
            finally:
                if flat is not None and noise is not None:   # the exact weights back before the optimizer step
                    flat.restore()
            opt.step()
            step += 1
            if mask_update is not None and mask is not None:
                new = mask_update(step, model, mask, xb, yb)
                if new is not None:
                    mask, maskf = new, new.to(torch.float32)
            if maskf is not None:
                _apply_mask(model, maskf)
            value = loss.item()
            if not math.isfinite(value):
                raise FloatingPointError(f"training diverged: the loss is {value} at epoch {len(history) + 1}, "
                                         f"samples {i}..{i + len(idx) - 1} (lower the learning rate)")
            total += value * len(idx)
            count += len(idx)
        sched.step()
        history.append(total / max(count, 1))
        epochs.set_postfix(loss=f"{history[-1]:.3f}")
    if flat is not None:
        flat.release()
    model.eval()
    return history


def _runs_directly(views: Sequence[View], hard_mask: bool = False, mask_update: MaskUpdate | None = None) -> bool:
    """One view, clean or with straight-through noise (``noise.perturbation``: no gradient), runs the module itself:
    its perturbation is added to the parameters in place and undone exactly after the backward pass. Same numbers
    as the functional call on a perturbed flat vector (same sums, same gradient), without its overhead.

    A masked view runs so too when its mask is the hard mask (``hard_mask``: the default view of ``train_model``'s
    ``mask``, applied to the parameters after every step) and no ``mask_update`` changes it: the masked parameters
    are zero already, so ``w * mask`` is ``w`` bit for bit, and the gradient is masked as the flat path's is."""
    v = views[0]
    straight = v.noise is None or hasattr(v.noise, "perturbation")
    return len(views) == 1 and straight and (v.mask is None or (hard_mask and mask_update is None))


class _FlatParams:
    """The parameters as views of one flat buffer, so a straight-through perturbation is applied to all of them
    with one tensor op, and undone exactly: the perturbed weights go to a second buffer the parameters point to
    for the forward and backward pass, and back to the first for the optimizer step (no copy, nothing allocated
    per step; the per-step cost of noise injection on small models, and memory traffic on large ones)."""

    def __init__(self, params: Sequence[torch.Tensor]) -> None:
        self.params = params
        sizes = [p.numel() for p in params]
        with torch.no_grad():
            self.flat = torch.cat([p.detach().reshape(-1) for p in params])
            self.other = torch.empty_like(self.flat)
        self.clean = [v.view_as(p) for p, v in zip(params, self.flat.split(sizes))]
        self.noisy = [v.view_as(p) for p, v in zip(params, self.other.split(sizes))]
        self._point(self.clean)

    def _point(self, views: list[torch.Tensor]) -> None:
        for p, v in zip(self.params, views):
            p.data = v

    def perturb(self, noise: Any) -> None:
        """Weights := weights + ``noise.perturbation(weights)`` (or ``noise.perturbed(weights, out)``, fused)."""
        with torch.no_grad():
            fused = getattr(noise, "perturbed", None)
            if fused is None or fused(self.flat, self.other) is None:
                torch.add(self.flat, noise.perturbation(self.flat), out=self.other)
        self._point(self.noisy)

    def restore(self) -> None:
        """The exact unperturbed weights back (the parameters point to them again)."""
        self._point(self.clean)

    def release(self) -> None:
        """Give every parameter its own storage again (the model no longer aliases the buffer)."""
        with torch.no_grad():
            for p, v in zip(self.params, self.clean):
                p.data = v.clone()


def _view_weights(w: torch.Tensor, view: View) -> torch.Tensor:
    """The weights [n] a view's network runs on: masked, then perturbed by its noise."""
    wv = w if view.mask is None else w * view.mask.to(device=w.device, dtype=w.dtype)
    return wv if view.noise is None else view.noise(wv)


def _apply_mask(model: nn.Module, maskf: torch.Tensor, grads: bool = False) -> None:
    """Multiply every parameter (``grads``: its gradient) by its entries of the flat mask [n], in place."""
    with torch.no_grad():
        off = 0
        for p in model.parameters():
            n = p.numel()
            target = p.grad if grads else p
            if target is not None:
                target.mul_(maskf[off:off + n].view_as(p))
            off += n
