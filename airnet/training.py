"""Training loop over the flat parameter vector: optional weight noise, pruning mask and distillation teacher."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from airnet.distillation import distillation_loss
from airnet.params import ParamLayout, call_with_vector


@dataclass(frozen=True)
class TrainSettings:
    """Optimizer settings (plain values; Hydra configs are read at the driver)."""

    epochs: int = 30
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        if self.epochs < 0 or self.batch_size < 1 or not self.lr > 0:
            raise ValueError(f"bad training settings: epochs={self.epochs}, batch_size={self.batch_size}, lr={self.lr}")


@dataclass(frozen=True)
class Distillation:
    """A teacher model and the KD loss weights."""

    teacher: nn.Module
    temperature: float = 4.0
    alpha: float = 0.5


def flat_params(model: nn.Module) -> torch.Tensor:
    """Differentiable concatenation of all parameters: [n]."""
    return torch.cat([p.reshape(-1) for p in model.parameters()])


def train_model(model: nn.Module, x: torch.Tensor, y: torch.Tensor, settings: TrainSettings,
                generator: torch.Generator, weight_noise: Callable[[torch.Tensor], torch.Tensor] | None = None,
                mask: torch.Tensor | None = None, distill: Distillation | None = None,
                desc: str | None = None) -> list[float]:
    """Train ``model`` in place on x [N, ...], y [N]; return the mean loss of each epoch.

    Each step builds the flat weight vector, zeroes pruned entries (``mask`` [n] bool), perturbs it with
    ``weight_noise`` (e.g. :class:`airnet.noise_injection.ChannelNoise`) and runs the model functionally on it.
    """
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x has {x.shape[0]} samples but y has {y.shape[0]}")
    layout = ParamLayout.of(model)
    if mask is not None:
        if mask.shape != (layout.total,):
            raise ValueError(f"mask has shape {tuple(mask.shape)}, the model has {layout.total} parameters")
        maskf = mask.to(torch.float32)
        _apply_mask(model, maskf)
    opt = torch.optim.Adam(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, settings.epochs))
    if distill is not None:
        distill.teacher.eval()
    history = []
    epochs = tqdm(range(settings.epochs), desc=desc, leave=False, disable=desc is None)
    for _ in epochs:
        model.train()
        perm = torch.randperm(x.shape[0], generator=generator)
        total, count = 0.0, 0
        for i in range(0, x.shape[0], settings.batch_size):
            idx = perm[i:i + settings.batch_size]
            xb, yb = x[idx], y[idx]
            w = flat_params(model)
            if mask is not None:
                w = w * maskf
            if weight_noise is not None:
                w = weight_noise(w)
            logits = call_with_vector(model, w, xb, layout)
            if distill is not None:
                with torch.no_grad():
                    t_logits = distill.teacher(xb)
                loss = distillation_loss(logits, t_logits, yb, distill.temperature, distill.alpha)
            else:
                loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if mask is not None:
                _apply_mask(model, maskf)
            total += loss.item() * len(idx)
            count += len(idx)
        sched.step()
        history.append(total / max(count, 1))
        epochs.set_postfix(loss=f"{history[-1]:.3f}")
    model.eval()
    return history


def _apply_mask(model: nn.Module, maskf: torch.Tensor) -> None:
    with torch.no_grad():
        off = 0
        for p in model.parameters():
            n = p.numel()
            p.mul_(maskf[off:off + n].view_as(p))
            off += n
