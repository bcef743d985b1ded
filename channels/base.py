"""Channel base class and the receiver-side view of one transmission (:class:`ChannelOutput`)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from channels.checks import check_positive, check_symbols
from channels.power import snr_db_to_noise_var

EQUALIZERS = ("zf", "mmse")
CSI_MODES = ("perfect", "none")


@dataclass
class ChannelOutput:
    """What the receiver sees: ``y = h*x + n`` with ``y``/``h`` [B, n] complex and ``noise_var`` N0 [B, 1]."""

    y: torch.Tensor
    h: torch.Tensor
    noise_var: torch.Tensor
    csi: bool = True

    def zf(self) -> torch.Tensor:
        """Zero-forcing estimate ``y/h`` (or raw ``y`` without CSI): [B, n] complex."""
        return self.y / self.h if self.csi else self.y

    def precision(self) -> torch.Tensor:
        """Inverse noise variance per complex symbol of :meth:`zf`: ``|h|^2/N0`` (``1/N0`` without CSI); [B, n]."""
        if not self.csi:
            return (1.0 / self.noise_var).expand(self.y.shape)
        return (self.h.abs() ** 2 / self.noise_var).expand(self.y.shape)


class Channel(nn.Module):
    """A memoryless link for complex symbols [B, n] (B independent realizations), with average input power P.

    ``forward(x, snr_db, generator)`` returns the equalized estimate of ``x``; ``apply`` returns the raw
    :class:`ChannelOutput` for receivers that combine several observations.
    """

    name = "channel"

    def __init__(self, signal_power: float = 1.0, csi: str = "perfect", equalizer: str = "zf") -> None:
        super().__init__()
        self.signal_power = check_positive("signal_power", signal_power)
        if csi not in CSI_MODES:
            raise ValueError(f"unknown csi mode {csi!r}; choose one of {CSI_MODES}")
        if equalizer not in EQUALIZERS:
            raise ValueError(f"unknown equalizer {equalizer!r}; choose one of {EQUALIZERS}")
        self.csi = csi
        self.equalizer = equalizer

    def gains(self, shape: torch.Size, generator: torch.Generator | None, dtype: torch.dtype,
              device: torch.device) -> torch.Tensor:
        """Channel gains h broadcastable to ``shape`` [B, n] (complex)."""
        raise NotImplementedError

    def apply(self, x: torch.Tensor, snr_db: float | torch.Tensor,
              generator: torch.Generator | None = None) -> ChannelOutput:
        """Send complex symbols [B, n] (or [n]) at ``snr_db`` (scalar or [B]); return the raw observation."""
        check_symbols(x)
        if x.dim() == 1:
            x = x.unsqueeze(0)
        n0 = snr_db_to_noise_var(snr_db, self.signal_power).to(device=x.device, dtype=x.real.dtype)
        if n0.dim() == 1:
            if n0.shape[0] not in (1, x.shape[0]):
                raise ValueError(f"snr_db has {n0.shape[0]} entries but the batch has {x.shape[0]} realizations")
            n0 = n0.reshape(-1, *([1] * (x.dim() - 1)))
        else:
            n0 = n0.reshape([1] * x.dim())
        h = self.gains(x.shape, generator, x.dtype, x.device)
        noise = complex_normal(x.shape, generator, x.dtype, x.device) * torch.sqrt(n0)
        return ChannelOutput(y=h * x + noise, h=h, noise_var=n0, csi=self.csi == "perfect")

    def equalize(self, out: ChannelOutput) -> torch.Tensor:
        """Receiver estimate of x [B, n]: ZF ``y/h``, MMSE ``h* y/(|h|^2 + N0/P)``, or ``y`` without CSI."""
        if not out.csi:
            return out.y
        if self.equalizer == "zf":
            return out.y / out.h
        return out.h.conj() * out.y / (out.h.abs() ** 2 + out.noise_var / self.signal_power)

    def forward(self, x: torch.Tensor, snr_db: float | torch.Tensor,
                generator: torch.Generator | None = None) -> torch.Tensor:
        """Equalized channel output, complex [B, n] (same shape as x)."""
        y = self.equalize(self.apply(x, snr_db, generator))
        return y.reshape(x.shape)

    def extra_repr(self) -> str:
        return f"P={self.signal_power}, csi={self.csi}, equalizer={self.equalizer}"


def complex_normal(shape: torch.Size | tuple[int, ...], generator: torch.Generator | None,
                   dtype: torch.dtype = torch.complex64, device: torch.device | str | None = None) -> torch.Tensor:
    """CN(0, 1) samples (variance 1/2 per real dimension) of the given complex dtype; ``shape``."""
    real_dtype = torch.float64 if dtype == torch.complex128 else torch.float32
    z = torch.randn(*shape, 2, generator=generator, dtype=real_dtype, device=device)
    return torch.view_as_complex(z) * (0.5 ** 0.5)
