"""The pruned family: one network pruned to the budget and fine-tuned with KD, sent by plan.

``pruning_kd`` sends every surviving weight once; ``expansion`` prunes to ``budget / factor`` and sends each weight
``factor`` times; ``uep`` starts from the same network as ``expansion`` and gives each layer its own factor by
measured sensitivity. The network is sized so that it fits together with its side information (mask, scale,
factors) at the design SNR, trained once per (size, factor, design SNR) and shared. :func:`train_pruned` is also
the digital baselines' starting model (fine-tuned without channel noise, or quantization-aware).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import torch
from torch import nn

from airnet.expansion import layer_expansion_plan, uniform_expansion_plan
from airnet.noise_injection import ChannelNoise
from airnet.options import options_dict
from airnet.params import ParamLayout, model_vector
from airnet.pruning import iterative_prune, make_pruner
from airnet.quantization import QuantizationNoise
from airnet.schemes.analog import AnalogScheme
from airnet.schemes.base import register_scheme
from airnet.setup import Setup
from airnet.side_info import Design
from airnet.training import Distillation, TrainSettings, train_model
from airnet.transmission import TransmissionPlan
from airnet.uep import allocate_expansion, layer_sensitivity


@dataclass(frozen=True)
class PruneOptions:
    """Pruning to the budget with KD from the clean teacher (or a chain of teacher assistants).

    ``steps``: pruning rounds; ``finetune_epochs`` and ``lr``: fine-tuning after each round; ``temperature`` and
    ``alpha``: KD loss; ``structure``: ``unstructured`` (global magnitude, mask ~H(p) bits per weight) or
    ``structured`` (whole neurons / filters, a few bits per layer); ``method``: ``iterative_magnitude`` (prune in
    ``steps`` rounds) or ``rigl`` (sparse training at the budget from the start for ``steps x finetune_epochs``
    epochs, dropping and regrowing ``rigl_alpha`` of the weights every ``rigl_interval`` steps; unstructured);
    ``assistants``: sizes of teacher assistants as fractions of the full model, largest first (Mirzadeh et al.
    2020): each is pruned and distilled from the one before, and the student from the last; assistants not
    larger than the student are skipped (with none left, the student learns from the teacher).
    """

    steps: int
    finetune_epochs: int
    lr: float
    temperature: float
    alpha: float
    structure: Literal["unstructured", "structured"]
    method: Literal["iterative_magnitude", "rigl"]
    rigl_interval: int
    rigl_alpha: float
    assistants: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.method == "rigl" and self.structure != "unstructured":
            raise ValueError("method=rigl prunes single weights: it needs structure=unstructured")
        a = list(self.assistants)
        if any(not 0 < f < 1 for f in a) or a != sorted(set(a), reverse=True):
            raise ValueError(f"assistants must be fractions in (0, 1), largest first, got {a}")


def train_pruned(setup: Setup, o: PruneOptions, keep: int, factor: int = 1, snr_db: float | None = None,
                 quant_bits: int | None = None) -> tuple[nn.Module, torch.Tensor]:
    """Prune to ``keep`` weights with KD fine-tuning (cached); returns (model, mask [n] bool).

    With ``snr_db`` the network starts from the noise-injected model and is fine-tuned under the delivery noise of
    ``factor``-fold expansion at that SNR (analog); without it, it starts from the clean model and is fine-tuned
    noise-free, or quantization-aware at ``quant_bits`` (digital).
    """
    n = setup.num_params
    if not 1 <= keep <= n:
        raise ValueError(f"cannot keep {keep} of {n} weights")
    # assistants sit between teacher and student: those not larger than the student are skipped
    o = replace(o, assistants=tuple(a for a in o.assistants if round(a * n) > keep))
    analog = snr_db is not None
    key = setup.key(label="pruned", keep=keep, factor=factor, prune=options_dict(o),
                    channel=setup.channel_cfg if analog else None, snr=snr_db, quant_bits=quant_bits)

    def build() -> tuple[nn.Module, dict[str, Any]]:
        teacher = setup.teacher()
        if o.assistants:      # the chain before the last assistant trains it; the last assistant teaches here
            teacher = train_pruned(setup, replace(o, assistants=o.assistants[:-1]),
                                   round(o.assistants[-1] * n))[0]
        kd = Distillation(teacher, o.temperature, o.alpha)
        model = setup.new_model()
        model.load_state_dict((setup.noise_injected(snr_db) if analog else setup.teacher()).state_dict())
        g = setup.generator("prune", key)
        layer_of = ParamLayout.of(model).layer_of().to(setup.device)

        def noise_for(mask: torch.Tensor):
            if analog:
                return ChannelNoise(setup.channel, snr_db, plan=uniform_expansion_plan(mask, factor), generator=g)
            return QuantizationNoise(quant_bits, layer_of, mask) if quant_bits else None

        pruner = make_pruner(model, o.structure, protect_biases_up_to=keep)
        if o.method == "rigl":
            return model, {"mask": _rigl(setup, o, model, keep, factor, pruner, noise_for, kd, g)}

        def finetune(m: nn.Module, mask: torch.Tensor) -> None:
            ft = TrainSettings(epochs=o.finetune_epochs, batch_size=setup.settings.batch_size, lr=o.lr,
                               weight_decay=setup.settings.weight_decay)
            train_model(m, setup.data.x_train, setup.data.y_train, ft, g, weight_noise=noise_for(mask), mask=mask,
                        distill=kd, desc=setup.desc(f"fine-tune keep={int(mask.sum())}"))

        return model, {"mask": iterative_prune(model, keep, o.steps, finetune, pruner)}

    model, extras = setup.trained(key, build, "pruned")
    return model, extras["mask"]


def _rigl(setup: Setup, o: PruneOptions, model: nn.Module, keep: int, factor: int, pruner, noise_for,
          kd: Distillation, g: torch.Generator) -> torch.Tensor:
    """Sparse training at ``keep`` weights from the start (RigL) for ``steps x finetune_epochs`` epochs."""
    from airnet.distillation import distillation_loss
    from airnet.params import load_vector
    from airnet.rigl import RigL

    mask = pruner.select(model_vector(model), keep)
    load_vector(model, model_vector(model) * mask)
    epochs = o.steps * o.finetune_epochs
    batches = -(-len(setup.data.y_train) // setup.settings.batch_size)
    noise = noise_for(mask)
    final = [mask]

    def changed(new: torch.Tensor) -> None:
        final[0] = new
        if isinstance(noise, ChannelNoise):          # the delivery noise follows the weights that are sent
            noise.set_plan(uniform_expansion_plan(new, factor))

    def kd_loss(logits: torch.Tensor, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            soft = kd.teacher(xb)
        return distillation_loss(logits, soft, yb, kd.temperature, kd.alpha)

    hook = RigL(epochs * batches, o.rigl_interval, o.rigl_alpha, protect=pruner.protect, loss=kd_loss,
                on_change=changed)
    ft = TrainSettings(epochs=epochs, batch_size=setup.settings.batch_size, lr=o.lr,
                       weight_decay=setup.settings.weight_decay)
    train_model(model, setup.data.x_train, setup.data.y_train, ft, g, weight_noise=noise, mask=mask, distill=kd,
                mask_update=hook, desc=setup.desc(f"RigL keep={keep}"))
    return final[0]


class PrunedScheme(AnalogScheme):
    """A network pruned to fit ``budget / factor`` weights next to its side information; subclasses choose the
    factor and the plan."""

    def prune_options(self) -> PruneOptions:
        return self.options

    def factor(self) -> int:
        """Copies per weight the pruned network is sized (and fine-tuned) for."""
        return 1

    def pruner(self, model, keep: int | None = None):
        # built once per (model, keep): unit groups cost a loop
        return self.memoized("pruner", (id(model), keep), lambda: make_pruner(
            model, self.prune_options().structure, protect_biases_up_to=keep))

    def keep_for(self, design: Design) -> int:
        """Weights to train for (see :meth:`AnalogScheme.sized_keep`)."""
        return self.sized_keep(design.side_snr(), self.factor(), self.pruner(self.setup.new_model()))

    def pruned(self, design: Design) -> tuple[nn.Module, torch.Tensor]:
        """(fine-tuned pruned model, mask [n] bool) for this budget, factor and design (cached)."""
        return train_pruned(self.setup, self.prune_options(), self.keep_for(design), self.factor(),
                            snr_db=design.snr_db)

    def model(self, design):
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

    def plan(self, model, design, reals):
        mask = self.fitted_mask(model, design, reals // self.factor())
        if mask is None:
            return None
        return uniform_expansion_plan(mask, self.factor()), {}


@register_scheme("pruning_kd")
class PruningKD(PrunedScheme):
    """Prune to the budget, fine-tune under channel noise with KD from the clean teacher; every weight sent once."""

    Options = PruneOptions

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


@register_scheme("expansion")
class Expansion(PrunedScheme):
    """Uniform channel expansion: prune to ``budget / factor``, send each weight ``factor`` times, combine."""

    Options = ExpansionOptions

    def prune_options(self) -> PruneOptions:
        return self.options.prune

    def factor(self) -> int:
        return self.options.factor

    def label(self) -> str:
        return f"expansion x{self.options.factor}{_structure(self.options.prune)}"


@dataclass(frozen=True)
class UEPOptions(ExpansionOptions):
    """Expansion options (``factor``: the uniform expansion network UEP starts from, i.e. its mean copies per
    weight) plus ``max_factor``: copies per layer at most; ``draws``: channel realizations per layer for the
    sensitivity estimate."""

    max_factor: int
    draws: int


@register_scheme("uep")
class UEP(Expansion):
    """Unequal error protection: the expansion network, with per-layer factors by measured loss sensitivity
    at the design SNR."""

    Options = UEPOptions

    def label(self) -> str:
        return f"UEP (mean x{self.options.factor}){_structure(self.options.prune)}"

    def plan(self, model, design, reals) -> tuple[TransmissionPlan, dict[str, Any]] | None:
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
            model, model_vector(model), uniform_expansion_plan(mask, 1), self.setup.channel, design_snr_db,
            self.setup.data.x_val, self.setup.data.y_val, self.options.draws,
            self.setup.generator("uep", design_snr_db, self.budget)))
