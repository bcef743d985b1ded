"""Digital separation baselines: prune + quantize to the bits that fit, then deliver error-free at the channel's
capacity (``digital_capacity``, an upper bound) or through a 5G NR LDPC + QAM chain (``digital_ldpc``)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from airnet.digital import DigitalPayload, LDPCQAMChain, fit_payload, payload_vector
from airnet.quantization import bits_to_codes, codes_to_bits
from airnet.schemes.base import Delivery, Scheme, register_scheme


@dataclass(frozen=True)
class DigitalCapacityOptions:
    """``bits``: candidate quantization bit widths; the best on validation data is kept."""

    bits: tuple[int, ...]


@register_scheme("digital_capacity")
class DigitalCapacity(Scheme):
    """Separation bound: prune+quantize the clean model to ``budget x capacity`` bits, delivered error-free.

    If nothing fits (not even one weight plus the header), delivery fails and the receiver has a blank model.
    """

    Options = DigitalCapacityOptions

    def __init__(self, setup, options, budget) -> None:
        super().__init__(setup, options, budget)
        self._payloads: dict[int, DigitalPayload] = {}

    def payload(self, bits_available: int) -> DigitalPayload:
        """The best pruned, quantized clean model within ``bits_available`` (memoized per bit count)."""
        if bits_available not in self._payloads:
            self._payloads[bits_available] = fit_payload(self.setup.teacher(), bits_available,
                                                         list(self.options.bits), self.setup.data.x_val,
                                                         self.setup.data.y_val)
        return self._payloads[bits_available]

    @staticmethod
    def info(payload: DigitalPayload) -> dict[str, Any]:
        return {"params_sent": int(payload.mask.sum()) if payload.mask is not None else 0, "quant_bits": payload.bits,
                "payload_bits": payload.payload_bits, "bits_available": payload.bits_available}

    def deliver(self, snr_db, num_realizations, generator):
        bits = int(math.floor(self.budget * self.setup.channel.capacity(snr_db)))
        payload = self.payload(bits)
        vecs = payload_vector(payload, self.setup.num_params).expand(num_realizations, -1)
        return Delivery(self.setup.teacher(), vecs, self.budget, self.info(payload))


@dataclass(frozen=True)
class DigitalLDPCOptions:
    """``bits``: candidate bit widths; ``k``: information bits per codeword; ``rate``: code rate k/n;
    ``bits_per_symbol``: QAM order (4 = 16-QAM); ``num_iter``: belief-propagation iterations."""

    bits: tuple[int, ...]
    k: int
    rate: float
    bits_per_symbol: int
    num_iter: int


@register_scheme("digital_ldpc")
class DigitalLDPC(DigitalCapacity):
    """Practical separation: pruned+quantized clean model, 5G LDPC + QAM (Sionna) over the same channel.

    Bits that the decoder gets wrong flip bits of the quantized codes (the cliff below the code's threshold).
    """

    Options = DigitalLDPCOptions

    def __init__(self, setup, options, budget) -> None:
        super().__init__(setup, options, budget)
        self._chain: LDPCQAMChain | None = None

    def chain(self) -> LDPCQAMChain:
        """The LDPC + QAM chain (built on first use: importing Sionna takes seconds)."""
        if self._chain is None:
            o = self.options
            self._chain = LDPCQAMChain(o.k, o.rate, o.bits_per_symbol, o.num_iter)
        return self._chain

    def deliver(self, snr_db, num_realizations, generator):
        chain = self.chain()
        codewords = chain.codewords_for(self.budget)
        payload = self.payload(codewords * chain.k)
        model = self.setup.teacher()
        info = {**self.info(payload), "code_rate": round(chain.k / chain.n, 4), "bits_per_symbol": chain.m}
        if payload.quantized is None:
            return Delivery(model, payload_vector(payload, self.setup.num_params).expand(num_realizations, -1),
                            chain.channel_uses(codewords), info)
        q = payload.quantized
        tx = codes_to_bits(q.codes, q.bits)
        used = math.ceil(tx.numel() / chain.k)
        stream = torch.nn.functional.pad(tx, (0, used * chain.k - tx.numel())).expand(num_realizations, -1)
        rx = chain.transmit(stream, self.setup.channel, snr_db, generator)[:, :tx.numel()]
        info["ber"] = float((rx != tx).float().mean())
        codes = bits_to_codes(rx, q.bits)
        return Delivery(model, payload_vector(payload, self.setup.num_params, codes), chain.channel_uses(used), info)
