"""Noise injection: during training, weights see the same perturbation the channel will add at delivery."""
from __future__ import annotations

import torch

from channels import Channel
from channels import transmit_reals
from airnet.delivery.plan import TransmissionPlan
from airnet.delivery.transmit import default_combiner, transmit_vector


class ChannelNoise:
    """Callable ``w [n] -> w_noisy [n]``: pass w through the real delivery path, straight-through gradient.

    The forward value is exactly what the receiver would get (same power normalization, fading, combining);
    the gradient w.r.t. w is the identity, as in noise-injection training. ``snr_db`` is a number, or a
    ``(low, high)`` range sampled uniformly at every call for robustness to a range of SNRs.
    """

    def __init__(self, channel: Channel, snr_db: float | tuple[float, float], plan: TransmissionPlan | None = None,
                 generator: torch.Generator | None = None, combiner: str | None = None) -> None:
        if isinstance(snr_db, (list, tuple)):
            lo, hi = (float(v) for v in snr_db)
            if not lo <= hi:
                raise ValueError(f"snr_db range must be (low, high) with low <= high, got {snr_db}")
            self.snr_range: tuple[float, float] | None = (lo, hi)
        else:
            self.snr_range = None
        self.snr_db = snr_db
        self.channel, self.generator, self.combiner = channel, generator, combiner
        # every weight once with the receiver's own combining: straight to the channel, skipping transmit_vector's
        # per-call bookkeeping (the same delivery for this plan)
        self.set_plan(plan)

    def set_plan(self, plan: TransmissionPlan | None) -> None:
        """Deliver by ``plan`` from now on (e.g. when sparse training changes which weights are sent)."""
        self.plan = plan
        self.direct = plan is None and self.combiner in (None, default_combiner(self.channel))

    def draw_snr(self) -> float:
        """SNR used for the next perturbation (dB)."""
        if self.snr_range is None:
            assert not isinstance(self.snr_db, (list, tuple))
            return float(self.snr_db)
        lo, hi = self.snr_range
        u = torch.rand((), generator=self.generator).item()
        return lo + (hi - lo) * u

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w + self.perturbation(w.detach())

    def perturbation(self, w: torch.Tensor) -> torch.Tensor:
        """What one delivery adds to the weights w [n] (no gradient): received minus sent, [n].

        Straight-through noise is this added to the weights; the training loop may add it to the parameters in
        place instead of building a perturbed copy (same numbers, no functional call).
        """
        # no per-step finiteness check: the training loop stops on a non-finite loss
        w = w.detach()
        if self.direct:
            snr = self.draw_snr()
            perturbation = self.channel.reals_perturbation(w, snr, self.generator)
            if perturbation is not None:
                return perturbation
            rx = transmit_reals(w.unsqueeze(0), self.channel, snr, self.generator, check=False)[0]
        else:
            rx = transmit_vector(w, self.channel, self.draw_snr(), 1, self.plan, self.generator, self.combiner,
                                 check=False)[0]
        return rx - w
