"""The context every delivery scheme works in: data, model architecture, channel, seed, device, caches, side link.

A :class:`Context` is frozen and holds no training: the model recipes (clean, noise-injected, pruned, spectrum) live
in :mod:`airnet.training.recipes` and take a context. Build one with :meth:`Context.build`; a sweep derives one per
training seed with :meth:`Context.for_seed` (data, channel and caches shared).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import torch
from torch import nn

from channels import Channel, channel_uses
from airnet.config.hashing import config_hash
from airnet.config.run import SideInfoOptions
from airnet.side_info.protection import LinkOptions, SideLink
from airnet.store.artifacts import JsonMemo, ModelCache
from airnet.zoo.data import DataSplits
from airnet.zoo.models import ModelSpec


@dataclass(frozen=True)
class Context:
    """Plain objects built from the config; schemes and recipes read nothing else.

    Attributes
    ----------
    data : DataSplits (on ``device``)
    model : ModelSpec
        The architecture every scheme delivers.
    channel : Channel
    channel_cfg : dict
        The channel's settings (part of cache keys).
    seed : int
        Training seed: model initialization and every random stream (:meth:`generator`).
    device : torch.device
    cache : ModelCache
        Trained models, in memory and (with a folder) on disk.
    side_link : SideLink
        How side information is paid for (its MCS choices are shared by every seed).
    progress : bool
        Progress bars.
    """

    data: DataSplits
    model: ModelSpec
    channel: Channel
    channel_cfg: dict[str, Any]
    seed: int
    device: torch.device
    cache: ModelCache
    side_link: SideLink
    progress: bool = False

    @classmethod
    def build(cls, data: DataSplits, model: ModelSpec, channel: Channel, channel_cfg: dict[str, Any], seed: int,
              side_info: SideInfoOptions, link: LinkOptions, cache_dir: Path | None = None, progress: bool = False,
              device: torch.device | str = "cpu") -> "Context":
        """A context with its caches (``cache_dir`` None keeps trained models in memory only) and side link.

        Example
        -------
        >>> ctx = Context.build(load_data("digits"), ModelSpec("mlp", {"hidden": [64]}), make_channel("awgn"),
        ...                     {"name": "awgn"}, 0, side_info, link)                        # doctest: +SKIP
        """
        device = torch.device(device)
        memo = JsonMemo(cache_dir) if cache_dir else None
        side_link = SideLink(channel, config_hash(channel_cfg), side_info, link, memo)
        return cls(data.to(device), model, channel, channel_cfg, seed, device, ModelCache(cache_dir, device),
                   side_link, progress)

    def for_seed(self, seed: int) -> "Context":
        """The same context with another training seed (data, channel, caches and side link shared)."""
        return replace(self, seed=seed)

    def dry(self) -> "Context":
        """The same context with a model cache that only reads: models already on disk load, new ones stay in
        memory (a dry run's untrained models never reach the disk)."""
        return replace(self, cache=ModelCache(self.cache.folder, self.device, read_only=True))

    def new_model(self) -> nn.Module:
        """Freshly initialized model on the context's device, deterministic in ``seed`` (initialized on the CPU, so
        every device starts from the same weights); the global torch RNG is left as it was."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            model = self.model.build(self.data.input_shape, self.data.num_classes)
        return model.to(self.device)

    @cached_property
    def param_sizes(self) -> tuple[int, ...]:
        """Entries of each parameter tensor of the model, in registration order (one model built, once)."""
        return tuple(p.numel() for p in self.new_model().parameters())

    @property
    def num_params(self) -> int:
        """Parameters of the model (the reals AirNet sends)."""
        return sum(self.param_sizes)

    @property
    def num_layers(self) -> int:
        """Parameter tensors of the model (side information codes one header or copy count per tensor)."""
        return len(self.param_sizes)

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
