"""The pruned family: one network pruned to the budget and fine-tuned with KD, sent by plan.

``pruning_kd`` sends every surviving weight once; ``expansion`` prunes to ``budget / factor`` and sends each weight
``factor`` times; ``uep`` starts from the same network as ``expansion`` and gives each layer its own factor by
measured sensitivity. The network is sized so that it fits together with its side information (mask, scale,
factors) at the design SNR, trained once per (size, factor, design SNR) by :meth:`Recipes.pruned` and shared.
"""
from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Literal, TypeVar

import torch
from torch import nn

from airnet.delivery.plan import layer_expansion_plan, uniform_expansion_plan
from airnet.schemes.analog import AnalogScheme, Planned
from airnet.schemes.base import register_scheme
from airnet.config.options import within
from airnet.side_info.bits import FACTOR_BITS, state_bits
from airnet.side_info.protection import Design
from airnet.training.pruning import Pruner, PruneOptions, make_pruner
from airnet.training.uep import allocate_expansion, layer_sensitivity
from airnet.zoo.params import ParamLayout, model_vector

O = TypeVar("O")


class PrunedScheme(AnalogScheme[O]):
    """A network pruned to fit ``budget / factor`` weights next to its side information; subclasses choose the
    factor and the plan."""

    @abstractmethod
    def prune_options(self) -> PruneOptions:
        """How the network is pruned and fine-tuned."""

    def factor(self) -> int:
        """Copies per weight the pruned network is sized (and fine-tuned) for."""
        return 1

    def structure(self) -> Literal["unstructured", "structured"]:
        return self.prune_options().structure

    def pruner(self, model: nn.Module, keep: int | None = None) -> Pruner:
        # built once per model (and, unstructured, per keep: biases are protected up to it): unit groups cost a loop
        key = (id(model), keep if self.structure() == "unstructured" else None)
        return self.memoized("pruner", key, lambda: make_pruner(model, self.structure(), protect_biases_up_to=keep))

    def keep_for(self, design: Design) -> int:
        """Weights to train for (see :meth:`AnalogScheme.weights_that_fit`): the mask priced at the code length
        of the mask the pruner picks from the noise-injected model pruning starts from."""
        return self.memoized("keep", design, lambda: self._keep_for(design))

    def _keep_for(self, design: Design) -> int:
        start = self.recipes.noise_injected(design.snr_db)
        w = model_vector(start)
        return self.weights_that_fit(design.side_snr(), self.factor(), self.pruner(start), state_bits(start),
                                     mask_for=lambda keep: self.pruner(start, keep).select(w, keep))

    def pruned(self, design: Design) -> tuple[nn.Module, torch.Tensor]:
        """(fine-tuned pruned model, mask [n] bool) for this budget, factor and design (cached)."""
        return self.recipes.pruned(self.prune_options(), self.keep_for(design), self.factor(), snr_db=design.snr_db)

    def model(self, design: Design) -> nn.Module:
        return self.pruned(design)[0]

    def fitted_mask(self, model: nn.Module, design: Design, weights: int) -> torch.Tensor | None:
        """The trained mask, cut to at most ``weights`` (smallest weights / weakest units first) if needed."""
        mask = self.pruned(design)[1]
        if int(mask.sum()) > weights:
            pruner = self.pruner(model, weights)
            if weights < pruner.min_keep:
                return None
            mask = pruner.select(model_vector(model) * mask, weights) & mask
        return mask if bool(mask.any()) else None

    def plan(self, model: nn.Module, design: Design, reals: int) -> Planned | None:
        mask = self.fitted_mask(model, design, reals // self.factor())
        if mask is None:
            return None
        return uniform_expansion_plan(mask, self.factor()), {}


@register_scheme("pruning_kd")
class PruningKD(PrunedScheme[PruneOptions]):
    """Prune to the budget, fine-tune under channel noise with KD from the clean teacher; every weight sent once."""

    Options = PruneOptions

    @classmethod
    def needs_units(cls, options: PruneOptions) -> str | None:
        return "structure" if options.structure == "structured" else None

    def prune_options(self) -> PruneOptions:
        return self.options

    def label(self) -> str:
        return f"pruning + KD{_structure(self.options)}"


def _structure(o: PruneOptions) -> str:
    """Legend suffix naming the pruning variant."""
    parts = (["structured"] if o.structure == "structured" else []) + (["RigL"] if o.method == "rigl" else [])
    if o.assistants:
        parts.append("assistants " + "/".join(f"{a:g}" for a in o.assistants))
    return f" ({', '.join(parts)})" if parts else ""


@dataclass(frozen=True)
class ExpansionOptions:
    """``factor``: copies of every surviving weight; ``prune``: how the network is pruned (``scheme.pruning_kd``)."""

    factor: int
    prune: PruneOptions

    def __post_init__(self) -> None:
        within("factor", self.factor, 1, 2 ** FACTOR_BITS - 1)    # the side information codes 1..31 copies


E = TypeVar("E", bound=ExpansionOptions)


class ExpandedScheme(PrunedScheme[E]):
    """The expansion network: pruned to ``budget / factor`` for ``factor``-fold expansion."""

    @classmethod
    def needs_units(cls, options: E) -> str | None:
        return "prune.structure" if options.prune.structure == "structured" else None

    def prune_options(self) -> PruneOptions:
        return self.options.prune

    def factor(self) -> int:
        return self.options.factor


@register_scheme("expansion")
class Expansion(ExpandedScheme[ExpansionOptions]):
    """Uniform channel expansion: prune to ``budget / factor``, send each weight ``factor`` times, combine."""

    Options = ExpansionOptions

    def label(self) -> str:
        return f"expansion x{self.options.factor}{_structure(self.options.prune)}"


@dataclass(frozen=True)
class UEPOptions(ExpansionOptions):
    """Expansion options (``factor``: the uniform expansion network UEP starts from, i.e. its mean copies per
    weight) plus ``max_factor``: copies per layer at most; ``draws``: channel realizations per layer for the
    sensitivity estimate."""

    max_factor: int
    draws: int

    def __post_init__(self) -> None:
        super().__post_init__()
        within("max_factor", self.max_factor, self.factor, 2 ** FACTOR_BITS - 1)
        within("draws", self.draws, 1)


@register_scheme("uep")
class UEP(ExpandedScheme[UEPOptions]):
    """Unequal error protection: the expansion network, with per-layer factors by measured loss sensitivity
    at the design SNR."""

    Options = UEPOptions

    def label(self) -> str:
        return f"UEP (mean x{self.options.factor}){_structure(self.options.prune)}"

    def plan(self, model: nn.Module, design: Design, reals: int) -> Planned | None:
        mask = self.fitted_mask(model, design, reals)
        if mask is None:
            return None
        layout = ParamLayout.of(model)
        layer_of = layout.layer_of().to(mask.device)
        sens = self._sensitivity(model, mask, design.snr_db).to(mask.device)
        sizes = torch.bincount(layer_of[mask], minlength=len(layout.names))
        factors = allocate_expansion(sizes, sens, reals, self.options.max_factor)
        return layer_expansion_plan(mask, layer_of, factors), {}

    def _sensitivity(self, model: nn.Module, mask: torch.Tensor, design_snr_db: float) -> torch.Tensor:
        key = (design_snr_db, tuple(torch.nonzero(mask).flatten().tolist()))
        return self.memoized("sensitivity", key, lambda: layer_sensitivity(
            model, model_vector(model), uniform_expansion_plan(mask, 1), self.context.channel, design_snr_db,
            self.context.data.x_val, self.context.data.y_val, self.options.draws,
            self.context.generator("uep", design_snr_db, self.budget)))
