"""The experimental setup every delivery scheme works in: data, model recipe, channel, training, seed, cache."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from channels import Channel, channel_uses
from airnet.cache import Built, ModelCache
from airnet.data import DataSplits
from airnet.io import config_hash
from airnet.models import build_model
from airnet.noise_injection import ChannelNoise
from airnet.side_info import JsonMemo, LinkOptions, SideInfoOptions, SideLink
from airnet.training import TrainSettings, train_model


@dataclass
class Setup:
    """Plain objects built by the driver from the config; schemes read nothing else.

    ``channel_cfg`` is the channel's config mapping (part of cache keys); ``side_info`` and ``link`` say how side
    information is paid for; ``cache_dir`` None keeps trained models in memory only.
    """

    data: DataSplits
    model_name: str
    model_kwargs: dict[str, Any]
    channel: Channel
    channel_cfg: dict[str, Any]
    settings: TrainSettings
    seed: int
    side_info: SideInfoOptions
    link: LinkOptions
    cache_dir: Path | None = None
    progress: bool = False
    device: torch.device = torch.device("cpu")
    cache: ModelCache = field(init=False, repr=False)
    side_link: SideLink = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.device = torch.device(self.device)
        self.data = self.data.to(self.device)
        self.cache = ModelCache(self.cache_dir, self.device)
        self.side_link = SideLink(self.channel, config_hash(self.channel_cfg), self.side_info, self.link,
                                  JsonMemo(self.cache_dir) if self.cache_dir else None)

    def for_seed(self, seed: int) -> "Setup":
        """The same setup with another training seed (data, channel and options shared)."""
        other = replace(self, seed=seed)
        other.side_link = self.side_link    # MCS choices do not depend on the training seed
        return other

    def new_model(self) -> nn.Module:
        """Freshly initialized model on the setup's device, deterministic in ``seed`` (initialized on the CPU, so
        every device starts from the same weights); the global torch RNG is left as it was."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            model = build_model(self.model_name, self.data.input_shape, self.data.num_classes, **self.model_kwargs)
        return model.to(self.device)

    @cached_property
    def num_params(self) -> int:
        """Parameters of the model (the reals AirNet sends)."""
        return sum(p.numel() for p in self.new_model().parameters())

    @property
    def full_channel_uses(self) -> int:
        """Channel uses to send every weight once."""
        return channel_uses(self.num_params)

    def generator(self, *tags: Any) -> torch.Generator:
        """A generator seeded from (seed, tags): independent, reproducible streams per purpose."""
        return torch.Generator(device=self.device).manual_seed(int(config_hash([self.seed, *tags], 15), 16))

    def desc(self, text: str) -> str | None:
        """Progress-bar label, or None (no bar) when progress is off."""
        return text if self.progress else None

    def key(self, **parts: Any) -> dict[str, Any]:
        """Cache key parts common to all trained models of this setup (the device only when it is not the CPU:
        other devices do not reproduce CPU numbers bit for bit)."""
        device = {} if self.device.type == "cpu" else {"device": self.device.type}
        return dict(model=self.model_name, model_kwargs=self.model_kwargs, data=self.data.name,
                    train=vars(self.settings), seed=self.seed, **device, **parts)

    def trained(self, key: dict[str, Any], build: Callable[[], Built], label: str) -> Built:
        """``build()`` (a model and extra tensors), cached in memory and on disk under ``hash(key)``."""
        return self.cache.get(label, key, build, self.new_model)

    def train(self, label: str, noise_snr_db: float | None = None) -> nn.Module:
        """Train (or load) a model from scratch, with channel-noise injection at ``noise_snr_db`` if given."""
        full_key = self.key(label=label, noise_snr_db=noise_snr_db,
                            channel=self.channel_cfg if noise_snr_db is not None else None)

        def build() -> Built:
            model = self.new_model()
            g = self.generator("train", label, full_key)
            noise = ChannelNoise(self.channel, noise_snr_db, generator=g) if noise_snr_db is not None else None
            train_model(model, self.data.x_train, self.data.y_train, self.settings, g, weight_noise=noise,
                        desc=self.desc(f"train {label}"))
            return model, {}

        return self.trained(full_key, build, label)[0]

    def teacher(self) -> nn.Module:
        """The conventionally trained full model (the distillation teacher and the digital starting point)."""
        return self.train("clean")

    def noise_injected(self, snr_db: float) -> nn.Module:
        """The full model trained with noise injection at ``snr_db``."""
        return self.train("noise_injection", noise_snr_db=snr_db)
