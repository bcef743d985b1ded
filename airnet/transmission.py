"""AirNet analog delivery of a model: weights -> power-normalized channel symbols -> received weights.

A :class:`TransmissionPlan` says which weights go on the air and how often (channel expansion); weights that are
not sent (pruned) are known to be zero at the receiver, which knows the plan. Two reals share one complex channel
use, so a plan with ``m`` transmitted reals needs ``ceil(m/2)`` channel uses.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import torch

from channels import Channel, channel_uses, combine, transmit_reals, transmit_reals_soft
from airnet.params import check_weights


@dataclass(frozen=True)
class TransmissionPlan:
    """Which of ``num_params`` weights are sent and with how many copies each.

    ``index`` [m] lists, for each transmitted real, the weight it carries (a weight sent r times appears r times).
    """

    index: torch.Tensor
    num_params: int

    @classmethod
    def full(cls, num_params: int) -> "TransmissionPlan":
        """Every weight once (no pruning, no expansion)."""
        return cls(torch.arange(num_params), num_params)

    @classmethod
    def from_repeats(cls, repeats: torch.Tensor) -> "TransmissionPlan":
        """Plan from copies per weight [num_params] (0 = pruned), copies interleaved.

        Copy c of every weight is sent before copy c+1 of any weight, so the copies of one weight are far apart
        in the stream: they never share a complex symbol and, on block fading, see different blocks (diversity).
        """
        repeats = torch.as_tensor(repeats, dtype=torch.long)
        if (repeats < 0).any():
            raise ValueError("repeats must be non-negative")
        rounds = [torch.nonzero(repeats > c).flatten() for c in range(int(repeats.max()) if repeats.numel() else 0)]
        index = torch.cat(rounds) if rounds else torch.zeros(0, dtype=torch.long)
        return cls(index, repeats.numel())

    @cached_property
    def repeats(self) -> torch.Tensor:
        """Copies per weight [num_params]."""
        return torch.bincount(self.index, minlength=self.num_params)

    @cached_property
    def single_copy(self) -> bool:
        """Whether no weight is sent more than once (no combining needed)."""
        return bool((self.repeats <= 1).all())

    @cached_property
    def is_full(self) -> bool:
        """Whether every weight is sent once, in order (the transmitted stream is the weight vector itself)."""
        return self.num_reals == self.num_params and bool(
            torch.equal(self.index, torch.arange(self.num_params, device=self.index.device)))

    @property
    def mask(self) -> torch.Tensor:
        """Weights that are sent at least once [num_params] bool."""
        return self.repeats > 0

    @property
    def num_reals(self) -> int:
        """Transmitted reals, copies included."""
        return int(self.index.numel())

    @property
    def channel_uses(self) -> int:
        """Complex channel uses this plan occupies."""
        return channel_uses(self.num_reals)


def default_combiner(channel: Channel) -> str:
    """Combiner matching the channel's receiver: average without CSI, MMSE for an MMSE equalizer, else MRC."""
    if channel.csi == "none":
        return "average"
    return "mmse" if channel.equalizer == "mmse" else "mrc"


def transmit_vector(w: torch.Tensor, channel: Channel, snr_db: float | torch.Tensor, num_realizations: int = 1,
                    plan: TransmissionPlan | None = None, generator: torch.Generator | None = None,
                    combiner: str | None = None, check: bool = True) -> torch.Tensor:
    """Deliver weight vector [n] over ``num_realizations`` independent channel draws; return received [K, n].

    Power normalization is over the transmitted stream (copies included), so every channel use has mean
    energy P. Copies are merged with ``combiner`` (default: :func:`default_combiner`; see
    :func:`channels.combining.combine`); with one copy, MRC is ZF and MMSE is the MMSE equalizer.
    Unsent weights are returned as 0.
    """
    if w.dim() != 1:
        raise ValueError(f"weight vector must be 1-D, got shape {tuple(w.shape)}")
    if check:
        check_weights(w)
    if num_realizations < 1:
        raise ValueError(f"num_realizations must be >= 1, got {num_realizations}")
    plan = plan or TransmissionPlan.full(w.numel())
    if plan.num_params != w.numel():
        raise ValueError(f"plan is for {plan.num_params} weights, vector has {w.numel()}")
    if plan.num_reals == 0:
        raise ValueError("transmission plan sends no weights")
    method = combiner or default_combiner(channel)
    index = plan.index.to(w.device)
    sent = (w if plan.is_full else w[index]).unsqueeze(0).expand(num_realizations, -1)
    if plan.single_copy and method == default_combiner(channel):
        # one copy per weight: the default combiner is the channel's own receiver (ZF = MRC of one copy, MMSE =
        # LMMSE with the stream's power as prior, raw = average); skip the combining arithmetic
        est = transmit_reals(sent, channel, snr_db, generator, check=False)    # checked above
        if plan.is_full:
            return est
        return torch.zeros(num_realizations, w.numel(), dtype=est.dtype, device=est.device).index_copy_(1, index, est)
    est, prec = transmit_reals_soft(sent, channel, snr_db, generator)
    prior = sent.pow(2).mean(dim=-1, keepdim=True)
    return combine(est, prec, index, w.numel(), method=method, prior_var=prior)
