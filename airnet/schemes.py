"""Delivery schemes compared in the sweeps: each turns (SNR, K realizations) into K received weight vectors.

A scheme is built for one experimental setup and one bandwidth budget (channel uses); training it is cached on
disk keyed by everything that affects the weights, so sweeps resume and schemes share their base models.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from channels import Channel, channel_uses
from airnet.data import DataSplits
from airnet.digital import DigitalPayload, LDPCQAMChain, capacity_bits_per_use, fit_payload, payload_vector
from airnet.io import config_hash, save_torch
from airnet.models import build_model
from airnet.noise_injection import ChannelNoise
from airnet.params import load_vector, model_vector
from airnet.expansion import expansion_keep, layer_expansion_plan, uniform_expansion_plan
from airnet.params import ParamLayout
from airnet.quantization import bits_to_codes, codes_to_bits
from airnet.pruning import iterative_prune, magnitude_mask
from airnet.spectrum import Spectrum, SpectrumLevel, importance_ranking, spectrum_train
from airnet.training import Distillation, TrainSettings, train_model
from airnet.transmission import TransmissionPlan, transmit_vector
from airnet.uep import allocate_expansion, layer_sensitivity


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
    progress: bool = False
    _memo: dict[str, tuple[nn.Module, dict[str, Any]]] = field(default_factory=dict, repr=False)

    def new_model(self) -> nn.Module:
        """Freshly initialized model (deterministic in ``seed``)."""
        torch.manual_seed(self.seed)
        return build_model(self.model_name, self.data.input_shape, self.data.num_classes, **self.model_kwargs)

    @cached_property
    def num_params(self) -> int:
        """Parameters of the model (computed once: building a model reseeds torch)."""
        return sum(p.numel() for p in self.new_model().parameters())

    @property
    def full_channel_uses(self) -> int:
        """Channel uses to send every weight once."""
        return channel_uses(self.num_params)

    def generator(self, *tags: Any) -> torch.Generator:
        """A generator seeded from (seed, tags): independent, reproducible streams per purpose."""
        return torch.Generator().manual_seed(int(config_hash([self.seed, *tags], 15), 16))

    def desc(self, text: str) -> str | None:
        """Progress-bar label, or None (no bar) when progress is off."""
        return text if self.progress else None

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
                        desc=self.desc(f"train {label}"), **kwargs)
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


class PruningKDScheme(Scheme):
    """Prune to the budget (iterative magnitude pruning), fine-tune under channel noise with KD from the teacher.

    With ``factor`` > 1 this is channel expansion: prune to ``budget // factor`` and send each weight that often.
    """

    name = "pruning_kd"
    factor_option = None

    def factor(self) -> int:
        return 1 if self.factor_option is None else int(self.opts.get(self.factor_option, 2))

    def pruned(self, factor: int) -> tuple[nn.Module, torch.Tensor]:
        """(fine-tuned pruned model, mask [n]) for this budget and expansion factor (cached)."""
        setup = self.setup
        o = setup.options.get("pruning_kd", {})
        snr = float(o.get("snr_db", setup.options.get("noise_injection", {}).get("snr_db", 5.0)))
        keep = min(expansion_keep(2 * self.budget, factor), setup.num_params)
        if keep < 1:
            raise ValueError(f"a budget of {self.budget} channel uses leaves no weight at expansion factor {factor}")
        key = setup.key(label="pruned", keep=keep, factor=factor, prune=o, channel=setup.channel_cfg, snr=snr)

        def build() -> tuple[nn.Module, dict[str, Any]]:
            teacher = setup.train("clean", {})
            model = setup.new_model()
            start = setup.train("noise_injection", {}, noise_snr_db=snr)
            model.load_state_dict(start.state_dict())
            ft = TrainSettings(epochs=int(o.get("finetune_epochs", 10)), batch_size=setup.settings.batch_size,
                               lr=float(o.get("lr", setup.settings.lr / 3)), weight_decay=setup.settings.weight_decay)
            kd = Distillation(teacher, float(o.get("temperature", 4.0)), float(o.get("alpha", 0.7)))
            g = setup.generator("prune", key)

            def finetune(m: nn.Module, mask: torch.Tensor) -> None:
                noise = ChannelNoise(setup.channel, snr, plan=uniform_expansion_plan(mask, factor), generator=g)
                train_model(m, setup.data.x_train, setup.data.y_train, ft, g, weight_noise=noise, mask=mask,
                            distill=kd, desc=setup.desc(f"fine-tune keep={int(mask.sum())}"))

            mask = iterative_prune(model, keep, int(o.get("steps", 3)), finetune)
            return model, {"mask": mask}

        model, extras = setup.trained(key, build, "pruned")
        return model, extras["mask"]

    def plan(self, model: nn.Module, mask: torch.Tensor, snr_db: float,
             generator: torch.Generator) -> tuple[TransmissionPlan, dict[str, Any]]:
        return uniform_expansion_plan(mask, self.factor()), {"expansion": self.factor()}

    def deliver(self, snr_db, num_realizations, generator):
        model, mask = self.pruned(self.factor())
        plan, info = self.plan(model, mask, snr_db, generator)
        vecs = transmit_vector(model_vector(model), self.setup.channel, snr_db, num_realizations, plan, generator)
        return Delivery(model, vecs, plan.channel_uses, {"params_sent": int(mask.sum()), **info})


class ExpansionScheme(PruningKDScheme):
    """Uniform channel expansion by ``train.expansion.factor``."""

    name = "expansion"
    factor_option = "factor"


class UEPScheme(PruningKDScheme):
    """Same pruned network as uniform expansion; per-layer factors from measured noise sensitivity at this SNR."""

    name = "uep"

    def factor(self) -> int:
        return int(self.opts.get("base_factor", self.setup.options.get("expansion", {}).get("factor", 2)))

    def plan(self, model, mask, snr_db, generator):
        layout = ParamLayout.of(model)
        layer_of = layout.layer_of()
        w = model_vector(model)
        probe = uniform_expansion_plan(mask, 1)
        sens = layer_sensitivity(model, w, probe, self.setup.channel, snr_db, self.setup.data.x_val,
                                 self.setup.data.y_val, int(self.opts.get("draws", 8)),
                                 self.setup.generator("uep", snr_db, self.budget))
        sizes = torch.bincount(layer_of[mask], minlength=len(layout.names))
        factors = allocate_expansion(sizes, sens, 2 * self.budget, int(self.opts.get("max_factor", 16)))
        return layer_expansion_plan(mask, layer_of, factors), {"expansion": "/".join(map(str, factors.tolist()))}


class SpectrumScheme(Scheme):
    """One spectrum-trained shared network; the receiver picks the nested sub-network for the current SNR."""

    name = "spectrum"

    def spectrum(self) -> tuple[nn.Module, Spectrum]:
        setup, o = self.setup, self.opts
        levels = [SpectrumLevel(float(l["snr_db"]), int(l["factor"])) for l in o.get("levels", [
            {"snr_db": -5.0, "factor": 4}, {"snr_db": 0.0, "factor": 2}, {"snr_db": 10.0, "factor": 1}])]
        key = setup.key(label="spectrum", budget=self.budget, spectrum=o, channel=setup.channel_cfg)

        def build() -> tuple[nn.Module, dict[str, Any]]:
            teacher = setup.train("clean", {})
            start = setup.train("noise_injection", {},
                                noise_snr_db=setup.options.get("noise_injection", {}).get("snr_db", 5.0))
            model = setup.new_model()
            model.load_state_dict(start.state_dict())
            ranking = importance_ranking(model)
            spec = Spectrum(ranking, levels, 2 * self.budget)
            st = TrainSettings(epochs=int(o.get("epochs", 20)), batch_size=setup.settings.batch_size,
                               lr=float(o.get("lr", setup.settings.lr / 3)), weight_decay=setup.settings.weight_decay)
            kd = Distillation(teacher, float(o.get("temperature", 4.0)), float(o.get("alpha", 0.7)))
            spectrum_train(model, spec, setup.channel, setup.data.x_train, setup.data.y_train, st,
                           setup.generator("spectrum", key), kd, desc=setup.desc("spectrum training"))
            return model, {"ranking": ranking}

        model, extras = setup.trained(key, build, "spectrum")
        return model, Spectrum(extras["ranking"], levels, 2 * self.budget)

    def deliver(self, snr_db, num_realizations, generator):
        model, spec = self.spectrum()
        level = spec.level_for(snr_db)
        plan = spec.plan(level)
        vecs = transmit_vector(model_vector(model), self.setup.channel, snr_db, num_realizations, plan, generator)
        mem = spec.memory(self.setup.num_params)
        return Delivery(model, vecs, plan.channel_uses, {"params_sent": int(plan.mask.sum()),
                                                         "expansion": level.factor, **mem})


class DigitalCapacityScheme(Scheme):
    """Separation bound: prune+quantize the clean model to ``budget x capacity`` bits, delivered error-free.

    If nothing fits (not even one weight plus the header), delivery fails and the receiver has a blank model.
    """

    name = "digital_capacity"

    def payload(self, bits_available: int) -> DigitalPayload:
        model = self.setup.train("clean", {})
        key = (bits_available, tuple(self.bit_options()))
        cache = self.__dict__.setdefault("_payloads", {})
        if key not in cache:
            cache[key] = fit_payload(model, bits_available, self.bit_options(), self.setup.data.x_val,
                                     self.setup.data.y_val)
        return cache[key]

    def bit_options(self) -> list[int]:
        return [int(b) for b in self.opts.get("bits", [1, 2, 3, 4, 5, 6, 8, 10, 12, 16])]

    def info(self, payload: DigitalPayload) -> dict[str, Any]:
        return {"params_sent": int(payload.mask.sum()) if payload.mask is not None else 0, "quant_bits": payload.bits,
                "payload_bits": payload.payload_bits, "bits_available": payload.bits_available}

    def deliver(self, snr_db, num_realizations, generator):
        bits = int(math.floor(self.budget * capacity_bits_per_use(self.setup.channel, snr_db)))
        payload = self.payload(bits)
        vecs = payload_vector(payload, self.setup.num_params).expand(num_realizations, -1)
        return Delivery(self.setup.train("clean", {}), vecs, self.budget, self.info(payload))


class DigitalLDPCScheme(DigitalCapacityScheme):
    """Practical separation: pruned+quantized clean model, 5G LDPC + QAM (Sionna) over the same channel.

    Bits that the decoder gets wrong flip bits of the quantized codes (the cliff below the code's threshold).
    """

    name = "digital_ldpc"

    def chain(self) -> LDPCQAMChain:
        if "_chain" not in self.__dict__:
            o = self.opts
            self._chain = LDPCQAMChain(int(o.get("k", 512)), float(o.get("rate", 0.5)),
                                       int(o.get("bits_per_symbol", 4)), int(o.get("num_iter", 20)))
        return self._chain

    def deliver(self, snr_db, num_realizations, generator):
        chain = self.chain()
        codewords = chain.codewords_for(self.budget)
        payload = self.payload(codewords * chain.k)
        model = self.setup.train("clean", {})
        info = {**self.info(payload), "code_rate": round(chain.k / chain.n, 4), "bits_per_symbol": chain.m}
        if payload.quantized is None:
            return Delivery(model, payload_vector(payload, self.setup.num_params).expand(num_realizations, -1),
                            chain.channel_uses(codewords), info)
        q = payload.quantized
        tx = codes_to_bits(q.codes, q.bits)
        used = math.ceil(tx.numel() / chain.k)
        pad = used * chain.k - tx.numel()
        stream = torch.nn.functional.pad(tx, (0, pad)).expand(num_realizations, -1)
        rx = chain.transmit(stream, self.setup.channel, snr_db, generator)[:, :tx.numel()]
        info["ber"] = float((rx != tx).float().mean())
        codes = bits_to_codes(rx, q.bits)
        return Delivery(model, payload_vector(payload, self.setup.num_params, codes), chain.channel_uses(used), info)


SCHEMES: dict[str, type[Scheme]] = {}


def register_scheme(cls: type[Scheme]) -> type[Scheme]:
    """Add a Scheme subclass to the registry under ``cls.name``."""
    SCHEMES[cls.name] = cls
    return cls


for _cls in (CleanScheme, NoiseInjectionScheme, PruningKDScheme, ExpansionScheme, UEPScheme, SpectrumScheme,
             DigitalCapacityScheme, DigitalLDPCScheme):
    register_scheme(_cls)


def make_scheme(name: str, setup: Setup, budget: int) -> Scheme:
    """Instantiate a registered scheme by name."""
    if name not in SCHEMES:
        raise ValueError(f"unknown scheme {name!r}; available: {', '.join(sorted(SCHEMES))}")
    return SCHEMES[name](setup, budget)
