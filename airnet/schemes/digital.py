"""Digital separation baselines: prune + quantize to the bits a digital link carries, side information included.

* ``digital_capacity``: the separation bound. Two payloads, each fine-tuned the same way and sent with an ideal
  code over the whole budget: its own (sized for the ideal code at the design SNR, its width chosen on validation
  data) and the one ``digital_amc`` with the same options sends. Each point reports the one of higher test
  accuracy over the point's draws (both see the same draws): a genie choice, so the row is an upper bound, not a
  transmitter. On AWGN the code runs at ``log2(1 + SNR)``; on fading channels each codeword succeeds iff its own
  mutual information carries it (outage, designed for ``link.error_probability``), or by the normal
  approximation. What it bounds: ``digital_amc`` with the same options at every point, seed and draw set on AWGN
  (its payload arrives error-free here, while LDPC can fail); on fading channels an ideal single codeword, which
  a multi-block LDPC payload that loses some blocks can occasionally beat. Below the design SNR the rate exceeds
  the capacity and the receiver gets nothing.
* ``digital_ldpc``: one fixed MCS (by default rate 1/2, 16-QAM) over 5G NR LDPC, as a fixed-rate system.
* ``digital_amc``: adaptive modulation and coding: at the design SNR the transmitter picks the NR MCS (QPSK to
  256-QAM, with repetition below MCS 0), bit width and pruning that maximize validation accuracy.

All start from the best model the analog side has at their budget: pruned to the weights that fit and fine-tuned
with KD from the clean teacher (``finetune``), quantization-aware at the payload's bit width (``qat``), and send
entropy-coded codes (``entropy_coding``; :mod:`airnet.digital.entropy`). The (width, structure, size) candidates
are chosen by successive halving (``screen_epochs``, ``finalists``): short fine-tunes rank them, the best few get
the full one.
"""
from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, replace
from functools import cached_property
from fractions import Fraction
from typing import Any, Literal, TypeVar

import torch
from torch import nn

from airnet.config.options import within
from airnet.delivery.evaluation import accuracy_of_vectors
from airnet.digital.allocation import allocate_widths
from airnet.digital.payload import Payload, build_payload, rank_payloads, validation_accuracy
from airnet.digital.quantization import QuantizationNoise
from airnet.schemes.base import O, Delivery, Scheme, register_scheme
from airnet.side_info.bits import payload_side_info, state_bits
from airnet.side_info.protection import LinkOptions
from airnet.side_info.transports import MCS, CapacityTransport, LDPCTransport, Transport, mcs_ladder, segment_uses
from airnet.training.pruning import PruneOptions, make_pruner
from airnet.training.recipes import QuantizationAware
from airnet.zoo.params import ParamLayout


@dataclass(frozen=True)
class DigitalOptions:
    """``bits``: candidate bit widths and ``structures``: candidate pruning structures (the best pair on
    validation data is used); ``finetune``: start from a model pruned to the digital budget and fine-tuned with KD
    (else the clean model, pruned without retraining); ``finetune_candidates``: how many of each bit width's best
    candidates (structure, size) before fine-tuning are fine-tuned to pick from; ``qat``: fine-tune
    quantization-aware; ``entropy_coding``: entropy-code each layer's codes (tables counted as side information);
    ``mixed_precision``: add a candidate with per-layer widths (from ``bits``) allocated by measured sensitivity
    (:mod:`airnet.digital.allocation`) at the best candidate's size and structure;
    ``screen_epochs`` and ``finalists``: successive halving of those candidates: each is first pruned in one
    step and fine-tuned for ``screen_epochs`` epochs (same loss, quantizer and learning rate), and only the
    ``finalists`` best on validation data get the full fine-tuning (0 epochs: every candidate gets it);
    ``validation_draws``: channel draws per candidate configuration on validation data; ``prune``: pruning
    and fine-tuning options (``scheme.pruning_kd``; its ``structure`` is replaced by the chosen one)."""

    bits: tuple[int, ...]
    structures: tuple[Literal["unstructured", "structured"], ...]
    finetune: bool
    finetune_candidates: int
    screen_epochs: int
    finalists: int
    qat: bool
    entropy_coding: bool
    mixed_precision: bool
    validation_draws: int
    prune: PruneOptions

    def __post_init__(self) -> None:
        if not self.bits or not self.structures:
            raise ValueError("bits and structures must each list at least one candidate")
        for b in self.bits:
            within("bits", b, 1, 24)
        within("finetune_candidates", self.finetune_candidates, 1)
        within("screen_epochs", self.screen_epochs, 0)
        within("finalists", self.finalists, 1)
        within("validation_draws", self.validation_draws, 1)


