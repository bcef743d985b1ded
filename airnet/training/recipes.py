"""Model recipes: how each network a scheme sends is trained, once per context, cached by everything that shapes it.

* :meth:`Recipes.teacher`: the conventionally trained full model (the distillation teacher, the digital start);
* :meth:`Recipes.noise_injected`: the full model fine-tuned from the clean one (or trained from scratch) under the
  channel's delivery noise at a design SNR;
* :meth:`Recipes.pruned`: pruned to ``keep`` weights with KD fine-tuning (iterative magnitude or RigL, optionally
  through teacher assistants), under analog delivery noise or quantization-aware (digital);
* :meth:`Recipes.spectrum`: one shared network with nested sub-networks per SNR level.

Every trained model is cached (memory and disk) under a key of everything that affects its weights, and its random
stream is seeded from that key, so results do not depend on which models were trained before.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

import torch
from torch import nn

from airnet.config.options import options_dict
from airnet.context import Context
from airnet.delivery.plan import uniform_expansion_plan
from airnet.store.artifacts import Built
from airnet.training.distillation import distillation_loss
from airnet.training.loop import Distillation, TrainSettings, View, WeightNoise, train_model
from airnet.training.noise import ChannelNoise, uses_pool
from airnet.training.pruning import Pruner, PruneOptions, iterative_prune, make_pruner
from airnet.training.rigl import RigL
from airnet.training.spectrum import (OrderedWidths, Spectrum, SpectrumLevel, SpectrumOptions, importance_ranking,
                                      spectrum_levels)
from airnet.zoo.models import MODELS, runs_channels_last
from airnet.zoo.params import ParamLayout, load_vector, model_vector

# settings that shape only the noise-injected model and those started from it: in their keys, not every model's
NOISE_ONLY = ("noise_stream", "noise_finetune_epochs", "noise_finetune_lr")
QuantizerNoise = Callable[[Any, torch.Tensor, torch.Tensor], "WeightNoise | list[View]"]


@dataclass(frozen=True)
class QuantizationAware:
    """Quantization-aware fine-tuning at ``bits`` with the payload's quantizer: ``noise(bits, layer_of, mask)`` is
    the straight-through quantization of the kept weights (:class:`airnet.digital.quantization.QuantizationNoise`,
    a tuple of widths: one per layer), or a list of training views (:func:`airnet.digital.layered.nested_quantization`:
    one network per width, trained once for all of them)."""

    bits: int | tuple[int, ...]
    noise: QuantizerNoise


@dataclass(frozen=True)
class Recipes:
    """The model recipes of one context and one set of training settings (``conf/train/``)."""

    context: Context
    settings: TrainSettings

    def for_seed(self, seed: int) -> "Recipes":
        """The same recipes in the context of another training seed."""
        return replace(self, context=self.context.for_seed(seed))

    def key(self, **parts: Any) -> dict[str, Any]:
        """Cache key parts common to all trained models of this context (the device only when it is not the CPU:
        other devices do not reproduce CPU numbers bit for bit). The noise stream enters only where it resolves to
        the pool, and the precision only where it is bfloat16: the other models keep their keys, seeds and numbers
        from before those options existed."""
        ctx = self.context
        device = {} if ctx.device.type == "cpu" else {"device": ctx.device.type}
        train = {k: v for k, v in vars(self.settings).items() if k not in NOISE_ONLY}
        if train["precision"] == "float32":       # float32 models keep their keys from before the option existed
            del train["precision"]
        if uses_pool(ctx.channel, self.settings.noise_stream, ctx.num_params, ctx.device):
            train["noise_stream"] = "pool"
        # a model trained in channels_last runs other kernels: its own keys (the other models keep theirs)
        layout = {"memory_format": "channels_last"} if runs_channels_last(MODELS[ctx.model.name].factory,
                                                                         ctx.device) else {}
        return dict(model=ctx.model.name, model_kwargs=ctx.model.kwargs, data=ctx.data.name,
                    train=train, seed=ctx.seed, **device, **layout, **parts)

    def noise_start(self) -> dict[str, Any]:
        """Key part of every model that starts from the noise-injected one (itself, the analog pruned and spectrum
        models): how it is trained, when it is fine-tuned from the clean model (from scratch: no part, the keys of
        0.5)."""
        s = self.settings
        if s.noise_finetune_epochs == 0:
            return {}
        return {"noise_from_clean": {"epochs": s.noise_finetune_epochs, "lr": s.noise_finetune_lr}}

    def trained(self, key: dict[str, Any], build: Callable[[], Built], label: str) -> Built:
        """``build()`` (a model and extra tensors), cached in memory and on disk under ``hash(key)``."""
        return self.context.cache.get(label, key, build, self.context.new_model)

    def train(self, label: str, noise_snr_db: float | None = None) -> nn.Module:
        """Train (or load) a model, with channel-noise injection at ``noise_snr_db`` if given: from scratch, or with
        noise and ``noise_finetune_epochs`` > 0, fine-tuned from the clean model."""
        ctx = self.context
        noisy = noise_snr_db is not None
        start = self.noise_start() if noisy else {}
        full_key = self.key(label=label, noise_snr_db=noise_snr_db, channel=ctx.channel_cfg if noisy else None,
                            **start)

        def build() -> Built:
            model = ctx.new_model()
            settings = self.settings
            if start:
                model.load_state_dict(self.teacher().state_dict())
                settings = settings.replace(epochs=settings.noise_finetune_epochs, lr=settings.noise_finetune_lr)
            g = ctx.generator("train", label, full_key)
            noise = None if noise_snr_db is None else ChannelNoise(ctx.channel, noise_snr_db, generator=g,
                                                                    stream=self.settings.noise_stream)
            train_model(model, ctx.data.x_train, ctx.data.y_train, settings, g, weight_noise=noise,
                        desc=ctx.desc(f"{'fine-tune' if start else 'train'} {label}"))
            return model, {}

        return self.trained(full_key, build, label)[0]

    def teacher(self) -> nn.Module:
        """The conventionally trained full model (the distillation teacher and the digital starting point)."""
        return self.train("clean")

    def noise_injected(self, snr_db: float) -> nn.Module:
        """The full model trained with noise injection at ``snr_db``."""
        return self.train("noise_injection", noise_snr_db=snr_db)

    def pruned(self, o: PruneOptions, keep: int, factor: int = 1, snr_db: float | None = None,
               quantization: QuantizationAware | None = None) -> tuple[nn.Module, torch.Tensor]:
        """Prune to ``keep`` weights with KD fine-tuning (cached); returns (model, mask [n] bool).

        With ``snr_db`` the network starts from the noise-injected model and is fine-tuned under the delivery noise
        of ``factor``-fold expansion at that SNR (analog); without it, it starts from the clean model and is
        fine-tuned noise-free, or quantization-aware (digital).
        """
        ctx = self.context
        n = ctx.num_params
        if not 1 <= keep <= n:
            raise ValueError(f"cannot keep {keep} of {n} weights")
        # assistants sit between teacher and student: those not larger than the student are skipped
        o = replace(o, assistants=tuple(a for a in o.assistants if round(a * n) > keep))
        analog = snr_db is not None
        key = self.key(label="pruned", keep=keep, factor=factor, prune=options_dict(o),
                       channel=ctx.channel_cfg if analog else None, snr=snr_db,
                       **(self.noise_start() if analog else {}),
                       quant_bits=(list(quantization.bits) if isinstance(quantization.bits, tuple)
                                   else quantization.bits) if quantization else None,
                       # a tuple is per-layer widths or nested widths, by the quantizer
                       **({"quant_noise": getattr(quantization.noise, "__name__", repr(quantization.noise))}
                          if quantization and isinstance(quantization.bits, tuple) else {}))

        def build() -> Built:
            teacher = self.teacher()
            if o.assistants:      # the chain before the last assistant trains it; the last assistant teaches here
                teacher = self.pruned(replace(o, assistants=o.assistants[:-1]), round(o.assistants[-1] * n))[0]
            kd = Distillation(teacher, o.temperature, o.alpha)
            model = ctx.new_model()
            model.load_state_dict((self.noise_injected(snr_db) if snr_db is not None else self.teacher()).state_dict())
            g = ctx.generator("prune", key)
            layer_of = ParamLayout.of(model).layer_of().to(ctx.device)

            def noise_for(mask: torch.Tensor) -> WeightNoise | list[View] | None:
                if snr_db is not None:
                    return ChannelNoise(ctx.channel, snr_db, plan=uniform_expansion_plan(mask, factor), generator=g)
                return quantization.noise(quantization.bits, layer_of, mask) if quantization else None

            pruner = make_pruner(model, o.structure, protect_biases_up_to=keep)
            if o.method == "rigl":
                return model, {"mask": self._rigl(o, model, keep, factor, pruner, noise_for, kd, g)}
            ft = self.settings.replace(epochs=o.finetune_epochs, lr=o.lr)

            def finetune(m: nn.Module, mask: torch.Tensor) -> None:
                noise = noise_for(mask)
                views, single = (noise, None) if isinstance(noise, list) else (None, noise)
                train_model(m, ctx.data.x_train, ctx.data.y_train, ft, g, weight_noise=single, mask=mask,
                            distill=kd, views=views, desc=ctx.desc(f"fine-tune keep={int(mask.sum())}"))

            return model, {"mask": iterative_prune(model, keep, o.steps, finetune, pruner)}

        model, extras = self.trained(key, build, "pruned")
        return model, extras["mask"]

    def _rigl(self, o: PruneOptions, model: nn.Module, keep: int, factor: int, pruner: Pruner,
              noise_for: Callable[[torch.Tensor], WeightNoise | list[View] | None], kd: Distillation,
              g: torch.Generator) -> torch.Tensor:
        """Sparse training at ``keep`` weights from the start (RigL) for ``steps x finetune_epochs`` epochs."""
        ctx = self.context
        mask = pruner.select(model_vector(model), keep)
        load_vector(model, model_vector(model) * mask)
        epochs = o.steps * o.finetune_epochs
        batches = -(-len(ctx.data.y_train) // self.settings.batch_size)
        noise = noise_for(mask)
        if isinstance(noise, list):
            raise ValueError("training once for several widths (layered digital) is not implemented with RigL: "
                             "set the scheme's prune.method=iterative_magnitude")
        final = [mask]

        def changed(new: torch.Tensor) -> None:
            final[0] = new
            if isinstance(noise, ChannelNoise):          # the delivery noise follows the weights that are sent
                noise.set_plan(uniform_expansion_plan(new, factor))

        def kd_loss(logits: torch.Tensor, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                soft = kd.teacher(xb)
            return distillation_loss(logits, soft, yb, kd.temperature, kd.alpha)

        hook = RigL(epochs * batches, o.rigl_interval, o.rigl_alpha, protect=getattr(pruner, "protect", None),
                    loss=kd_loss, on_change=changed)
        train_model(model, ctx.data.x_train, ctx.data.y_train, self.settings.replace(epochs=epochs, lr=o.lr), g,
                    weight_noise=noise, mask=mask, distill=kd, mask_update=hook, desc=ctx.desc(f"RigL keep={keep}"))
        return final[0]

    def spectrum(self, o: SpectrumOptions, budget: int,
                 keeps: dict[SpectrumLevel, int]) -> tuple[nn.Module, Spectrum]:
        """(trained shared model, its :class:`Spectrum`) for a budget of ``budget`` channel uses, each level keeping
        ``keeps[level]`` weights (0: the level is off), trained jointly (cached)."""
        ctx = self.context
        levels = spectrum_levels(o)
        ordered = o.nesting == "ordered_width"
        widths = OrderedWidths(ctx.new_model()) if ordered else None
        key = self.key(label="spectrum", budget=budget, spectrum=options_dict(o), channel=ctx.channel_cfg,
                       keeps=[keeps[lv] for lv in levels], **self.noise_start())

        def build() -> Built:
            kd = Distillation(self.teacher(), o.temperature, o.alpha)
            model = ctx.new_model()
            model.load_state_dict(self.noise_injected(o.start_snr_db).state_dict())
            ranking = None if ordered else importance_ranking(model)
            spec = Spectrum(ranking, levels, 2 * budget, keeps, widths)
            g = ctx.generator("spectrum", key)
            views = (lambda: spec.sandwich_views(ctx.channel, g, o.sandwich_random, o.inplace_distillation)) \
                if ordered else spec.views(ctx.channel, g)
            train_model(model, ctx.data.x_train, ctx.data.y_train, self.settings.replace(epochs=o.epochs, lr=o.lr),
                        g, distill=kd, views=views, desc=ctx.desc("spectrum training"))
            return model, {"ranking": ranking if ranking is not None else torch.zeros(0, dtype=torch.long)}

        model, extras = self.trained(key, build, "spectrum")
        return model, Spectrum(None if ordered else extras["ranking"], levels, 2 * budget, keeps, widths)
