"""Noise injection: during training, weights see the same perturbation the channel will add at delivery."""
from __future__ import annotations

import typing

import torch

from channels import Channel
from channels import transmit_reals
from airnet.delivery.plan import TransmissionPlan
from airnet.delivery.transmit import default_combiner, transmit_vector
from airnet.training.loop import NoiseStream

NOISE_STREAMS = typing.get_args(NoiseStream)
#: ``auto`` pools standard normals from this many weights on (on the CPU, with a channel that takes them): below it a
#: fresh draw costs little next to the step, and the numbers stay those of the fresh stream
POOL_MIN_WEIGHTS = 1 << 20


def uses_pool(channel: Channel, stream: str, n: int, device: torch.device) -> bool:
    """Whether ``stream`` takes the normals of ``n``-weight vectors on ``device`` from a :class:`NormalPool`:
    ``pool``, or ``auto`` on the CPU from :data:`POOL_MIN_WEIGHTS` on; only on channels that take normals."""
    return channel.takes_normals and (
        stream == "pool" or (stream == "auto" and device.type == "cpu" and n >= POOL_MIN_WEIGHTS))


class NormalPool:
    """Standard normals for one weight vector per training step, at about a sixth of a fresh draw's cost.

    A pool of ``n + n // 4`` standard normals; each call redraws the next eighth of the pool (cyclically: every
    normal is redrawn after at most 8 calls) and returns the window of n at a uniform random offset in
    ``[0, n // 4]``. Within one step the n values are i.i.d. N(0, 1) exactly (a window of i.i.d. normals). Across
    steps a weight's values are uncorrelated (two offsets coincide with probability 4/n) but not independent:
    weight i at step t may reuse the normal weight j had up to 7 steps before. Why: on a CPU, torch's generator
    (mt19937) costs ~3.4 ns per normal, as much as a 10M-weight MLP's whole forward and backward pass at batch 64
    (``python -m benchmarks noise_injection``).

    Input (``draw``): none. Output: [n], a view into the pool (read it, do not write it; the next call changes it).
    """

    REFRESH_STEPS = 8

    def __init__(self, n: int, generator: torch.Generator | None, dtype: torch.dtype = torch.float32,
                 device: torch.device | str = "cpu") -> None:
        self.n, self.slack, self.generator = n, max(1, n // 4), generator
        self.pool = torch.empty(n + self.slack, dtype=dtype, device=device).normal_(generator=generator)
        self.chunk = -(-self.pool.numel() // self.REFRESH_STEPS)
        self.next = 0

    def draw(self) -> torch.Tensor:
        g, end = self.generator, min(self.next + self.chunk, self.pool.numel())
        self.pool[self.next:end].normal_(generator=g)
        self.next = 0 if end == self.pool.numel() else end
        offset = int(torch.randint(0, self.slack + 1, (1,), generator=g, device=self.pool.device))
        return self.pool[offset:offset + self.n]


class ChannelNoise:
    """Callable ``w [n] -> w_noisy [n]``: pass w through the real delivery path, straight-through gradient.

    The forward value is exactly what the receiver would get (same power normalization, fading, combining);
    the gradient w.r.t. w is the identity, as in noise-injection training. ``snr_db`` is a number, or a
    ``(low, high)`` range sampled uniformly at every call for robustness to a range of SNRs.

    ``stream``: where the standard normals come from, for channels that take them (:attr:`Channel.takes_normals`:
    AWGN) on the direct path. ``fresh``: drawn anew every step (the numbers of ``torch.randn``); ``pool``: a
    :class:`NormalPool`; ``auto``: ``pool`` on the CPU from :data:`POOL_MIN_WEIGHTS` weights on, ``fresh``
    otherwise (GPU generators are fast). Other channels and plans always draw fresh.
    """

    def __init__(self, channel: Channel, snr_db: float | tuple[float, float], plan: TransmissionPlan | None = None,
                 generator: torch.Generator | None = None, combiner: str | None = None,
                 stream: str = "fresh") -> None:
        if stream not in NOISE_STREAMS:
            raise ValueError(f"noise stream must be one of {NOISE_STREAMS}, got {stream!r}")
        self.stream = stream
        self._normals: torch.Tensor | None = None       # the fresh stream's buffer (no 40 MB allocation per step)
        self._pool: NormalPool | None = None
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
            normals = self.normals(w) if w.dim() == 1 and self.channel.takes_normals else None
            perturbation = self.channel.reals_perturbation(w, snr, self.generator, normals)
            if perturbation is not None:
                return perturbation
            rx = transmit_reals(w.unsqueeze(0), self.channel, snr, self.generator, check=False)[0]
        else:
            rx = transmit_vector(w, self.channel, self.draw_snr(), 1, self.plan, self.generator, self.combiner,
                                 check=False)[0]
        return rx - w

    def perturbed(self, w: torch.Tensor, out: torch.Tensor) -> torch.Tensor | None:
        """``w + perturbation(w)`` written into ``out`` [n] in one fused pass, for pooled normals on a channel that
        has that path (:meth:`Channel.perturb_reals`); None (nothing written) otherwise."""
        if not (self.direct and w.dim() == 1 and self.uses_pool(w.numel(), w.device)):
            return None
        snr = self.draw_snr()            # then the normals, as in perturbation(): the same stream on both paths
        return self.channel.perturb_reals(w.detach(), snr, self._pool_for(w).draw(), out)

    def _pool_for(self, w: torch.Tensor) -> NormalPool:
        if self._pool is None or self._pool.n != w.numel() or self._pool.pool.dtype != w.dtype \
                or self._pool.pool.device != w.device:
            self._pool = NormalPool(w.numel(), self.generator, w.dtype, w.device)
        return self._pool

    def uses_pool(self, n: int, device: torch.device) -> bool:
        """Whether weight vectors of ``n`` entries on ``device`` take their normals from a :class:`NormalPool`."""
        return uses_pool(self.channel, self.stream, n, device)

    def normals(self, w: torch.Tensor) -> torch.Tensor:
        """Standard normals for one perturbation of w [n]: [n], a buffer reused by the next call."""
        n = w.numel()
        if self.uses_pool(n, w.device):
            return self._pool_for(w).draw().clone()      # the channel scales its normals in place
        size = n + n % 2                   # the channel's own draw: whole complex symbols (same numbers)
        if self._normals is None or self._normals.numel() != size or self._normals.dtype != w.dtype \
                or self._normals.device != w.device:
            self._normals = torch.empty(size, dtype=w.dtype, device=w.device)
        return self._normals.normal_(generator=self.generator)[:n]