D = TypeVar("D", bound=DigitalOptions)


class OnTheLink(Scheme[O]):
    """A scheme that sends bits over the digital PHY of ``conf/link/`` (shared with side information)."""

    @property
    def side_counted(self) -> bool:
        return not self.context.side_link.free

    @property
    def link(self) -> LinkOptions:
        """The digital PHY (``conf/link/``), shared with side information."""
        return self.context.side_link.link

    @property
    def symbols(self) -> int:
        """Data symbols the budget holds (the channel's pilots take the rest)."""
        return self.context.channel.symbols_in(self.budget)


class DigitalScheme(OnTheLink[D]):
    """A payload on one transport that spans the whole budget (side information first, then codes)."""

    @classmethod
    def needs_units(cls, options: D) -> str | None:
        return "structures" if "structured" in options.structures else None

    @abstractmethod
    def transport(self, design_snr_db: float) -> tuple[Transport | None, dict[str, Any]]:
        """The link configuration for the design SNR and extra CSV columns."""

    def candidates(self, bits_available: int) -> list[tuple[float, Payload]]:
        """Structure, bit width and size candidates on the clean model (pruned without retraining, error-free),
        by validation accuracy, best first."""
        teacher = self.recipes.teacher()
        pruners = {s: make_pruner(teacher, s) for s in self.options.structures}
        return rank_payloads(teacher, bits_available, self.options.bits, pruners, self.context.data.x_val,
                             self.context.data.y_val, self.side_counted, self.options.entropy_coding)

    def proxy(self, bits_available: int) -> Payload | None:
        """The best candidate before fine-tuning (used to compare link configurations)."""
        ranked = self.candidates(bits_available)
        return ranked[0][1] if ranked else None

    def payload(self, bits_available: int) -> tuple[nn.Module, Payload | None]:
        """(model, payload) for ``bits_available``: for every bit width, its best ``finetune_candidates``
        candidates (structure and size, ranked on the clean model) are fine-tuned at their size (quantization-aware
        at their width, with ``qat``); the best of them all on validation data is sent. With ``screen_epochs``,
        only the ``finalists`` best after a short fine-tune get the full one (successive halving).

        Widths are compared only after fine-tuning: ranked on the clean model, low widths look far worse than
        they are after quantization-aware training (1 bit: chance before, the best choice at 0 dB after)."""
        return self.memoized("payload", bits_available, lambda: self._payload(bits_available))

    def _payload(self, bits_available: int) -> tuple[nn.Module, Payload | None]:
        teacher = self.recipes.teacher()
        ranked = self.candidates(bits_available)
        best: tuple[nn.Module, Payload | None] = (teacher, ranked[0][1]) if ranked else (teacher, None)
        if ranked and self.options.finetune:
            best_acc = -1.0
            per_width: dict[int, int] = {}
            chosen = []
            for _, proxy in ranked:                  # best first: the first candidates of each width
                per_width[proxy.bits] = per_width.get(proxy.bits, 0) + 1
                if per_width[proxy.bits] <= self.options.finetune_candidates:
                    chosen.append(proxy)
            candidates: list[tuple[Payload, int | tuple[int, ...]]] = [(p, p.bits) for p in chosen]
            mixed = self.mixed_widths(ranked[0][1], bits_available) if self.options.mixed_precision else None
            if mixed is not None:
                candidates.append((ranked[0][1], mixed))
            if self.options.screen_epochs and len(candidates) > self.options.finalists:
                screened = sorted(((self.trained_payload(proxy, widths, bits_available, screen=True)[2], i)
                                   for i, (proxy, widths) in enumerate(candidates)), key=lambda t: -t[0])
                candidates = [candidates[i] for _, i in screened[:self.options.finalists]]
            for proxy, widths in candidates:
                model, payload, acc = self.trained_payload(proxy, widths, bits_available)
                if payload is not None and acc > best_acc:
                    best, best_acc = (model, payload), acc
        return best

    def trained_payload(self, proxy: Payload, widths: int | tuple[int, ...], bits_available: int,
                        screen: bool = False) -> tuple[nn.Module, Payload | None, float]:
        """(model, payload, validation accuracy) of one candidate: ``proxy``'s size and structure, fine-tuned
        (quantization-aware at ``widths`` with ``qat``) by the full recipe, or by the short one with ``screen``
        (one pruning step, ``screen_epochs`` epochs); accuracy -1 when no payload fits."""
        ctx = self.context
        teacher = self.recipes.teacher()
        keep = int(proxy.mask.sum())
        payload: Payload | None
        if keep == ctx.num_params and not self.options.qat and not isinstance(widths, tuple):
            model, payload = teacher, proxy      # nothing pruned: the clean model is the start
        else:
            prune = replace(self.options.prune, structure=proxy.structure)
            if screen:
                prune = replace(prune, steps=1, finetune_epochs=self.options.screen_epochs, assistants=(),
                                method="iterative_magnitude")
            qat = QuantizationAware(widths, QuantizationNoise) if self.options.qat else None
            model, mask = self.recipes.pruned(prune, keep, quantization=qat)
            payload = build_payload(model, mask, widths, make_pruner(model, proxy.structure), bits_available,
                                    self.side_counted, proxy.structure, self.options.entropy_coding)
        if payload is None:
            return model, None, -1.0
        return model, payload, validation_accuracy(model, payload, ctx.data.x_val, ctx.data.y_val, self.side_counted)

    def mixed_widths(self, proxy: Payload, bits_available: int) -> tuple[int, ...] | None:
        """Per-layer widths for ``proxy``'s weights (its mask on the clean model) in ``bits_available``, by
        sensitivity; None when they would all be equal (the uniform candidates cover that) or nothing fits."""
        ctx = self.context
        teacher = self.recipes.teacher()
        layout = ParamLayout.of(teacher)
        layers = len(layout.names)
        side = payload_side_info(make_pruner(teacher, proxy.structure), proxy.mask, layers, state_bits(teacher),
                                 widths=layers).parts
        budget = bits_available - (sum(side.values()) if self.side_counted else 0)
        widths = allocate_widths(teacher, proxy.mask, self.options.bits, budget, ctx.data.x_val, ctx.data.y_val,
                                 self.options.entropy_coding)
        present = [b for b, n in zip(widths or (), layout.layer_of()[proxy.mask.cpu()]
                                     .bincount(minlength=layers).tolist()) if n]
        return widths if widths is not None and len(set(present)) > 1 else None

    def configured(self, design_snr_db: float) -> tuple[Transport | None, nn.Module, Payload | None, dict[str, Any]]:
        """(transport, model, payload, CSV columns) the transmitter sends for ``design_snr_db``."""
        transport, info = self.transport(design_snr_db)
        model, payload = self.payload(transport.payload_bits) if transport else (self.recipes.teacher(), None)
        return transport, model, payload, dict(info)

    def searches(self, snr_db: float, design_snr_db: float | None = None) -> None:
        """The transport for the point's design (the MCS search of adaptive schemes)."""
        self.transport(float(snr_db if design_snr_db is None else design_snr_db))

    def deliver(self, snr_db: float, num_realizations: int, generator: torch.Generator,
                design_snr_db: float | None = None) -> Delivery:
        design = float(snr_db if design_snr_db is None else design_snr_db)
        transport, model, payload, info = self.configured(design)
        return self.send(transport, model, payload, info, snr_db, design, num_realizations, generator)

    def send(self, transport: Transport | None, model: nn.Module, payload: Payload | None, info: dict[str, Any],
             snr_db: float, design_snr_db: float, num_realizations: int, generator: torch.Generator) -> Delivery:
        """Deliver ``payload`` on ``transport`` at the actual ``snr_db`` (nothing when either is None)."""
        ctx = self.context
        info = dict(info)
        if self.side_counted:            # side information travels first in the payload, at the payload's design
            info["side_info_snr_db"] = design_snr_db
        if transport is None or payload is None:
            return Delivery(model, torch.zeros(num_realizations, ctx.num_params), 0, info={**info, "params_sent": 0})
        stream = payload.stream_bits(self.side_counted)
        bits = torch.randint(0, 2, (num_realizations, stream), generator=generator, device=generator.device).float()
        ok = transport.send(bits, ctx.channel, snr_db, generator)[1]
        side_bits = payload.side.bits if self.side_counted else 0
        side_uses = -(-side_bits * transport.channel_uses // max(1, transport.payload_bits))
        info.update(draws_shape=f"digital {stream} bits, {transport.describe()}",
                    params_sent=int(payload.mask.sum()), quant_bits=payload.bits, structure=payload.structure,
                    layer_bits="/".join(map(str, payload.quantized.layer_bits.tolist())),
                    payload_bits=stream, bits_per_weight=round(payload.bits_per_weight, 4),
                    bits_available=transport.payload_bits, side_info_parts=payload.side.describe(),
                    block_ok=round(float(ok.float().mean()), 6))
        return Delivery(model, payload.received(ok, self.side_counted),
                        ctx.channel.uses_for(transport.channel_uses), side_bits, side_uses, info)


@register_scheme("digital_capacity")
class DigitalCapacity(DigitalScheme[DigitalOptions]):
    """Separation bound (see the module docstring): an ideal code over the whole budget, carrying whichever of its
    own payload and ``digital_amc``'s scores higher on the test draws of the point (a genie: a bound, not a
    transmitter)."""

    Options = DigitalOptions

    def transport(self, design_snr_db: float) -> tuple[CapacityTransport, dict[str, Any]]:
        return self.memoized("transport", design_snr_db, lambda: self._transport(design_snr_db))

    def _transport(self, design_snr_db: float) -> tuple[CapacityTransport, dict[str, Any]]:
        link = self.link
        t = CapacityTransport.for_uses(self.context.channel, design_snr_db, self.symbols, link.capacity_model,
                                       link.error_probability, link.capacity_fading, link.outage_draws)
        return t, {"link": t.describe()}

    @cached_property
    def amc(self) -> "DigitalAMC":
        """The ``digital_amc`` with these options whose payloads the bound carries (one instance: its MCS searches
        and payloads are memoized across the sweep's points)."""
        return DigitalAMC(self.context, self.recipes, self.options, self.budget)

    def pool(self, design_snr_db: float) -> list[tuple[str, CapacityTransport, nn.Module, Payload | None]]:
        """(source, ideal code, model, payload) for its own payload and ``digital_amc``'s (same options), each
        coded at its own rate in the whole budget."""
        def compute() -> list[tuple[str, CapacityTransport, nn.Module, Payload | None]]:
            t, _ = self.transport(design_snr_db)
            model, payload = self.payload(t.payload_bits)
            out = [("own", t, model, payload)]
            amc_t, _ = self.amc.transport(design_snr_db)
            if amc_t is not None:
                out.append(("digital_amc", t, *self.amc.payload(amc_t.payload_bits)))
            return [(src, code if p is None else code.carrying(p.stream_bits(self.side_counted)), m, p)
                    for src, code, m, p in out]

        return self.memoized("pool", design_snr_db, compute)

    def searches(self, snr_db: float, design_snr_db: float | None = None) -> None:
        design = float(snr_db if design_snr_db is None else design_snr_db)
        self.transport(design)
        self.amc.transport(design)

    def deliver(self, snr_db: float, num_realizations: int, generator: torch.Generator,
                design_snr_db: float | None = None) -> Delivery:
        """Every payload of the pool over the same draws; the one of higher mean test accuracy is the bound."""
        ctx = self.context
        design = float(snr_db if design_snr_db is None else design_snr_db)
        state = generator.get_state()
        best: tuple[float, Delivery] | None = None
        scores = []
        for source, t, model, payload in self.pool(design):
            generator.set_state(state)
            d = self.send(t, model, payload, {**self.transport(design)[1], "payload_from": source}, snr_db, design,
                          num_realizations, generator)
            acc = float(accuracy_of_vectors(d.model, d.vectors, ctx.data.x_test, ctx.data.y_test).mean())
            scores.append(f"{source}:{acc:.4f}")
            if best is None or acc > best[0]:
                best = (acc, d)
        assert best is not None                   # the pool always holds its own payload
        best[1].info["bound_candidates"] = " ".join(scores)
        return best[1]

    def label(self) -> str:
        model = "normal approximation" if self.link.capacity_model == "normal" else "Shannon"
        return f"digital: capacity bound ({model})"


@dataclass(frozen=True)
class DigitalLDPCOptions(DigitalOptions):
    """Digital options plus the fixed MCS: ``bits_per_symbol`` (QAM order) and code ``rate``."""

    bits_per_symbol: int
    rate: float

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.bits_per_symbol not in (2, 4, 6, 8):
            raise ValueError(f"bits_per_symbol must be 2, 4, 6 or 8 (QPSK..256-QAM), got {self.bits_per_symbol}")
        within("rate", self.rate, 0, 0.95, low_open=True)


@register_scheme("digital_ldpc")
class DigitalLDPC(DigitalScheme[DigitalLDPCOptions]):
    """A fixed-rate system: one MCS at every SNR, 5G NR LDPC + QAM (Sionna) over the same channel."""

    Options = DigitalLDPCOptions

    def transport(self, design_snr_db: float) -> tuple[Transport | None, dict[str, Any]]:
        mcs = MCS(-1, self.options.bits_per_symbol, self.options.rate)
        seg = segment_uses(mcs, self.symbols, self.link.k_max)
        t = LDPCTransport(seg, self.link.num_iter, self.link.early_stop) if seg else None
        return t, {"link": t.describe() if t else str(mcs)}

    def label(self) -> str:
        rate = Fraction(self.options.rate).limit_denominator(32)
        return f"digital: LDPC rate {rate}, {2 ** self.options.bits_per_symbol}-QAM"


@register_scheme("digital_amc")
class DigitalAMC(DigitalScheme[DigitalOptions]):
    """Adaptive MCS: the NR configuration (with its payload) of best validation accuracy at the design SNR.

    Candidates run from the most efficient configuration below the capacity downwards; the search stops at the
    first one whose validation draws all decode (a more robust one carries fewer bits, so it cannot do better).
    """

    Options = DigitalOptions

    def transport(self, design_snr_db: float) -> tuple[Transport | None, dict[str, Any]]:
        return self.memoized("transport", design_snr_db, lambda: self._search(design_snr_db))

    def _search(self, design_snr_db: float) -> tuple[LDPCTransport | None, dict[str, Any]]:
        ctx, link = self.context, self.link
        capacity = ctx.channel.capacity(design_snr_db)
        g = ctx.generator("amc", design_snr_db, self.budget)
        teacher = self.recipes.teacher()
        best: LDPCTransport | None = None
        best_acc, tried = -1.0, 0
        for mcs in mcs_ladder(link.max_repetitions):
            if mcs.efficiency > capacity:
                continue
            seg = segment_uses(mcs, self.symbols, link.k_max)
            if seg is None:
                continue
            t = LDPCTransport(seg, link.num_iter, link.early_stop)
            proxy = self.proxy(t.payload_bits)
            if proxy is None:
                continue
            tried += 1
            stream = proxy.stream_bits(self.side_counted)
            bits = torch.randint(0, 2, (self.options.validation_draws, stream), generator=g, device=g.device).float()
            ok = t.send(bits, ctx.channel, design_snr_db, g)[1]
            acc = float(accuracy_of_vectors(teacher, proxy.received(ok, self.side_counted),
                                            ctx.data.x_val, ctx.data.y_val).mean())
            if acc > best_acc:
                best, best_acc = t, acc
            if bool(ok.all()):
                break
        info: dict[str, Any] = {"link": best.describe() if best else "none", "mcs_candidates": tried}
        return best, info

    def label(self) -> str:
        return "digital: adaptive MCS (NR LDPC)"
