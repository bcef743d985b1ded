"""Protection of side information: at which SNR it is protected, and the link configuration that carries it.

Every scheme reports its side information as named parts in bits (:mod:`airnet.side_info.bits`). With
``mode: counted`` those bits travel over a digital link (:mod:`airnet.side_info.transports`) within the same budget
of channel uses, protected for the SNR the :class:`Design` states; a realization whose side information fails its
CRC gets no model. ``mode: free`` reproduces papers that assume the receiver knows the structure.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Literal, Protocol

import torch

from channels import Channel
from airnet.config.hashing import config_hash
from airnet.config.options import within
from airnet.config.run import SideInfoOptions
from airnet.side_info.transports import (CRC_BITS, MCS, POLAR_BLOCK_BITS, CapacityTransport, FreeTransport,
                                         LDPCTransport, PolarConfig, PolarTransport, Transport, segment_bits,
                                         select_robust_mcs, select_robust_polar)

SELECTION_K = 512          # longest code block simulated to pick a side-information MCS
NR_POLAR_MAX_BITS = 1706   # the largest control payload NR codes with polar codes (UCI); LDPC above
_SELECTIONS: dict[str, dict[str, Any]] = {}   # robust MCS / polar searches of this process, by their description


@dataclass(frozen=True)
class LinkOptions:
    """``conf/link/*.yaml``: the digital PHY shared by side information and the digital baselines.

    ``k_max``: information bits per LDPC code block at most (NR: 8448); ``num_iter``: BP iterations (at most);
    ``early_stop``: stop BP once every block satisfies its parity checks (syndrome check, as real receivers do);
    ``max_repetitions``: repetitions of MCS 0 for SNRs below it; ``selection_trials``: code blocks simulated to
    pick a side-information MCS; ``capacity_model``: ``shannon`` or ``normal`` (finite-blocklength normal
    approximation) for capacity links; ``error_probability``: block error target of the normal approximation,
    and the outage target of the capacity bound on fading channels; ``capacity_fading``: how the capacity bound
    decides a codeword on a fading channel: ``outage`` (each codeword by its own fades, designed for
    ``error_probability`` outage from ``outage_draws`` draws) or ``ergodic`` (by the ergodic capacity: not a
    bound for a codeword that spans few fades).
    """

    k_max: int
    num_iter: int
    early_stop: bool
    max_repetitions: int
    selection_trials: int
    capacity_model: Literal["shannon", "normal"]
    error_probability: float
    capacity_fading: Literal["outage", "ergodic"]
    outage_draws: int

    def __post_init__(self) -> None:
        within("k_max", self.k_max, CRC_BITS + 12, 8448)          # NR base graph 1: 8,448 bits per code block
        within("num_iter", self.num_iter, 1)
        within("max_repetitions", self.max_repetitions, 1)
        within("selection_trials", self.selection_trials, 1)
        within("error_probability", self.error_probability, 0, 0.5, low_open=True)
        within("outage_draws", self.outage_draws, 1)


@dataclass(frozen=True)
class Design:
    """What the transmitter designs for: the payload's SNR (training SNR, pruning, MCS) and, if fixed, the SNR
    its side information is protected for (None: protected for the SNR each piece is designed for)."""

    snr_db: float
    side_fixed_db: float | None = None

    def side_snr(self, snr_db: float | None = None) -> float:
        """SNR to protect side information for, for a part designed at ``snr_db`` (default: the payload's)."""
        if self.side_fixed_db is not None:
            return self.side_fixed_db
        return self.snr_db if snr_db is None else snr_db


class Memo(Protocol):
    """A persistent memo of small JSON results (:class:`airnet.store.artifacts.JsonMemo`)."""

    def get(self, description: Any, compute: Callable[[], Any]) -> Any:
        """The stored value for ``description``, else ``compute()`` (stored)."""


class SideLink:
    """Picks the transport of a side-information payload at a design SNR (memoized MCS choice per code size)."""

    def __init__(self, channel: Channel, channel_key: str, options: SideInfoOptions, link: LinkOptions,
                 memo: Memo | None = None) -> None:
        self.channel, self.channel_key, self.options, self.link = channel, channel_key, options, link
        self.memo = memo

    def _searched(self, kind: str, snr_db: float, k: int, seed: list[Any],
                  search: Callable[[torch.Generator], list[Any] | None]) -> list[Any] | None:
        """The result (a JSON list, or None) of the robust ``kind`` search for ``k``-bit blocks at ``snr_db``,
        ``search(generator)`` with the generator seeded from ``seed``: from this process (equal descriptions give
        equal results), else the on-disk memo, else computed."""
        key = (round(float(snr_db), 6), int(k))
        name = [f"robust_{kind}", self.channel_key, key, vars(self.link)]
        h = config_hash(name)
        if h not in _SELECTIONS:
            def compute() -> dict[str, Any]:
                return {kind: search(torch.Generator().manual_seed(int(config_hash([*seed, key]), 16) % 2 ** 62))}

            _SELECTIONS[h] = self.memo.get(name, compute) if self.memo else compute()
        return _SELECTIONS[h][kind]

    @property
    def free(self) -> bool:
        return self.options.mode == "free"

    def design(self, snr_db: float, design_snr_db: float | None) -> Design:
        """The :class:`Design` of a delivery at actual ``snr_db`` for ``design_snr_db`` (None: matched)."""
        if design_snr_db is None:
            return Design(float(snr_db))
        fixed = self.options.snr_db
        side = float(design_snr_db) - self.options.margin_db if fixed == "design" else float(fixed)
        return Design(float(design_snr_db), side)

    def transport(self, bits: int, snr: float) -> Transport | None:
        """How ``bits`` of side information travel, protected for ``snr`` dB (None: no configuration can): the
        cheapest in channel uses of the codes ``side_info.link`` allows, each at its robust configuration."""
        if self.free:
            return FreeTransport(bits)
        link = self.options.link
        if link == "capacity":
            return CapacityTransport.for_bits(self.channel, snr, bits, self.link.capacity_model,
                                              self.link.error_probability)
        found: list[Transport] = []
        if link in ("ldpc", "nr"):
            found += [t for t in [self.ldpc_transport(bits, snr)] if t is not None]
        if link == "polar" or (link == "nr" and 0 < bits <= NR_POLAR_MAX_BITS):
            found += [t for t in [self.polar_transport(bits, snr)] if t is not None]
        return min(found, key=lambda t: t.channel_uses) if found else None

    def polar_transport(self, bits: int, snr: float) -> PolarTransport | None:
        """CRC-aided polar blocks of at most :data:`POLAR_BLOCK_BITS` bits at the robust rate for ``snr`` dB."""
        blocks = max(1, math.ceil(bits / POLAR_BLOCK_BITS))
        # selected on blocks no longer than the real ones (a shorter polar code is weaker: pessimistic), at a
        # power of two so that the choice is shared by nearby sizes
        k_sel = max(16, 2 ** int(math.floor(math.log2(max(16, math.ceil(bits / blocks))))))
        config = self.robust_polar(snr, k_sel)
        return None if config is None else PolarTransport(config.for_bits(max(bits, 1)))

    def robust_polar(self, snr_db: float, k: int) -> PolarConfig | None:
        """Most efficient polar configuration whose ``selection_trials`` blocks of ``k`` bits all decode (cached)."""
        def search(g: torch.Generator) -> list[Any] | None:
            c = select_robust_polar(self.channel, snr_db, k, self.link.selection_trials, self.link.max_repetitions, g)
            return None if c is None else [c.k, c.n, c.repetitions]

        found = self._searched("polar", snr_db, k, [self.channel_key, "polar"], search)
        return None if found is None else PolarConfig(*found)

    def ldpc_transport(self, bits: int, snr: float) -> LDPCTransport | None:
        """5G NR LDPC at the robust MCS for ``snr`` dB (repetition below MCS 0)."""
        # the MCS is picked with blocks of at most SELECTION_K bits: never longer than the real ones (shorter codes
        # are weaker, so the choice is pessimistic) and cheap to simulate at low SNR, where blocks repeat many times
        k = min(self.link.k_max, bits + CRC_BITS, SELECTION_K)
        mcs = self.robust_mcs(snr, 2 ** int(math.floor(math.log2(max(64, k)))))
        if mcs is None:
            return None
        return LDPCTransport(segment_bits(mcs, bits, self.link.k_max), self.link.num_iter, self.link.early_stop)

    def robust_mcs(self, snr_db: float, k: int) -> MCS | None:
        """Most efficient MCS whose ``selection_trials`` blocks of ``k`` bits all decode at ``snr_db`` (cached)."""
        def search(g: torch.Generator) -> list[Any] | None:
            m = select_robust_mcs(self.channel, snr_db, k, self.link.num_iter, self.link.selection_trials,
                                  self.link.max_repetitions, g, self.link.early_stop)
            return None if m is None else [m.index, m.bits_per_symbol, m.rate, m.repetitions]

        found = self._searched("mcs", snr_db, k, [self.channel_key], search)
        return None if found is None else MCS(*found)
