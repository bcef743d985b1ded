"""``digital_layered``: layered digital broadcast, the digital system that serves a range of SNRs.

One model, pruned to the weights that fit and trained once for all its widths (quantization-aware, every width's
network in every step), is quantized at the top width and cut into bit-plane layers (:mod:`airnet.digital.layered`). Layer
``i`` goes over 5G NR LDPC at the most efficient MCS whose trial blocks all decode at its own design SNR
``layer_snr_db[i]`` (the robust choice that protects side information), the layers time-sharing the budget. A
receiver uses every prefix of layers it decodes: below the lowest design SNR it has nothing, above each design
SNR it gains that layer's precision. The design SNRs are options (in every row's ``config_id``), never derived
from the sweep's points; the point's own design SNR is ignored.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import torch

from airnet.config.options import within
from airnet.digital.layered import LayeredPayload, nested_quantization
from airnet.digital.quantization import quantize
from airnet.schemes.base import Delivery, register_scheme
from airnet.schemes.digital import OnTheLink
from airnet.side_info.bits import WIDTH_BITS, SideInfo, payload_parts, state_bits
from airnet.side_info.protection import SELECTION_K
from airnet.side_info.search import largest_fitting
from airnet.side_info.transports import MCS, LDPCTransport, segment_bits
from airnet.training.pruning import Pruner, PruneOptions, make_pruner
from airnet.training.recipes import QuantizationAware
from airnet.zoo.params import ParamLayout, model_vector


@dataclass(frozen=True)
class LayeredOptions:
    """``widths``: bits a receiver knows per weight after each layer (ascending; the last is the quantizer's);
    ``layer_snr_db``: each layer's design SNR (ascending, one per width): the served range starts at the first;
    ``structure``: pruning structure; ``prune``: pruning and fine-tuning options (``scheme.pruning_kd``)."""

    widths: tuple[int, ...]
    layer_snr_db: tuple[float, ...]
    structure: Literal["unstructured", "structured"]
    prune: PruneOptions

    def __post_init__(self) -> None:
        if not self.widths or len(self.widths) != len(self.layer_snr_db):
            raise ValueError(f"widths {list(self.widths)} and layer_snr_db {list(self.layer_snr_db)} must list one "
                             f"value per layer")
        for w in self.widths:
            within("widths", w, 1, 24)
        if list(self.widths) != sorted(set(self.widths)):
            raise ValueError(f"widths must increase, got {list(self.widths)}")
        if list(self.layer_snr_db) != sorted(self.layer_snr_db):
            raise ValueError(f"layer_snr_db must be ascending, got {list(self.layer_snr_db)}")


@register_scheme("digital_layered")
class DigitalLayered(OnTheLink[LayeredOptions]):
    """Bit-plane layers, each on its own NR MCS for its own design SNR (see the module docstring)."""

    Options = LayeredOptions

    @classmethod
    def needs_units(cls, options: LayeredOptions) -> str | None:
        return "structure" if options.structure == "structured" else None

    def mcs(self) -> list[MCS | None]:
        """Each layer's MCS: the most efficient whose trial blocks all decode at its design SNR (None: none does)."""
        k = 2 ** (min(self.link.k_max, SELECTION_K).bit_length() - 1)
        return self.memoized("mcs", None, lambda: [self.context.side_link.robust_mcs(float(s), k)
                                                    for s in self.options.layer_snr_db])

    def transports(self, layer_bits: list[int]) -> list[LDPCTransport] | None:
        """The layers' transports for ``layer_bits`` (None when a layer has no MCS or they exceed the budget)."""
        mcs = self.mcs()
        if any(m is None for m in mcs):
            return None
        out = [LDPCTransport(segment_bits(m, b, self.link.k_max), self.link.num_iter, self.link.early_stop)
               for m, b in zip(mcs, layer_bits) if m is not None]
        return out if sum(t.channel_uses for t in out) <= self.symbols else None

    def side_info(self, pruner: Pruner, mask: torch.Tensor, state: int) -> SideInfo:
        """Header (offset and step per layer), the widths, ``state`` bits and the coded mask."""
        layers = len(ParamLayout.of(self.context.new_model()).names)
        parts = payload_parts(layers, 0 if bool(mask.all()) else int(pruner.mask_bits(mask)), state)
        parts.pop("width", None)
        return SideInfo({**parts, "widths": WIDTH_BITS * len(self.options.widths)})

    def fits(self, pruner: Pruner, mask: torch.Tensor, state: int) -> bool:
        p = LayeredPayload(mask, _NO_CODES, self.side_info(pruner, mask, state), self.options.widths)
        return self.transports(p.layer_bits(self.side_counted)) is not None

    def keep(self) -> int:
        """Most weights (masks picked from the clean model, exact mask code) whose layers fit the budget."""
        def compute() -> int:
            teacher = self.recipes.teacher()
            pruner = make_pruner(teacher, self.options.structure)
            w = model_vector(teacher).cpu()
            state = state_bits(teacher)

            def fits(keep: int) -> bool:
                if keep < pruner.min_keep:
                    return False
                mask = torch.ones_like(w, dtype=torch.bool) if keep == w.numel() else pruner.select(w, keep)
                return self.fits(pruner, mask, state)

            return largest_fitting(w.numel(), fits)

        return self.memoized("keep", None, compute)

    def payload(self) -> tuple[torch.nn.Module, LayeredPayload | None]:
        """(model trained once for all widths, its layered payload), or (teacher, None) if nothing fits."""
        return self.memoized("payload", None, self._payload)

    def _payload(self) -> tuple[torch.nn.Module, LayeredPayload | None]:
        keep = self.keep()
        if keep < 1:
            return self.recipes.teacher(), None
        o = self.options
        qat = QuantizationAware(tuple(o.widths), nested_quantization)
        model, mask = self.recipes.pruned(replace(o.prune, structure=o.structure), keep, quantization=qat)
        pruner = make_pruner(model, o.structure)
        w = model_vector(model).cpu()
        mask = mask.cpu()
        state = state_bits(model)
        while not self.fits(pruner, mask, state):     # the trained mask may code longer than the planned one
            if int(mask.sum()) - 1 < pruner.min_keep:
                return model, None
            mask = pruner.select(w * mask, int(mask.sum()) - 1) & mask
        layout = ParamLayout.of(model)
        layer_of = layout.layer_of()
        q = quantize(w[mask], layer_of[mask], max(o.widths), len(layout.names))
        return model, LayeredPayload(mask, q, self.side_info(pruner, mask, state), o.widths)

    def searches(self, snr_db: float, design_snr_db: float | None = None) -> None:
        """The layers' MCS searches."""
        self.mcs()

    def deliver(self, snr_db: float, num_realizations: int, generator: torch.Generator,
                design_snr_db: float | None = None) -> Delivery:
        ctx = self.context
        model, payload = self.payload()
        info: dict[str, Any] = {"designs": "/".join(f"{s:g}" for s in self.options.layer_snr_db) + " dB",
                                "widths": "/".join(map(str, self.options.widths))}
        if self.side_counted:
            info["side_info_snr_db"] = float(self.options.layer_snr_db[0])
        bits = payload.layer_bits(self.side_counted) if payload else None
        transports = self.transports(bits) if bits else None
        if payload is None or bits is None or transports is None:
            return Delivery(model, torch.zeros(num_realizations, ctx.num_params), 0,
                            info={**info, "params_sent": 0, "link": "none"})
        oks = []
        for t, b in zip(transports, bits):
            sent = torch.randint(0, 2, (num_realizations, b), generator=generator, device=generator.device).float()
            oks.append(t.send(sent, ctx.channel, snr_db, generator)[1])
        uses = sum(t.channel_uses for t in transports)
        side_bits = payload.side.bits if self.side_counted else 0
        side_uses = -(-side_bits * transports[0].channel_uses // max(1, transports[0].payload_bits))
        info.update(draws_shape=f"digital layers {'/'.join(map(str, bits))} bits",
                    link=" | ".join(t.describe() for t in transports), params_sent=int(payload.mask.sum()),
                    quant_bits=max(self.options.widths), structure=self.options.structure, payload_bits=sum(bits),
                    side_info_parts=payload.side.describe(),
                    layers_ok="/".join(f"{float(ok.all(dim=1).float().mean()):.3f}" for ok in oks))
        return Delivery(model, payload.received(oks, self.side_counted), ctx.channel.uses_for(uses), side_bits,
                        side_uses, info)

    def label(self) -> str:
        return ("digital: layered, " + "/".join(map(str, self.options.widths)) + " bits at "
                + "/".join(f"{s:g}" for s in self.options.layer_snr_db) + " dB")


_NO_CODES = quantize(torch.zeros(0), torch.zeros(0, dtype=torch.long), 1, 0)   # sizing needs no codes
