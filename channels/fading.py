"""Flat block fading: ``y = h*x + n`` with one gain ``h`` per block of ``block_length`` symbols.

Rayleigh: ``h ~ CN(0, 1)``. Rician with K-factor ``K`` (linear): ``h = sqrt(K/(K+1)) + sqrt(1/(K+1)) CN(0, 1)``
(line-of-sight phase 0), so ``E|h|^2 = 1`` for both and the average received SNR equals the nominal SNR.
Gains are independent across blocks and across the B realizations of a batch.

With ``csi="estimated"`` every block starts with one pilot (energy P): the receiver's least-squares estimate
``h_est = y_p / x_p`` has error variance ``N0/P``, and its effective noise on the block's data is
``N0 + (N0/P) P = 2 N0``. A block then carries ``block_length - 1`` data symbols.
"""
from __future__ import annotations

import math

import torch

from channels.base import Channel, ChannelOutput, complex_normal
from channels.capacity import (fading_dispersion, rayleigh_ergodic_capacity, rician_ergodic_capacity,
                               snr_linear)
from channels.checks import check_positive, check_symbols
from channels.power import snr_db_to_noise_var
from channels.registry import register_channel


@register_channel("rayleigh")
class RayleighChannel(Channel):
    """Rayleigh block fading with receiver CSI ``perfect``, ``estimated`` (a pilot per block) or ``none``."""

    name = "rayleigh"
    csi_modes = ("perfect", "estimated", "none")

    def __init__(self, block_length: int = 64, signal_power: float = 1.0, csi: str = "perfect",
                 equalizer: str = "mmse") -> None:
        super().__init__(signal_power=signal_power, csi=csi, equalizer=equalizer)
        if isinstance(block_length, bool) or int(block_length) != block_length or block_length < 1:
            raise ValueError(f"block_length must be a positive integer, got {block_length!r}")
        if csi == "estimated" and block_length < 2:
            raise ValueError(f"csi='estimated' needs block_length >= 2 (a pilot and data), got {block_length}")
        self.block_length = int(block_length)

    def los(self) -> tuple[float, float]:
        """(line-of-sight amplitude, scattered std) with ``los^2 + std^2 = 1``."""
        return 0.0, 1.0

    def block_gains(self, lead: tuple[int, ...], blocks: int, generator, dtype, device) -> torch.Tensor:
        """One gain per block: [*lead, blocks] complex."""
        los, std = self.los()
        return complex_normal((*lead, blocks), generator, dtype, device) * std + los

    def gains(self, shape, generator, dtype, device) -> torch.Tensor:
        """Block-constant gains [B, n] complex (independent across blocks and realizations), full size."""
        *lead, n = shape
        h = self.block_gains(tuple(lead), math.ceil(n / self.block_length), generator, dtype, device)
        return h.repeat_interleave(self.block_length, dim=-1)[..., :n]

    def _apply_blocks(self, x: torch.Tensor, snr_db, generator) -> ChannelOutput:
        """Perfect CSI or none: one gain per block, broadcast over a [B, blocks, L] view (no full-size gains)."""
        b, n = x.shape
        n0 = self.noise_var_of(snr_db, x)
        nb = math.ceil(n / self.block_length)
        h = self.block_gains((b,), nb, generator, x.dtype, x.device).unsqueeze(-1)       # [B, nb, 1]
        pad = nb * self.block_length - n
        xb = (torch.nn.functional.pad(x, (0, pad)) if pad else x).reshape(b, nb, self.block_length)
        noise = complex_normal((b, n), generator, x.dtype, x.device, scale=torch.sqrt(n0))
        nbk = (torch.nn.functional.pad(noise, (0, pad)) if pad else noise).reshape(b, nb, self.block_length)
        y = nbk.addcmul_(h, xb).reshape(b, -1)[:, :n]
        return ChannelOutput(y=y, h=h, noise_var=n0, csi=self.csi != "none", block_length=self.block_length)

    @property
    def data_per_block(self) -> int:
        return self.block_length - 1 if self.csi == "estimated" else self.block_length

    def uses_for(self, num_symbols: int) -> int:
        """Data symbols plus one pilot per block with estimated CSI."""
        if self.csi != "estimated":
            return int(num_symbols)
        return int(num_symbols) + math.ceil(int(num_symbols) / self.data_per_block)

    def symbols_in(self, uses: int) -> int:
        if self.csi != "estimated":
            return int(uses)
        full, rest = divmod(int(uses), self.block_length)
        return full * self.data_per_block + max(0, rest - 1)

    def observe(self, x: torch.Tensor, snr_db: float | torch.Tensor,
              generator: torch.Generator | None = None) -> ChannelOutput:
        check_symbols(x)
        if x.dim() == 1:
            x = x.unsqueeze(0)
        if self.csi != "estimated":
            return self._apply_blocks(x, snr_db, generator)
        b, n = x.shape
        n0 = self.noise_var_of(snr_db, x)
        blocks = math.ceil(n / self.data_per_block)
        h = self.block_gains((b,), blocks, generator, x.dtype, x.device)                          # [B, blocks]
        pilot_noise = complex_normal((b, blocks), generator, x.dtype, x.device) * torch.sqrt(n0)
        h_est = h + pilot_noise / math.sqrt(self.signal_power)                                    # LS: y_p / x_p
        h_data = h.repeat_interleave(self.data_per_block, dim=-1)[:, :n]
        noise = complex_normal((b, n), generator, x.dtype, x.device) * torch.sqrt(n0)
        y = h_data * x + noise
        est = h_est.repeat_interleave(self.data_per_block, dim=-1)[:, :n]
        return ChannelOutput(y=y, h=est, noise_var=(2.0 * n0).expand(b, 1), csi=True)

    def capacity(self, snr_db: float) -> float:
        """Ergodic capacity ``E log2(1 + |h|^2 SNR)`` per data symbol with receiver CSI (a codeword spans many
        blocks); with estimated CSI, the achievable rate ``E log2(1 + |h_est|^2 SNR/2)`` of a receiver that treats
        its estimation error as noise (Medard 2000), by Monte Carlo with a fixed seed.

        Without CSI the receiver would first have to learn ``h``; that rate is not the coherent capacity, so
        asking for it is an error rather than a silent overestimate.
        """
        snr = snr_linear(snr_db)
        if self.csi == "perfect":
            return self.fading_capacity(snr)
        if self.csi == "estimated":
            g = torch.Generator().manual_seed(0)
            h = self.block_gains((1,), 400_000, g, torch.complex128, None)[0]
            h_est = h + complex_normal((400_000,), g, torch.complex128) * math.sqrt(1.0 / snr)
            return float(torch.log2(1.0 + h_est.abs().pow(2) * snr / 2.0).mean())
        raise ValueError(f"capacity of {self.name} with csi={self.csi!r} is not defined here: the ergodic "
                         f"capacity assumes receiver CSI (set channel.csi=perfect or estimated)")

    def fading_capacity(self, snr: float) -> float:
        """Coherent ergodic capacity at linear SNR ``snr``."""
        return rayleigh_ergodic_capacity(snr)

    def dispersion(self, snr_db: float) -> float:
        """Block-fading dispersion with receiver CSI, ``E[V_awgn] + block_length Var[log2(1+|h|^2 SNR)]``,
        by Monte Carlo over 200k gains (fixed seed, so the value is deterministic)."""
        if self.csi != "perfect":
            raise ValueError(f"dispersion of {self.name} with csi={self.csi!r} is not defined here (needs CSI)")
        h = self.block_gains((1,), 200_000, torch.Generator().manual_seed(0), torch.complex128, None)[0]
        return fading_dispersion(snr_linear(snr_db), self.block_length, (h.abs() ** 2).numpy())

    def extra_repr(self) -> str:
        return f"block_length={self.block_length}, " + super().extra_repr()


@register_channel("rician")
class RicianChannel(RayleighChannel):
    """Rician block fading with linear K-factor ``k_factor`` (K=0 is Rayleigh)."""

    name = "rician"

    def __init__(self, k_factor: float = 3.0, block_length: int = 64, signal_power: float = 1.0,
                 csi: str = "perfect", equalizer: str = "mmse") -> None:
        super().__init__(block_length=block_length, signal_power=signal_power, csi=csi, equalizer=equalizer)
        self.k_factor = check_positive("k_factor", k_factor, allow_zero=True)

    def los(self) -> tuple[float, float]:
        k = self.k_factor
        return math.sqrt(k / (k + 1.0)), math.sqrt(1.0 / (k + 1.0))

    def fading_capacity(self, snr: float) -> float:
        return rician_ergodic_capacity(snr, self.k_factor)

    def extra_repr(self) -> str:
        return f"k_factor={self.k_factor}, " + super().extra_repr()
