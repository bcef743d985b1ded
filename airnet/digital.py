"""Digital separation baselines: quantize + prune to the bits that fit, then deliver error-free (capacity bound)
or through a real 5G-NR LDPC + QAM chain (Sionna) over the same channel objects as the analog path."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from channels import Channel
from airnet.evaluation import accuracy_of_vectors
from airnet.params import ParamLayout, model_vector
from airnet.pruning import magnitude_mask
from airnet.quantization import Quantized, bits_to_codes, codes_to_bits, quantize


@dataclass
class DigitalPayload:
    """The pruned, quantized model chosen to fit ``payload_bits`` (None when nothing fits)."""

    mask: torch.Tensor | None
    quantized: Quantized | None
    payload_bits: int
    bits_available: int
    val_accuracy: float

    @property
    def bits(self) -> int:
        return self.quantized.bits if self.quantized is not None else 0


def fit_payload(model: nn.Module, bits_available: int, bit_options: list[int], x_val: torch.Tensor,
                y_val: torch.Tensor) -> DigitalPayload:
    """Best (by validation accuracy) b in ``bit_options``, pruning by magnitude until ``keep*b + header`` fits."""
    layout = ParamLayout.of(model)
    layer_of = layout.layer_of()
    w = model_vector(model)
    header = 2 * 32 * len(layout.names)
    best = DigitalPayload(None, None, 0, bits_available, -1.0)
    for b in bit_options:
        keep = min(w.numel(), (bits_available - header) // int(b))
        if keep < 1:
            continue
        mask = magnitude_mask(w, int(keep))
        q = quantize(w[mask], layer_of[mask], int(b), len(layout.names))
        vec = torch.zeros_like(w)
        vec[mask] = q.dequantize().to(w.dtype)
        acc = float(accuracy_of_vectors(model, vec[None], x_val, y_val)[0])
        if acc > best.val_accuracy:
            best = DigitalPayload(mask, q, int(keep) * int(b) + header, bits_available, acc)
    return best


def payload_vector(payload: DigitalPayload, n: int, codes: torch.Tensor | None = None) -> torch.Tensor:
    """Received weight vectors [K, n] from (received) codes [K, keep]; a failed delivery gives all zeros."""
    if payload.quantized is None:
        return torch.zeros(1 if codes is None else codes.shape[0], n)
    codes = payload.quantized.codes[None] if codes is None else codes
    out = torch.zeros(codes.shape[0], n)
    out[:, payload.mask] = payload.quantized.dequantize(codes).float()
    return out


class LDPCQAMChain:
    """5G NR LDPC (k info bits per codeword, rate k/n) + Gray QAM with 2^m points, via Sionna; APP demapping."""

    def __init__(self, k: int = 512, rate: float = 0.5, bits_per_symbol: int = 4, num_iter: int = 20) -> None:
        from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder
        from sionna.phy.mapping import Demapper, Mapper

        if not 0 < rate < 1:
            raise ValueError(f"code rate must be in (0, 1), got {rate}")
        if bits_per_symbol < 1 or bits_per_symbol % 2 and bits_per_symbol != 1:
            raise ValueError(f"bits_per_symbol must be 1 (BPSK via QAM-2 not supported) or even, got {bits_per_symbol}")
        n = int(round(k / rate))
        n += (-n) % bits_per_symbol  # whole symbols per codeword
        self.k, self.n, self.m = int(k), n, int(bits_per_symbol)
        self.encoder = LDPC5GEncoder(self.k, self.n)
        self.decoder = LDPC5GDecoder(self.encoder, num_iter=num_iter, hard_out=True)
        self.mapper = Mapper("qam", self.m)
        self.demapper = Demapper("app", "qam", self.m)

    def codewords_for(self, channel_uses: int) -> int:
        """Codewords that fit in ``channel_uses`` complex symbols."""
        return channel_uses * self.m // self.n

    def channel_uses(self, codewords: int) -> int:
        return codewords * self.n // self.m

    def transmit(self, bits: torch.Tensor, channel: Channel, snr_db: float,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """Send info bits [K, c*k] as c codewords per realization; return decoded bits [K, c*k]."""
        K, total = bits.shape
        if total % self.k:
            raise ValueError(f"{total} bits is not a whole number of {self.k}-bit codewords")
        c = total // self.k
        cw = self.encoder(bits.reshape(K, c, self.k).float())        # [K, c, n]
        p = channel.signal_power
        x = self.mapper(cw).reshape(K, -1) * math.sqrt(p)            # [K, c*n/m], average energy P
        out = channel.apply(x, snr_db, generator)
        no = out.noise_var / out.h.abs().pow(2) if out.csi else out.noise_var   # noise of the ZF estimate
        llr = self.demapper((out.zf() / math.sqrt(p)).to(torch.complex64), (no / p).expand(out.y.shape).float())
        return self.decoder(llr.reshape(K, c, self.n)).reshape(K, total)
