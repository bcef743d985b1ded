"""AirNet analog delivery of a model: weights -> power-normalized channel symbols -> received weights, by a
:class:`airnet.delivery.plan.TransmissionPlan`."""
from __future__ import annotations

import torch

from channels import Channel, combine, transmit_reals, transmit_reals_soft
from airnet.delivery.plan import TransmissionPlan
from airnet.zoo.params import check_weights


def default_combiner(channel: Channel) -> str:
    """Combiner matching the channel's receiver: average without CSI, MMSE for an MMSE equalizer, else MRC."""
    if channel.csi == "none":
        return "average"
    return "mmse" if channel.equalizer == "mmse" else "mrc"


def transmit_vector(w: torch.Tensor, channel: Channel, snr_db: float | torch.Tensor, num_realizations: int = 1,
                    plan: TransmissionPlan | None = None, generator: torch.Generator | None = None,
                    combiner: str | None = None, check: bool = True, pad_to: int | None = None) -> torch.Tensor:
    """Deliver weight vector [n] over ``num_realizations`` independent channel draws; return received [K, n].

    Power normalization is over the transmitted stream (copies included), so every channel use has mean
    energy P. Copies are merged with ``combiner`` (default: :func:`default_combiner`; see
    :func:`channels.combining.combine`); with one copy, MRC is ZF and MMSE is the MMSE equalizer.
    Unsent weights are returned as 0. ``pad_to`` (reals, at least the plan's) draws the channel as for that many
    reals, so deliveries of different lengths share their noise and fades (:func:`channels.transmit_reals`).
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
        est = transmit_reals(sent, channel, snr_db, generator, check=False, pad_to=pad_to)    # checked above
        if plan.is_full:
            return est
        return torch.zeros(num_realizations, w.numel(), dtype=est.dtype, device=est.device).index_copy_(1, index, est)
    est, prec = transmit_reals_soft(sent, channel, snr_db, generator, pad_to=pad_to)
    prior = sent.pow(2).mean(dim=-1, keepdim=True)
    return combine(est, prec, index, w.numel(), method=method, prior_var=prior)
