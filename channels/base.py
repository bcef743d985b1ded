"""Channel base class and the receiver-side view of one transmission (:class:`ChannelOutput`)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from channels.checks import check_positive, check_symbols
from channels.power import snr_db_to_noise_var

EQUALIZERS = ("zf", "mmse")
CSI_MODES = ("perfect", "estimated", "none")


@dataclass
class ChannelOutput:
    """What the receiver sees of one transmission ``y = h*x + n``.

    Attributes
    ----------
    y : [B, n], complex
        Received symbols.
    h : [B, n] or broadcastable to it, complex
        The gains the receiver equalizes with: the true ones (perfect CSI) or its estimates (estimated CSI);
        unused when ``csi`` is False.
    noise_var : [B, n] or broadcastable to it, real
        The receiver's effective noise variance per complex symbol: N0, plus ``|x|^2`` times the channel
        estimation error variance with estimated CSI (``y = h_est x + (n - e x)``).
    csi : bool
        Whether the receiver has (true or estimated) gains.
    """

    y: torch.Tensor
    h: torch.Tensor
    noise_var: torch.Tensor
    csi: bool = True

    def zf(self) -> torch.Tensor:
        """Zero-forcing estimate ``y/h`` (raw ``y`` without CSI).

        Output
        ------
        : [B, n], complex
        """
        return self.y / self.h if self.csi else self.y

    def precision(self) -> torch.Tensor:
        """Inverse noise variance per complex symbol of :meth:`zf`: ``|h|^2/N0`` (``1/N0`` without CSI).

        Output
        ------
        : [B, n], real
        """
        if not self.csi:
            return (1.0 / self.noise_var).expand(self.y.shape)
        return (self.h.abs() ** 2 / self.noise_var).expand(self.y.shape)


class Channel(nn.Module):
    """A memoryless link for complex symbols with average input power ``P`` and SNR ``P/N0``.

    Subclasses define :meth:`gains` (the fading law) and :meth:`capacity` (bits per channel use for their CSI
    mode); the base class adds the noise, equalizes and validates inputs.

    Parameters
    ----------
    signal_power : float
        Average energy ``P`` of a channel input symbol.
    csi : "perfect" | "estimated" | "none"
        Receiver channel state information; ``estimated`` spends channel uses on pilots (see :meth:`uses_for`).
    equalizer : "zf" | "mmse"
        Receiver equalizer used by :meth:`forward` (and the combiner picked for repeated symbols).

    Input
    -----
    x : [B, n] or [n], torch.complex64 | torch.complex128
        Symbols of mean energy ``P``; B independent channel realizations.
    snr_db : float or [B], float
        SNR ``P/N0`` in dB, one for all or one per realization.
    generator : torch.Generator | None
        Source of randomness (gains and noise).

    Output
    ------
    : [B, n] (the shape of ``x``), complex
        Equalized estimate of ``x``.
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
        """Channel gains for symbols of ``shape``.

        Input
        -----
        shape : torch.Size
            [B, n], the symbols' shape.
        generator, dtype, device
            Randomness, complex dtype and device of the result.

        Output
        ------
        h : broadcastable to [B, n], complex ``dtype``
        """
        raise NotImplementedError(f"{type(self).__name__} does not define gains()")

    def uses_for(self, num_symbols: int) -> int:
        """Channel uses (resource elements) that ``num_symbols`` data symbols occupy, pilots included.

        Input
        -----
        num_symbols : int

        Output
        ------
        : int (``num_symbols`` for a channel without pilots)
        """
        return int(num_symbols)

    def symbols_in(self, uses: int) -> int:
        """Data symbols that fit in ``uses`` channel uses (inverse of :meth:`uses_for`)."""
        return int(uses)

    def capacity(self, snr_db: float) -> float:
        """Shannon capacity in bits per complex *data* symbol at ``snr_db`` for this channel and CSI mode (pilots,
        if any, are charged by :meth:`uses_for`).

        Every channel must define it: the digital baselines need it, and no generic fallback would be right.

        Input
        -----
        snr_db : float
            Average SNR ``P/N0`` in dB.

        Output
        ------
        : float
            Bits per channel use.
        """
        raise NotImplementedError(
            f"{type(self).__name__} defines no capacity(); the digital baselines need one for its CSI mode "
            f"(csi={self.csi!r})")

    def dispersion(self, snr_db: float) -> float:
        """Channel dispersion ``V`` (bits^2 per channel use) for finite-blocklength rates next to :meth:`capacity`
        (normal approximation ``R ~ C - sqrt(V/n) Q^-1(eps)``). Optional: the base raises.

        Input
        -----
        snr_db : float

        Output
        ------
        : float
        """
        raise NotImplementedError(f"{type(self).__name__} defines no dispersion(); the normal approximation "
                                  f"needs it (use capacity_model=shannon)")

    def apply(self, x: torch.Tensor, snr_db: float | torch.Tensor,
              generator: torch.Generator | None = None) -> ChannelOutput:
        """Send symbols and return the raw observation, for receivers that combine several observations.

        Input
        -----
        x : [B, n] or [n], complex
        snr_db : float or [B], float
        generator : torch.Generator | None

        Output
        ------
        : :class:`ChannelOutput` with ``y`` [B, n]
        """
        check_symbols(x)
        if x.dim() == 1:
            x = x.unsqueeze(0)
        n0 = self.noise_var_of(snr_db, x)
        h = self.gains(x.shape, generator, x.dtype, x.device)
        noise = complex_normal(x.shape, generator, x.dtype, x.device) * torch.sqrt(n0)
        return ChannelOutput(y=h * x + noise, h=h, noise_var=n0, csi=self.csi != "none")

    def noise_var_of(self, snr_db: float | torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """N0 for symbols x [B, n] at ``snr_db`` (scalar or [B]): [B or 1, 1], real dtype of x."""
        n0 = snr_db_to_noise_var(snr_db, self.signal_power).to(device=x.device, dtype=x.real.dtype)
        if n0.dim() == 1:
            if n0.shape[0] not in (1, x.shape[0]):
                raise ValueError(f"snr_db has {n0.shape[0]} entries but the batch has {x.shape[0]} realizations")
            return n0.reshape(-1, *([1] * (x.dim() - 1)))
        return n0.reshape([1] * x.dim())

    def equalize(self, out: ChannelOutput) -> torch.Tensor:
        """Receiver estimate of x: ZF ``y/h``, MMSE ``h* y/(|h|^2 + N0/P)``, or ``y`` without CSI.

        Input
        -----
        out : :class:`ChannelOutput`

        Output
        ------
        : [B, n], complex
        """
        if not out.csi:
            return out.y
        if self.equalizer == "zf":
            return out.y / out.h
        return out.h.conj() * out.y / (out.h.abs() ** 2 + out.noise_var / self.signal_power)

    def forward(self, x: torch.Tensor, snr_db: float | torch.Tensor,
                generator: torch.Generator | None = None) -> torch.Tensor:
        y = self.equalize(self.apply(x, snr_db, generator))
        return y.reshape(x.shape)

    def extra_repr(self) -> str:
        return f"P={self.signal_power}, csi={self.csi}, equalizer={self.equalizer}"


def complex_normal(shape: torch.Size | tuple[int, ...], generator: torch.Generator | None,
                   dtype: torch.dtype = torch.complex64, device: torch.device | str | None = None) -> torch.Tensor:
    """CN(0, 1) samples (variance 1/2 per real dimension).

    Input
    -----
    shape : tuple of int
    generator : torch.Generator | None
    dtype : torch.complex64 | torch.complex128

    Output
    ------
    : ``shape``, ``dtype``
    """
    real_dtype = torch.float64 if dtype == torch.complex128 else torch.float32
    z = torch.randn(*shape, 2, generator=generator, dtype=real_dtype, device=device)
    return torch.view_as_complex(z) * (0.5 ** 0.5)
