"""Flat views of a model's parameters: the vector AirNet puts on the air (parameters only, buffers stay local)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call


@dataclass(frozen=True)
class ParamLayout:
    """Names, shapes and offsets of a model's parameters inside one flat vector of ``total`` reals."""

    names: tuple[str, ...]
    shapes: tuple[torch.Size, ...]
    offsets: tuple[int, ...]
    total: int

    @classmethod
    def of(cls, model: nn.Module) -> "ParamLayout":
        """Layout of ``model.named_parameters()`` in registration order."""
        names, shapes, offsets, off = [], [], [], 0
        for name, p in model.named_parameters():
            names.append(name)
            shapes.append(p.shape)
            offsets.append(off)
            off += p.numel()
        return cls(tuple(names), tuple(shapes), tuple(offsets), off)

    def unflatten(self, vec: torch.Tensor) -> dict[str, torch.Tensor]:
        """Split [..., total] into a dict of [..., *shape] tensors (views where possible)."""
        if vec.shape[-1] != self.total:
            raise ValueError(f"vector has {vec.shape[-1]} entries, the model has {self.total} parameters")
        lead = vec.shape[:-1]
        return {n: vec[..., o:o + s.numel()].reshape(*lead, *s)
                for n, s, o in zip(self.names, self.shapes, self.offsets)}

    def layer_of(self) -> torch.Tensor:
        """Index of the parameter tensor each flat entry belongs to: [total] long."""
        return torch.repeat_interleave(torch.arange(len(self.names)),
                                       torch.tensor([s.numel() for s in self.shapes]))


def model_vector(model: nn.Module) -> torch.Tensor:
    """All parameters of ``model`` concatenated: [total] (detached copy)."""
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def load_vector(model: nn.Module, vec: torch.Tensor) -> nn.Module:
    """Write a flat vector [total] into ``model``'s parameters in place; returns the model."""
    layout = ParamLayout.of(model)
    params = layout.unflatten(vec.detach())
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(params[name])
    return model


def call_with_vector(model: nn.Module, vec: torch.Tensor, x: torch.Tensor,
                     layout: ParamLayout | None = None) -> torch.Tensor:
    """Run ``model`` on x with its parameters replaced by the flat vector [total] (differentiable in vec)."""
    layout = layout or ParamLayout.of(model)
    state = dict(model.named_buffers())
    state.update(layout.unflatten(vec))
    return functional_call(model, state, (x,))


def check_weights(vec: torch.Tensor, layout: ParamLayout | None = None) -> None:
    """Raise ValueError on weights that cannot be transmitted: empty, not floating point, or non-finite.

    The message names how many values are NaN/inf and in which parameter tensor (``layout``) or at which flat
    indices (without it): a silent all-zero delivery would hide a diverged training.
    """
    if vec.numel() == 0:
        raise ValueError("the model has no parameters: there is nothing to transmit")
    if not vec.dtype.is_floating_point:
        raise ValueError(f"weights must be floating point to be sent as analog symbols, got {vec.dtype}")
    bad = ~torch.isfinite(vec.detach())
    if bool(bad.any()):
        count = int(bad.sum())
        if layout is not None and layout.total == vec.numel():
            per_layer = torch.bincount(layout.layer_of()[bad], minlength=len(layout.names))
            where = ", ".join(f"{n}: {int(c)}" for n, c in zip(layout.names, per_layer.tolist()) if c)
        else:
            idx = torch.nonzero(bad).flatten()[:5].tolist()
            where = f"flat indices {idx}{' ...' if count > 5 else ''}"
        raise ValueError(f"{count} non-finite weight value(s) (NaN or inf) cannot be transmitted ({where})")


def check_model_data(model: nn.Module, x: torch.Tensor) -> None:
    """Raise ValueError when the model's parameters and the data have different floating dtypes."""
    p = next(iter(model.parameters()), None)
    if p is not None and p.dtype != x.dtype:
        raise ValueError(f"the model's parameters are {p.dtype} but the data is {x.dtype}; convert one "
                         f"(model.to({x.dtype}) or x.to({p.dtype}))")
