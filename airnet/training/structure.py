"""Structured pruning: whole neurons / filters, whose mask costs a few bits per layer instead of ~H(p) per weight.

A model declares its prunable units (``prunable_units()``, see :mod:`airnet.zoo.models`); :class:`UnitGroups` maps them
to flat parameter indices. Pruning keeps the units with the largest mean squared weight (Li et al., "Pruning
filters for efficient ConvNets", 2017) until the budget is full; weights in no unit (e.g. the output layer) are
always kept. The receiver needs one bit per unit, coded per layer with :mod:`airnet.side_info.mask_code`.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from airnet.side_info.mask_code import code_length
from airnet.zoo.models import UnitSpec, has_prunable_units
from airnet.zoo.params import ParamLayout


@dataclass(frozen=True)
class UnitGroups:
    """Prunable units of a model as flat index sets.

    A weight can belong to two units (its row's unit and the unit whose output it reads); it is sent only while
    every unit it belongs to is kept.

    Attributes
    ----------
    labels : tuple of str
        One label per prunable layer.
    units_per_layer : tuple of int
    owners : [n, 2], long
        Units each flat parameter entry belongs to (-1: none); entries with no owner are always kept.
    """

    labels: tuple[str, ...]
    units_per_layer: tuple[int, ...]
    owners: torch.Tensor

    @classmethod
    def of(cls, model: nn.Module) -> "UnitGroups":
        if not has_prunable_units(model):
            raise ValueError(f"{type(model).__name__} declares no prunable_units(): structured pruning needs them "
                             f"(use structure=unstructured)")
        layout = ParamLayout.of(model)
        where = {n: (o, s) for n, s, o in zip(layout.names, layout.shapes, layout.offsets)}
        owners = torch.full((layout.total, 2), -1, dtype=torch.long)
        labels, counts, unit = [], [], 0
        units: UnitSpec = getattr(model, "prunable_units")()
        for label, parts in units:
            n_units: int | None = None
            for name, dim, size in parts:
                if name not in where:
                    raise ValueError(f"prunable unit {label!r} names {name!r}, not a parameter of the model")
                off, shape = where[name]
                if shape[dim] % size or (n_units is not None and shape[dim] // size != n_units):
                    raise ValueError(f"prunable unit {label!r}: {name} has {shape[dim]} entries along dim {dim}, "
                                     f"not {n_units} units of {size}")
                n_units = shape[dim] // size
                idx = torch.arange(shape.numel()).reshape(shape) + off
                for j in range(n_units):
                    sel = idx.narrow(dim, j * size, size).reshape(-1)
                    col = (owners[sel, 0] >= 0).long()
                    if (owners[sel, 1] >= 0).any():
                        raise ValueError(f"prunable unit {label!r}: {name} entries already belong to two units")
                    owners[sel, col] = unit + j
            if n_units is None:
                raise ValueError(f"prunable unit {label!r} lists no parameters")
            labels.append(label)
            counts.append(int(n_units))
            unit += int(n_units)
        return cls(tuple(labels), tuple(counts), owners)

    @property
    def num_units(self) -> int:
        return sum(self.units_per_layer)

    def mask(self, keep_units: torch.Tensor) -> torch.Tensor:
        """Weight mask [n] bool of the kept units [U] bool."""
        kept = torch.cat([keep_units, torch.ones(1, dtype=torch.bool)])   # index -1 -> "no owner": kept
        return kept[self.owners].all(dim=1)

    def units_of(self, mask: torch.Tensor) -> torch.Tensor:
        """Units [U] bool that keep any weight in ``mask`` [n]."""
        kept = torch.zeros(self.num_units + 1, dtype=torch.bool)
        kept[self.owners[mask].reshape(-1)] = True
        return kept[:-1]

    def code_bits(self, keep_units: torch.Tensor) -> int:
        """Side information of a unit mask: per-layer bitmap or run-length code."""
        return code_length(keep_units, self.units_per_layer)

    def select(self, w: torch.Tensor, keep: int) -> torch.Tensor:
        """Weight mask [n] of at most ``keep`` weights: unowned entries, then units by mean squared weight.

        Greedy: units in order of score, each added if its marginal weights (those whose other owner is already
        kept) still fit. Every prunable layer first gets its best unit, so the network stays connected.
        """
        free = int((self.owners < 0).all(dim=1).sum())
        if keep < free:
            raise ValueError(f"a budget of {keep} weights cannot hold the {free} weights outside prunable units")
        U = self.num_units
        sq = w.detach().double().pow(2)
        owned: list[list[int]] = [[] for _ in range(U)]
        for col in (0, 1):
            has = self.owners[:, col] >= 0
            idx = torch.nonzero(has).flatten()
            for u, i in zip(self.owners[has, col].tolist(), idx.tolist()):
                owned[u].append(i)
        owned_t = [torch.tensor(o, dtype=torch.long) for o in owned]
        other = [torch.where(self.owners[o, 0] == u, self.owners[o, 1], self.owners[o, 0]) for u, o in
                 enumerate(owned_t)]
        score = torch.tensor([float(sq[o].mean()) if o.numel() else 0.0 for o in owned_t], dtype=torch.float64)
        order = torch.argsort(score, descending=True, stable=True).tolist()
        first = torch.cumsum(torch.tensor((0,) + self.units_per_layer), 0).tolist()
        best = [max(range(a, b), key=lambda u: float(score[u])) for a, b in zip(first[:-1], first[1:]) if b > a]
        kept = torch.zeros(U + 1, dtype=torch.bool)
        kept[-1] = True
        room = keep - free
        for u in best + order:
            if kept[u]:
                continue
            cost = int(kept[other[u]].sum())
            if cost <= room:
                kept[u] = True
                room -= cost
        return self.mask(kept[:-1])


class StructuredPruner:
    """:class:`airnet.training.pruning.Pruner` that removes whole units; the receiver gets one bit per unit."""

    def __init__(self, model: nn.Module) -> None:
        self.groups = UnitGroups.of(model)
        self.min_keep = int((self.groups.owners < 0).all(dim=1).sum())   # weights outside units are always sent

    def select(self, w: torch.Tensor, keep: int) -> torch.Tensor:
        return self.groups.select(w.cpu(), keep).to(w.device)

    def mask_bits(self, mask: torch.Tensor) -> int:
        return self.groups.code_bits(self.groups.units_of(mask.cpu()))

    def expected_mask_bits(self, keep: int) -> int:
        """At most a raw bitmap per layer (the code never exceeds it)."""
        return self.groups.num_units + 2 * len(self.groups.units_per_layer)
