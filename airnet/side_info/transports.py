"""Digital links: how many channel uses a bit payload needs, and what the receiver gets of it.

Every bit a receiver needs besides the analog symbols (side information) and the digital baselines' payloads go
through one of these transports, paid for from the same budget of channel uses:

* :class:`LDPCTransport`: 5G NR LDPC + QAM (Sionna) with an MCS from 38.214 table 2 (QPSK to 256-QAM), NR-style
  segmentation into code blocks of at most ``k_max`` bits each carrying a 24-bit CRC (ideal error detection), and
  whole-block repetition below MCS 0 (the receiver adds the LLRs). A block whose CRC fails is *erased*.
* :class:`CapacityTransport`: an ideal code at the Shannon capacity (error-free iff the rate is below the
  capacity at the actual SNR) or at the Polyanskiy-Poor-Verdu normal-approximation rate (errors drawn with the
  normal-approximation block error probability at the actual SNR); the whole payload is one code block.
* :class:`FreeTransport`: no channel uses, never fails (side information assumed known, as in many papers).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import torch

from channels import Channel
from channels.capacity import normal_approximation_bits, normal_approximation_error
from airnet.side_info.search import first_passing, largest_fitting, smallest_passing

log = logging.getLogger("airnet")
CRC_BITS = 24          # NR code-block CRC; the receiver detects a wrong block and erases it
MIN_MOTHER_RATE = 0.2  # 5G LDPC base graph 2 lowest rate; lower MCS rates repeat coded bits (circular buffer)
BG2_MAX_K = 3840       # longer code blocks need base graph 1, whose lowest rate is 1/3 (38.212 5.2.2)


@dataclass(frozen=True)
class MCS:
    """Modulation and coding: ``index`` in 38.214 table 2 (-1 for none), QAM ``bits_per_symbol``, code ``rate``,
    and ``repetitions`` of every symbol (to reach below MCS 0)."""

    index: int
    bits_per_symbol: int
    rate: float
    repetitions: int = 1

    @property
    def efficiency(self) -> float:
        """Coded information bits per channel use (before CRC overhead)."""
        return self.bits_per_symbol * self.rate / self.repetitions

    def __str__(self) -> str:
        rep = f" x{self.repetitions}" if self.repetitions > 1 else ""
        return f"MCS {self.index} ({2 ** self.bits_per_symbol}-QAM, R={self.rate:.3f}{rep})"


@lru_cache(maxsize=None)
def nr_mcs_table() -> tuple[MCS, ...]:
    """38.214 table 5.1.3.1-2 (PDSCH, up to 256-QAM), indices 0..27, from Sionna's implementation."""
    from channels.sionna_import import phy
    phy()
    from sionna.phy.nr.utils import decode_mcs_index

    out = []
    for i in range(28):
        m, r = decode_mcs_index(i, table_index=2, is_pusch=False)
        out.append(MCS(i, int(m), round(float(r), 6)))
    return tuple(out)


def mcs_ladder(max_repetitions: int) -> list[MCS]:
    """Every configuration from the most efficient to the most robust: table 2 from MCS 27 down to MCS 0,
    then MCS 0 with 2, 4, ... ``max_repetitions`` repetitions."""
    table = nr_mcs_table()
    return sorted(table, key=lambda m: -m.efficiency) + [MCS(0, table[0].bits_per_symbol, table[0].rate, r)
                                                         for r in repetition_steps(max_repetitions)]


def repetition_steps(max_repetitions: int) -> list[int]:
    """Repetitions below a code's lowest rate: 2, 4, ... up to ``max_repetitions``."""
    return [2 ** i for i in range(1, int(math.log2(max(1, max_repetitions))) + 1)]


