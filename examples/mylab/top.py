"""A plug-in delivery scheme that prunes: the clean model's largest weights that fit the budget, each sent
``copies`` times and combined at the receiver; its pruning mask is side information, paid from the budget.

    cd examples
    python -m experiments.sweep plugins=[mylab.top] hydra.searchpath=[file://mylab/conf] +scheme=top \\
        experiment.schemes=[clean,top] experiment.bandwidth_ratio=[0.5]
"""
from __future__ import annotations

from dataclasses import dataclass

from airnet.delivery.plan import uniform_expansion_plan
from airnet.schemes import AnalogScheme, register_scheme
from airnet.zoo import model_vector


@dataclass(frozen=True)
class TopOptions:
    copies: int                              # types only: the value lives in conf/scheme/top.yaml


@register_scheme("top")
class Top(AnalogScheme[TopOptions]):
    """Keep the largest weights that fit ``budget / copies``; send each ``copies`` times."""

    Options = TopOptions

    def structure(self) -> str:              # whole units: the mask costs a few bits per layer
        return "structured"

    def model(self, design):
        return self.recipes.teacher()

    def plan(self, model, design, reals):
        keep = min(self.context.num_params, reals // self.options.copies)
        if keep < 1:
            return None
        mask = self.pruner(model).select(model_vector(model), keep)
        return uniform_expansion_plan(mask, self.options.copies), {}
