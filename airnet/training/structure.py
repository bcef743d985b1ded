"""Structured pruning: whole neurons / filters, whose mask costs a few bits per layer instead of ~H(p) per weight.

A model declares its prunable units (``prunable_units()``, see :mod:`airnet.zoo.models`); :class:`UnitGroups` maps them
to flat parameter indices. Pruning keeps the units with the largest mean squared weight (Li et al., "Pruning
filters for efficient ConvNets", 2017) until the budget is full; weights in no unit (e.g. the output layer) are
always kept. The receiver needs one bit per unit, coded per layer with :mod:`airnet.side_info.mask_code`.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
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

    @cached_property
    def _pairs(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, np.ndarray, np.ndarray]:
        """The (unit, entry) ownership pairs, grouped by unit: entry [P] and unit [P] long, the pairs per unit [U],
        the entry's other owner [P] (-1: none) and each unit's slice of the pairs as offsets [U + 1]. Built once:
        every size search of a candidate calls :meth:`select` many times with the same groups."""
        has = self.owners >= 0
        unit = torch.cat([self.owners[has[:, c], c] for c in (0, 1)])
        entry = torch.cat([torch.nonzero(has[:, c]).flatten() for c in (0, 1)])
        by_unit = torch.argsort(unit, stable=True)
        unit, entry = unit[by_unit], entry[by_unit]
        other = torch.where(self.owners[entry, 0] == unit, self.owners[entry, 1], self.owners[entry, 0])
        counts = torch.bincount(unit, minlength=self.num_units)
        offsets = torch.cat([torch.zeros(1, dtype=torch.long), torch.cumsum(counts, 0)])
        return entry, unit, counts, other.numpy(), offsets.numpy()

    def select(self, w: torch.Tensor, keep: int) -> torch.Tensor:
        """Weight mask [n] of at most ``keep`` weights: unowned entries, then units by mean squared weight.

        Greedy: units in order of score, each added if its marginal weights (those whose other owner is already
        kept) still fit. Every prunable layer first gets its best unit, so the network stays connected.
        """
        free = int((self.owners < 0).all(dim=1).sum())
        if keep < free:
            raise ValueError(f"a budget of {keep} weights cannot hold the {free} weights outside prunable units")
        U = self.num_units
        entry, unit, counts, other, offsets = self._pairs
        sq = w.detach().double().pow(2)[entry]
        total = torch.zeros(U, dtype=torch.float64).index_add_(0, unit, sq)
        score = torch.where(counts > 0, total / counts.clamp(min=1), 0.0)
        order = torch.argsort(score, descending=True, stable=True).tolist()
        first = torch.cumsum(torch.tensor((0,) + self.units_per_layer), 0).tolist()
        best = [a + int(torch.argmax(score[a:b])) for a, b in zip(first[:-1], first[1:]) if b > a]
        kept = np.zeros(U + 1, dtype=bool)
        kept[-1] = True                       # index -1: "no other owner", always there
        room = keep - free
        for u in best + order:
            if kept[u]:
                continue
            cost = int(np.count_nonzero(kept[other[offsets[u]:offsets[u + 1]]]))
            if cost <= room:
                kept[u] = True
                room -= cost
        return self.mask(torch.from_numpy(kept[:-1]))


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