@dataclass(frozen=True)
class Segmentation:
    """A transport block: ``codewords`` code blocks of ``k`` information bits (CRC included) coded into ``n`` bits."""

    mcs: MCS
    codewords: int
    k: int
    n: int

    @property
    def channel_uses(self) -> int:
        return self.codewords * (self.n // self.mcs.bits_per_symbol) * self.mcs.repetitions

    @property
    def payload_bits(self) -> int:
        return self.codewords * (self.k - CRC_BITS)


def segment_uses(mcs: MCS, uses: int, k_max: int) -> Segmentation | None:
    """The largest transport block that fits in ``uses`` channel uses (None if not even one code block fits)."""
    m = mcs.bits_per_symbol
    coded = (uses // mcs.repetitions) * m
    if coded <= 0:
        return None
    c = max(1, math.ceil(coded * mcs.rate / k_max))
    n = (coded // c // m) * m
    k = int(math.floor(n * mcs.rate))
    while c > 1 and k < CRC_BITS + 12:
        c -= 1
        n = (coded // c // m) * m
        k = int(math.floor(n * mcs.rate))
    if k < CRC_BITS + 12 or n <= 0:   # Sionna's 5G encoder needs k >= 12 information bits
        return None
    return Segmentation(mcs, c, k, n)


def segment_bits(mcs: MCS, bits: int, k_max: int) -> Segmentation:
    """The smallest transport block carrying ``bits`` payload bits."""
    if bits <= 0:
        return Segmentation(mcs, 0, CRC_BITS + 12, 0)
    c = math.ceil(bits / (k_max - CRC_BITS))
    k = max(CRC_BITS + 12, math.ceil(bits / c) + CRC_BITS)
    m = mcs.bits_per_symbol
    n = math.ceil(k / mcs.rate / m) * m
    while int(math.floor(n * mcs.rate)) < k:   # rounding: enough coded bits for k
        n += m
    return Segmentation(mcs, c, int(math.floor(n * mcs.rate)), n)


class Transport(Protocol):
    """A payload of fixed size on a link: ``channel_uses``, ``payload_bits``, ``send`` and ``describe``."""

    @property
    def channel_uses(self) -> int:
        """Channel uses the payload occupies (pilots not included)."""

    @property
    def payload_bits(self) -> int:
        """Information bits it carries."""

    def describe(self) -> str:
        """Short description for the CSV (MCS and code blocks, or the capacity model)."""

    def send(self, bits: torch.Tensor, channel: Channel, snr_db: float,
             generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Send bits [K, b] (b <= payload_bits; float 0/1) over K realizations at the actual ``snr_db``.

        Output
        ------
        received : [K, b], float 0/1
        ok : [K, b], bool
            True where the bit's code block passed its CRC (False bits are erased: their value is unknown).
        """


@dataclass
class FreeTransport:
    """Side information the receiver is assumed to know: no channel uses, always right."""

    payload_bits: int
    channel_uses: int = 0

    def describe(self) -> str:
        return "free"

    def send(self, bits: torch.Tensor, channel: Channel, snr_db: float,
             generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        return bits.clone(), torch.ones_like(bits, dtype=torch.bool)


@dataclass
class CapacityTransport:
    """An ideal code for ``payload_bits`` in ``channel_uses`` (one block); see the module docstring.

    ``fading="ergodic"`` decides a codeword by the channel's ergodic capacity at the actual SNR;
    ``fading="outage"`` by the mutual information of the codeword's own channel draw
    (:meth:`channels.Channel.codeword_rates`; receivers without perfect CSI fall back to ergodic). On AWGN both
    are ``log2(1 + SNR)``.
    """

    payload_bits: int
    channel_uses: int
    model: str = "shannon"               # shannon | normal
    error_probability: float = 1e-3      # design block error (normal approximation) / outage (fading="outage")
    fading: str = "ergodic"              # ergodic | outage

    @classmethod
    def for_uses(cls, channel: Channel, design_snr_db: float, uses: int, model: str,
                 error_probability: float, fading: str = "ergodic", draws: int = 2000) -> "CapacityTransport":
        """The largest payload ``uses`` channel uses carry at the design SNR: at the ergodic capacity, or with
        ``fading="outage"`` the largest one whose outage probability over ``draws`` codeword draws (fixed seed)
        is at most ``error_probability``."""
        if fading == "outage" and _has_outage(channel) and uses > 0:
            rate, disp = channel.codeword_rates(design_snr_db, uses, draws, torch.Generator().manual_seed(0))
            if model == "shannon":
                mi = torch.sort(rate * uses).values        # the codeword's information bits, ascending
                bits = int(math.floor(float(mi[int(math.floor(error_probability * draws))])))
            else:
                def ok(k: int) -> bool:
                    return sum(normal_approximation_error(float(r), float(v), uses, k)
                               for r, v in zip(rate, disp)) / draws <= error_probability
                bits = largest_fitting(int(float(rate.max()) * uses) + 1, ok)
            return cls(bits, uses, model, error_probability, fading)
        c = channel.capacity(design_snr_db)
        if model == "shannon":
            bits = int(math.floor(uses * c))
        else:
            bits = normal_approximation_bits(c, channel.dispersion(design_snr_db), uses, error_probability)
        return cls(bits, uses, model, error_probability, fading)

    @classmethod
    def for_bits(cls, channel: Channel, design_snr_db: float, bits: int, model: str,
                 error_probability: float) -> "CapacityTransport | None":
        """The fewest channel uses that carry ``bits`` at the design SNR's ergodic capacity (None if the capacity
        is zero)."""
        if bits <= 0:
            return cls(0, 0, model, error_probability)
        c = channel.capacity(design_snr_db)
        if c <= 0:
            return None

        def carries(uses: int) -> bool:
            return cls.for_uses(channel, design_snr_db, uses, model, error_probability).payload_bits >= bits

        lower = max(1, math.ceil(bits / c))              # capacity bound: fewer uses never carry the bits
        upper = lower
        while not carries(upper):
            upper = max(upper + 1, int(upper * 1.02))
        return cls(bits, smallest_passing(lower, upper, carries), model, error_probability)

    def carrying(self, bits: int) -> "CapacityTransport":
        """The same code for a smaller payload of ``bits`` (a lower rate in the same channel uses)."""
        return CapacityTransport(int(bits), self.channel_uses, self.model, self.error_probability, self.fading)

    def describe(self) -> str:
        return self.model + (", outage" if self.fading == "outage" else "")

    def block_error(self, channel: Channel, snr_db: float, k: int, generator: torch.Generator,
                    device: torch.device | None = None) -> torch.Tensor:
        """Probability [k] that each of ``k`` independent codewords fails at ``snr_db`` (0 or 1 for Shannon)."""
        if self.fading == "outage" and _has_outage(channel) and self.channel_uses > 0:
            rate, disp = channel.codeword_rates(snr_db, self.channel_uses, k, generator)
            if self.model == "shannon":
                return (self.payload_bits > self.channel_uses * rate + 1e-9).double()
            return torch.tensor([normal_approximation_error(float(r), float(v), self.channel_uses,
                                                            self.payload_bits) for r, v in zip(rate, disp)])
        c = channel.capacity(snr_db)
        if self.model == "shannon":
            p = 0.0 if self.payload_bits <= self.channel_uses * c + 1e-9 else 1.0
        else:
            p = normal_approximation_error(c, channel.dispersion(snr_db), self.channel_uses, self.payload_bits)
        return torch.full((k,), p, dtype=torch.float64)

    def send(self, bits: torch.Tensor, channel: Channel, snr_db: float,
             generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        k = bits.shape[0]
        p_err = self.block_error(channel, snr_db, k, generator).to(bits.device)
        ok = torch.rand(k, generator=generator, device=bits.device) >= p_err
        return bits.clone(), ok[:, None].expand_as(bits).clone()


def _has_outage(channel: Channel) -> bool:
    """Whether the receiver has the CSI that codeword rates need (on AWGN they equal the capacity)."""
    return channel.csi == "perfect"


class LDPCTransport:
    """5G NR LDPC + QAM transport block over our channel objects (see the module docstring).

    Parameters
    ----------
    segmentation : Segmentation
    num_iter : int
        Belief-propagation iterations (at most, with ``early_stop``).
    early_stop : bool
        Stop a batch's iterations once all its blocks satisfy their parity checks, as practical receivers do
        (:mod:`airnet.side_info.ldpc_decoder`); decisions equal the full ``num_iter`` in our checks, at a fraction of the time.
    chunk_bits : int
        Information bits decoded per batch: bounded batches keep the time linear in the payload.
    """

    def __init__(self, segmentation: Segmentation, num_iter: int, early_stop: bool = True,
                 chunk_bits: int = 65_536) -> None:
        self.seg = segmentation
        self.num_iter = int(num_iter)
        self.early_stop = bool(early_stop)
        self.chunk_bits = int(chunk_bits)

    @property
    def channel_uses(self) -> int:
        return self.seg.channel_uses

    @property
    def payload_bits(self) -> int:
        return self.seg.payload_bits

    def describe(self) -> str:
        return f"{self.seg.mcs}, {self.seg.codewords}x k={self.seg.k}"

    def send(self, bits: torch.Tensor, channel: Channel, snr_db: float,
             generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        seg = self.seg
        _check_fits(bits, seg.payload_bits)
        if seg.codewords == 0 or bits.shape[-1] == 0:
            return bits.clone(), torch.ones_like(bits, dtype=torch.bool)
        K, b = bits.shape
        payload = torch.nn.functional.pad(bits, (0, seg.payload_bits - b)).reshape(K, seg.codewords, -1)
        info = torch.nn.functional.pad(payload, (0, CRC_BITS))      # CRC positions (content irrelevant: ideal CRC)
        codec = _codec(seg.k, seg.n, seg.mcs.bits_per_symbol, self.num_iter, self.early_stop, str(bits.device))
        # bounded batches keep the time linear: whole realizations per batch while they fit, else slices of one
        # realization's blocks (each slice its own channel draw: independent blocks, as on block fading)
        blocks = max(1, self.chunk_bits // seg.k)
        rows = max(1, blocks // seg.codewords)
        cols = min(seg.codewords, blocks)
        rx = torch.cat([torch.cat([codec.roundtrip(info[i:i + rows, c:c + cols], seg.mcs, channel, snr_db, generator)
                                   for c in range(0, seg.codewords, cols)], dim=1)
                        for i in range(0, K, rows)])
        ok_block = (rx == info).all(dim=-1)                          # [K, C]: ideal CRC check
        rx_payload = rx[..., :seg.k - CRC_BITS].reshape(K, -1)[:, :b]
        return rx_payload, _bit_flags(ok_block, seg.k - CRC_BITS, b)


def _check_fits(bits: torch.Tensor, payload_bits: int) -> None:
    if bits.shape[-1] > payload_bits:
        raise ValueError(f"{bits.shape[-1]} bits exceed the transport's {payload_bits} payload bits")


def _bit_flags(ok_block: torch.Tensor, per_block: int, bits: int) -> torch.Tensor:
    """Per-block decoding outcomes [K, C] as per-bit flags [K, bits] (``per_block`` payload bits in each block)."""
    k, c = ok_block.shape
    return ok_block[:, :, None].expand(k, c, per_block).reshape(k, -1)[:, :bits]


class _Codec:
    """Encoder/decoder/mapper for one (k, n, m); rates below the base graph's lowest (1/5 for BG2, 1/3 for blocks
    of more than 3,840 bits, which need BG1) repeat that mother code cyclically."""

    def __init__(self, k: int, n: int, m: int, num_iter: int, early_stop: bool, device: str = "cpu") -> None:
        from channels.sionna_import import phy
        phy()
        from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder

        from airnet.side_info.ldpc_decoder import EarlyStopLDPC5GDecoder

        self.k, self.n, self.m = k, n, m
        lowest = MIN_MOTHER_RATE if k <= BG2_MAX_K else 1 / 3
        n0 = n if k / n >= lowest else int(math.ceil(k / lowest))
        self.n0 = n0
        self.encoder = LDPC5GEncoder(k, n0, num_bits_per_symbol=m if n0 % m == 0 else None, device=device)
        self.decoder = (EarlyStopLDPC5GDecoder(self.encoder, num_iter, device=device)
                        if early_stop and _early_stop_available() else
                        LDPC5GDecoder(self.encoder, num_iter=num_iter, hard_out=True, device=device))
        self.modem = _Modem(m, device)
        self.cycle = torch.arange(n, device=device) % n0

    def roundtrip(self, info: torch.Tensor, mcs: MCS, channel: Channel, snr_db: float,
                  generator: torch.Generator) -> torch.Tensor:
        """Encode info [R, C, k] (R realizations of C blocks), map, send each realization's symbols through its
        own channel realization ``mcs.repetitions`` times, demap, combine the copies' LLRs, decode: [R, C, k]."""
        r_, c, _ = info.shape
        cw = self.encoder(info.reshape(r_ * c, self.k).float())[:, self.cycle]      # [R*C, n]
        llr = self.modem.llrs(cw, r_, mcs.repetitions, channel, snr_db, generator)
        llr0 = torch.zeros(r_ * c, self.n0, dtype=llr.dtype, device=llr.device).index_add_(1, self.cycle, llr)
        return self.decoder(llr0).reshape(r_, c, self.k)


class _Modem:
    """QAM mapping of coded blocks onto one channel realization per row, repeated, and the combined LLRs back."""

    def __init__(self, m: int, device: str = "cpu") -> None:
        from channels.sionna_import import phy
        phy()
        from sionna.phy.mapping import Demapper, Mapper

        self.mapper = Mapper("qam", m, device=device)
        self.demapper = Demapper("app", "qam", m, device=device)

    def llrs(self, cw: torch.Tensor, rows: int, repetitions: int, channel: Channel, snr_db: float,
             generator: torch.Generator) -> torch.Tensor:
        """Coded bits cw [rows * C, n] (each row's C blocks on its own channel realization, sent ``repetitions``
        times, copies far apart: diversity) -> LLRs [rows * C, n] (Sionna's sign), the copies' LLRs added."""
        n = cw.shape[-1]
        p = channel.signal_power
        x = self.mapper(cw).reshape(rows, -1) * math.sqrt(p)                       # [R, C*n/m], energy P
        out = channel.observe(x.repeat(1, repetitions), snr_db, generator)
        llr = self.demapper((out.zf() / math.sqrt(p)).to(torch.complex64),
                            (out.zf_noise_var() / p).float())                       # [R, reps * C * n]
        return llr.reshape(rows, repetitions, -1).sum(1).reshape(-1, n)


@lru_cache(maxsize=None)
def _early_stop_available() -> bool:
    """Early termination hooks into Sionna's decoder internals; other versions decode all iterations (said once)."""
    from airnet.side_info.ldpc_decoder import EarlyStopLDPC5GDecoder

    if not EarlyStopLDPC5GDecoder.supported():
        log.warning("this Sionna version's LDPC decoder has other internals: link.early_stop is ignored "
                    "(same decisions, slower decoding)")
        return False
    return True


@lru_cache(maxsize=64)
def _codec(k: int, n: int, m: int, num_iter: int, early_stop: bool, device: str = "cpu") -> _Codec:
    return _Codec(k, n, m, num_iter, early_stop, device)


def select_robust_mcs(channel: Channel, snr_db: float, k: int, num_iter: int, trials: int, max_repetitions: int,
                      generator: torch.Generator, early_stop: bool = True) -> MCS | None:
    """The most efficient configuration of :func:`mcs_ladder` whose ``trials`` code blocks of ``k`` bits all
    pass their CRC at ``snr_db`` (bisection: robustness grows down the ladder). None if even the last fails.

    This is how side information is protected: a block error there costs the receiver the whole model.
    """
    ladder = mcs_ladder(max_repetitions)

    def clean(mcs: MCS) -> bool:
        # one block per realization: every trial sees its own channel draw (on slow fading, blocks of one stream
        # would share a fade and pass or fail together)
        t = LDPCTransport(segment_bits(mcs, k - CRC_BITS, k_max=k), num_iter, early_stop)
        bits = torch.randint(0, 2, (trials, t.payload_bits), generator=generator, device=generator.device).float()
        return bool(t.send(bits, channel, snr_db, generator)[1].all())

    i = first_passing(len(ladder), lambda i: clean(ladder[i]))
    return None if i is None else ladder[i]


POLAR_N_MAX = 1088       # Sionna's 5G polar encoder without code segmentation: the longest codeword
POLAR_BLOCK_BITS = 128   # information bits per polar block at most (NR DCI sizes); longer messages are segmented
POLAR_LIST = 8           # successive-cancellation list size (CRC-aided list decoding)


def polar_crc_bits(k: int) -> int:
    """The CRC the 5G uplink polar encoder attaches to ``k`` information bits (38.212: CRC6 below 20, else CRC11)."""
    return 6 if k < 20 else 11


@dataclass(frozen=True)
class PolarConfig:
    """A polar-coded message: ``blocks`` code blocks of ``k`` information bits (CRC excluded) coded into ``n`` bits,
    QPSK, each block sent ``repetitions`` times (below the lowest rate of one codeword)."""

    k: int
    n: int
    repetitions: int = 1
    blocks: int = 1

    @property
    def channel_uses(self) -> int:
        return self.blocks * (self.n // 2) * self.repetitions

    @property
    def payload_bits(self) -> int:
        return self.blocks * self.k

    @property
    def rate(self) -> float:
        """Code rate, CRC included: ``(k + crc) / n``."""
        return (self.k + polar_crc_bits(self.k)) / self.n

    def for_bits(self, bits: int) -> "PolarConfig":
        """The same rate and repetition carrying ``bits`` payload bits in blocks of at most :data:`POLAR_BLOCK_BITS`
        (at least this config's ``k``: a longer polar block at the same rate is no weaker)."""
        blocks = max(1, math.ceil(bits / POLAR_BLOCK_BITS))
        k = max(self.k, math.ceil(bits / blocks))
        n = min(POLAR_N_MAX, _even((k + polar_crc_bits(k)) / self.rate))
        return PolarConfig(k, max(n, _even(k + polar_crc_bits(k) + 1)), self.repetitions, blocks)


def polar_ladder(k: int, max_repetitions: int) -> list[PolarConfig]:
    """Polar configurations for ``k``-bit blocks from the most efficient to the most robust: rates from 0.9 down to
    one full codeword (geometric steps of 0.8), then that codeword repeated 2, 4, ... ``max_repetitions`` times."""
    crc = polar_crc_bits(k)
    lowest = (k + crc) / POLAR_N_MAX
    rates = []
    r = 0.9
    while r > lowest:
        rates.append(r)
        r *= 0.8
    ns = sorted({min(POLAR_N_MAX, _even((k + crc) / r)) for r in rates} | {POLAR_N_MAX})
    return [PolarConfig(k, n) for n in ns if n > k + crc] + [PolarConfig(k, POLAR_N_MAX, r)
                                                           for r in repetition_steps(max_repetitions)]


def _even(coded_bits: float) -> int:
    """Coded bits rounded up to a whole number of QPSK symbols."""
    return 2 * math.ceil(coded_bits / 2)


class PolarTransport:
    """5G NR polar code (Sionna's uplink encoder with its CRC, CRC-aided SCL decoding) + QPSK, with block
    segmentation and repetition; a block whose decoded bits differ from the sent ones is erased (ideal CRC check,
    as :class:`LDPCTransport`)."""

    def __init__(self, config: PolarConfig, list_size: int = POLAR_LIST) -> None:
        self.config = config
        self.list_size = int(list_size)

    @property
    def channel_uses(self) -> int:
        return self.config.channel_uses

    @property
    def payload_bits(self) -> int:
        return self.config.payload_bits

    def describe(self) -> str:
        c = self.config
        rep = f" x{c.repetitions}" if c.repetitions > 1 else ""
        return f"polar (QPSK, R={c.rate:.3f}{rep}), {c.blocks}x k={c.k}"

    def send(self, bits: torch.Tensor, channel: Channel, snr_db: float,
             generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.config
        _check_fits(bits, c.payload_bits)
        if bits.shape[-1] == 0:
            return bits.clone(), torch.ones_like(bits, dtype=torch.bool)
        K, b = bits.shape
        info = torch.nn.functional.pad(bits, (0, c.payload_bits - b)).reshape(K, c.blocks, c.k)
        codec = _polar_codec(c.k, c.n, self.list_size, str(bits.device))
        rx = codec.roundtrip(info, c.repetitions, channel, snr_db, generator)
        ok_block = (rx == info).all(dim=-1)                           # [K, blocks]
        return rx.reshape(K, -1)[:, :b], _bit_flags(ok_block, c.k, b)


class _PolarCodec:
    def __init__(self, k: int, n: int, list_size: int, device: str = "cpu") -> None:
        from channels.sionna_import import phy
        phy()
        from sionna.phy.fec.polar import Polar5GEncoder

        from airnet.side_info.polar_decoder import polar_5g_decoder

        self.k, self.n = k, n
        self.encoder = Polar5GEncoder(k, n, channel_type="uplink", device=device)
        self.decoder = polar_5g_decoder(self.encoder, list_size, device)
        self.modem = _Modem(2, device)

    def roundtrip(self, info: torch.Tensor, repetitions: int, channel: Channel, snr_db: float,
                  generator: torch.Generator) -> torch.Tensor:
        """info [R, C, k] -> decoded [R, C, k]; each row's blocks on its own channel realization."""
        r_, c, _ = info.shape
        cw = self.encoder(info.reshape(r_ * c, self.k).float())
        llr = self.modem.llrs(cw, r_, repetitions, channel, snr_db, generator)
        return self.decoder(llr).reshape(r_, c, self.k)


@lru_cache(maxsize=64)
def _polar_codec(k: int, n: int, list_size: int, device: str = "cpu") -> _PolarCodec:
    return _PolarCodec(k, n, list_size, device)


def select_robust_polar(channel: Channel, snr_db: float, k: int, trials: int, max_repetitions: int,
                        generator: torch.Generator) -> PolarConfig | None:
    """The most efficient configuration of :func:`polar_ladder` whose ``trials`` blocks of ``k`` bits all decode at
    ``snr_db`` (bisection, as :func:`select_robust_mcs`); None if even the last fails."""
    ladder = sorted(polar_ladder(k, max_repetitions), key=lambda c: -c.payload_bits / c.channel_uses)

    def clean(config: PolarConfig) -> bool:
        bits = torch.randint(0, 2, (trials, k), generator=generator, device=generator.device).float()
        return bool(PolarTransport(config).send(bits, channel, snr_db, generator)[1].all())

    i = first_passing(len(ladder), lambda i: clean(ladder[i]))
    return None if i is None else ladder[i]
