"""Delivery schemes compared in the sweeps: each turns (SNR, K realizations) into K received weight vectors.

A scheme is built for one experimental setup and one bandwidth budget (channel uses); training it is cached on
disk keyed by everything that affects the weights, so sweeps resume and schemes share their base models.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from channels import Channel, channel_uses
from airnet.data import DataSplits
from airnet.io import config_hash, save_torch
from airnet.models import build_model
from airnet.noise_injection import ChannelNoise
from airnet.params import load_vector, model_vector
from airnet.pruning import magnitude_mask
from airnet.training import TrainSettings, train_model
from airnet.transmission import TransmissionPlan, transmit_vector


@dataclass
class Setup:
    """Everything a scheme needs, as plain objects: data, model recipe, channel, training settings, seed."""

    data: DataSplits
    model_name: str
    model_kwargs: dict[str, Any]
    channel: Channel
    channel_cfg: dict[str, Any]
    settings: TrainSettings
    seed: int = 0
    num_realizations: int = 32
    cache_dir: Path | None = None
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    _memo: dict[str, tuple[nn.Module, dict[str, Any]]] = field(default_factory=dict, repr=False)

    def new_model(self) -> nn.Module:
        """Freshly initialized model (deterministic in ``seed``)."""
        torch.manual_seed(self.seed)
        return build_model(self.model_name, self.data.input_shape, self.data.num_classes, **self.model_kwargs)

    @property
    def num_params(self) -> int:
        return sum(p.numel() for p in self.new_model().parameters())

    @property
    def full_channel_uses(self) -> int:
        """Channel uses to send every weight once."""
        return channel_uses(self.num_params)

    def generator(self, *tags: Any) -> torch.Generator:
        """A generator seeded from (seed, tags): independent, reproducible streams per purpose."""
        return torch.Generator().manual_seed(int(config_hash([self.seed, *tags], 15), 16))

    def key(self, **parts: Any) -> dict[str, Any]:
        """Cache key parts common to all trained models of this setup."""
        return dict(model=self.model_name, model_kwargs=self.model_kwargs, data=self.data.name,
                    train=vars(self.settings), seed=self.seed, **parts)

    def trained(self, key: dict[str, Any], build: Callable[[], tuple[nn.Module, dict[str, Any]]],
                label: str) -> tuple[nn.Module, dict[str, Any]]:
        """Return ``build()`` (a model and extra tensors), cached in memory and on disk under ``hash(key)``."""
        h = f"{label}-{config_hash(key)}"
        if h in self._memo:
            return self._memo[h]
        path = self.cache_dir / f"{h}.pt" if self.cache_dir else None
        if path is not None and path.exists():
            blob = torch.load(path, weights_only=True)
            model = load_vector(self.new_model(), blob["w"])
            for name, buf in model.named_buffers():
                buf.copy_(blob["buffers"][name])
            result = (model.eval(), blob["extras"])
        else:
            result = build()
            if path is not None:
                save_torch(path, {"w": model_vector(result[0]), "extras": result[1], "key": repr(key),
                                  "buffers": dict(result[0].named_buffers())})
        self._memo[h] = result
        return result

    def train(self, label: str, key: dict[str, Any], noise_snr_db: float | None = None,
              init: nn.Module | None = None, **kwargs: Any) -> nn.Module:
        """Train (or load) a model with optional channel-noise injection at ``noise_snr_db``."""
        full_key = self.key(label=label, noise_snr_db=noise_snr_db,
                            channel=self.channel_cfg if noise_snr_db is not None else None, **key)

        def build() -> tuple[nn.Module, dict[str, Any]]:
            model = self.new_model()
            if init is not None:
                model.load_state_dict(init.state_dict())
            g = self.generator("train", label, full_key)
            noise = ChannelNoise(self.channel, noise_snr_db, generator=g) if noise_snr_db is not None else None
            train_model(model, self.data.x_train, self.data.y_train, self.settings, g, weight_noise=noise,
                        desc=f"train {label}", **kwargs)
            return model, {}

        return self.trained(full_key, build, label)[0]


@dataclass
class Delivery:
    """K received weight vectors [K, n] for ``model``, and the channel uses the scheme occupied."""

    model: nn.Module
    vectors: torch.Tensor
    channel_uses: int
    info: dict[str, Any] = field(default_factory=dict)


class Scheme:
    """Base class: ``deliver(snr_db, K, generator)`` at a fixed budget of ``budget`` channel uses."""

    name = "scheme"

    def __init__(self, setup: Setup, budget: int) -> None:
        if budget < 1:
            raise ValueError(f"bandwidth budget must be at least 1 channel use, got {budget}")
        self.setup = setup
        self.budget = int(budget)
        self.opts = setup.options.get(self.name, {})

    def deliver(self, snr_db: float, num_realizations: int, generator: torch.Generator) -> Delivery:
        raise NotImplementedError


class _AnalogSingleModel(Scheme):
    """One trained model sent once per weight; if it does not fit, only the largest weights are sent."""

    def model(self) -> nn.Module:
        raise NotImplementedError

    def deliver(self, snr_db, num_realizations, generator):
        model = self.model()
        w = model_vector(model)
        keep = min(w.numel(), 2 * self.budget)
        plan = TransmissionPlan.full(w.numel()) if keep == w.numel() else \
            TransmissionPlan.from_repeats(magnitude_mask(w, keep).long())
        vecs = transmit_vector(w, self.setup.channel, snr_db, num_realizations, plan, generator)
        return Delivery(model, vecs, plan.channel_uses, {"params_sent": int(plan.mask.sum())})


class CleanScheme(_AnalogSingleModel):
    """Conventionally trained model, sent analog (AirNet without any channel-aware training)."""

    name = "clean"

    def model(self):
        return self.setup.train("clean", {})


class NoiseInjectionScheme(_AnalogSingleModel):
    """Model trained with channel-noise injection at ``train.noise_injection.snr_db``."""

    name = "noise_injection"

    def model(self):
        return self.setup.train("noise_injection", {}, noise_snr_db=self.opts.get("snr_db", 5.0))


SCHEMES: dict[str, type[Scheme]] = {}


def register_scheme(cls: type[Scheme]) -> type[Scheme]:
    """Add a Scheme subclass to the registry under ``cls.name``."""
    SCHEMES[cls.name] = cls
    return cls


for _cls in (CleanScheme, NoiseInjectionScheme):
    register_scheme(_cls)


def make_scheme(name: str, setup: Setup, budget: int) -> Scheme:
    """Instantiate a registered scheme by name."""
    if name not in SCHEMES:
        raise ValueError(f"unknown scheme {name!r}; available: {', '.join(sorted(SCHEMES))}")
    return SCHEMES[name](setup, budget)
