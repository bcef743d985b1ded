"""Delivery schemes as plug-ins: the base class, what a delivery returns, and the registry.

A scheme turns (SNR, K channel realizations) into K received weight vectors at a fixed bandwidth budget. It is
one class with a frozen ``Options`` dataclass (values from ``conf/scheme/<name>.yaml``), registered by name::

    @register_scheme("my_scheme")
    class MyScheme(AnalogScheme[MyOptions]):
        Options = MyOptions
        ...

A scheme reads two things: its :class:`airnet.context.Context` (data, channel, seed, caches, side link) and its
:class:`airnet.training.recipes.Recipes` (the trained models it may start from).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Generic, Hashable, TypeVar

import torch
from torch import nn

from airnet.context import Context
from airnet.training.recipes import Recipes

T = TypeVar("T")
O = TypeVar("O")


@dataclass(frozen=True)
class NoOptions:
    """Options of a scheme that has none."""


@dataclass
class Delivery:
    """What the receiver ends up with.

    Attributes
    ----------
    model : nn.Module
        Architecture (and buffers) the received vectors are loaded into.
    vectors : [K, n], float
        Received parameter vectors, one per channel realization (all zeros where delivery failed).
    channel_uses : int
        Channel uses the scheme occupied, side information included (never more than its budget).
    side_info_bits : int
        Bits the receiver needs besides the payload symbols (mask, scales, factors, headers).
    side_info_channel_uses : int
        Channel uses those bits took (0 when side information is free).
    info : dict
        Extra CSV columns (parameters sent, expansion, MCS, ...).
    """

    model: nn.Module
    vectors: torch.Tensor
    channel_uses: int
    side_info_bits: int = 0
    side_info_channel_uses: int = 0
    info: dict[str, Any] = field(default_factory=dict)


class Scheme(ABC, Generic[O]):
    """Base class: ``deliver(snr_db, K, generator)`` within a budget of ``budget`` channel uses.

    Parameters
    ----------
    context : :class:`airnet.context.Context`
    recipes : :class:`airnet.training.recipes.Recipes`
        The trained models of the context.
    options : an instance of the class's ``Options`` (the type parameter ``O``)
    budget : int
        Channel uses available for the whole delivery.
    """

    name: ClassVar[str] = "scheme"
    Options: ClassVar[type[Any]] = NoOptions

    def __init__(self, context: Context, recipes: Recipes, options: O, budget: int) -> None:
        if isinstance(budget, bool) or int(budget) != budget or budget < 1:
            raise ValueError(f"bandwidth budget must be at least 1 channel use, got {budget!r}")
        if not isinstance(options, self.Options):
            raise TypeError(f"scheme {self.name!r} expects {self.Options.__name__} options, "
                            f"got {type(options).__name__}")
        self.context = context
        self.recipes = recipes
        self.options: O = options
        self.budget = int(budget)
        self._memo: dict[str, dict[Hashable, Any]] = {}

    @classmethod
    def needs_units(cls, options: O) -> str | None:
        """The option (relative key, e.g. ``structure``) that makes this scheme prune whole units, so its model
        must declare ``prunable_units()``; None if it needs none. Checked before any training."""
        return None

    def memoized(self, table: str, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per ``key`` of ``table`` for this scheme (fits, pruners, searches a sweep reuses
        across its points)."""
        memo = self._memo.setdefault(table, {})
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    @abstractmethod
    def deliver(self, snr_db: float, num_realizations: int, generator: torch.Generator,
                design_snr_db: float | None = None) -> Delivery:
        """Deliver the model over ``num_realizations`` independent channel draws at ``snr_db``.

        Input
        -----
        snr_db : float
            The receivers' actual SNR.
        num_realizations : int
        generator : torch.Generator
            Channel randomness.
        design_snr_db : float or None
            The SNR the transmitter designs for (training SNR, pruning, MCS); None: the actual SNR (matched).

        Output
        ------
        : :class:`Delivery` with ``vectors`` [num_realizations, n]
        """

    def searches(self, snr_db: float, design_snr_db: float | None = None) -> None:
        """Run the link and side-information searches that :meth:`deliver` will need at this point and that do not
        depend on training. Workers (:mod:`airnet.run.workers`) call it first, in a dry run
        (:func:`airnet.training.loop.tally_training`: untrained models), so the job finds the results cached right
        after its first training. Default: nothing."""

    def label(self) -> str:
        """Readable name for legends."""
        return self.name.replace("_", " ")


SCHEMES: dict[str, type[Scheme[Any]]] = {}
S = TypeVar("S", bound=type[Scheme[Any]])


def register_scheme(name: str) -> Callable[[S], S]:
    """Class decorator: register a :class:`Scheme` subclass under ``name`` (also sets ``cls.name``)."""
    if not name or not isinstance(name, str):
        raise ValueError(f"scheme name must be a non-empty string, got {name!r}")

    def add(cls: S) -> S:
        if not (isinstance(cls, type) and issubclass(cls, Scheme)):
            raise TypeError(f"@register_scheme({name!r}) needs a Scheme subclass, got {cls!r}")
        cls.name = name
        SCHEMES[name] = cls
        return cls

    return add


def available_schemes() -> list[str]:
    """Sorted registered scheme names."""
    return sorted(SCHEMES)


def scheme_class(name: str) -> type[Scheme[Any]]:
    """The class registered as ``name``."""
    if name not in SCHEMES:
        raise ValueError(f"unknown scheme {name!r}; available: {', '.join(available_schemes())}")
    return SCHEMES[name]


def make_scheme(name: str, context: Context, recipes: Recipes, options: Any, budget: int) -> Scheme[Any]:
    """Instantiate the scheme registered as ``name``."""
    return scheme_class(name)(context, recipes, options, budget)
