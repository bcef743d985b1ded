"""Channel base class and the receiver-side view of one transmission (:class:`ChannelOutput`)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from channels.checks import check_positive, check_snr_float, check_symbols
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
    h : complex, broadcastable to [B, n]; or [B, n_blocks, 1] when ``block_length`` is set
        The gains the receiver equalizes with: the true ones (perfect CSI) or its estimates (estimated CSI);
        unused when ``csi`` is False. ``None`` means a known unit gain (AWGN). Block fading keeps one gain per
        block (``block_length`` symbols each) instead of a full-size copy; :meth:`gains` expands it.
    noise_var : [B, n] or broadcastable to it, real
        The receiver's effective noise variance per complex symbol: N0, plus ``|x|^2`` times the channel
        estimation error variance with estimated CSI (``y = h_est x + (n - e x)``).
    csi : bool
        Whether the receiver has (true or estimated) gains.
    block_length : int or None
    """

    y: torch.Tensor
    h: torch.Tensor | None
    noise_var: torch.Tensor
    csi: bool = True
    block_length: int | None = None

    def _blocks(self, t: torch.Tensor) -> torch.Tensor:
        """A [B, n] tensor as [B, n_blocks, block_length] (zero-padded)."""
        assert self.h is not None and self.block_length is not None     # block fading keeps one gain per block
        b, n = t.shape
        nb = self.h.shape[1]
        pad = nb * self.block_length - n
        return (torch.nn.functional.pad(t, (0, pad)) if pad else t).reshape(b, nb, self.block_length)

    def _flat(self, t: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`_blocks`: [B, n_blocks, L] -> [B, n]."""
        return t.reshape(t.shape[0], -1)[:, :self.y.shape[-1]]

    def per_symbol(self, per_gain: torch.Tensor) -> torch.Tensor:
        """A function of the gains (same layout as ``h``) multiplied onto ``y`` symbol by symbol: [B, n]."""
        if self.block_length is None:
            return per_gain * self.y
        return self._flat(per_gain * self._blocks(self.y))

    def gains(self) -> torch.Tensor:
        """The receiver's gains, full size: [B, n] complex (ones for a known unit gain)."""
        if self.h is None:
            return torch.ones_like(self.y)
        if self.block_length is None:
            return self.h.expand(self.y.shape)
        return self._flat(self.h.expand(-1, -1, self.block_length))

    def zf(self) -> torch.Tensor:
        """Zero-forcing estimate ``y/h`` (raw ``y`` without CSI or with a unit gain).

        Output
        ------
        : [B, n], complex
        """
        if not self.csi or self.h is None:
            return self.y
        return self.per_symbol(1.0 / self.h)

    def precision(self) -> torch.Tensor:
        """Inverse noise variance per complex symbol of :meth:`zf`: ``|h|^2/N0`` (``1/N0`` without CSI); [B, n]."""
        if not self.csi or self.h is None:
            return (1.0 / self.noise_var).expand(self.y.shape)
        return self.gains().abs() ** 2 / self.noise_var

    def zf_noise_var(self) -> torch.Tensor:
        """Noise variance of :meth:`zf` per symbol, ``N0/|h|^2``: [B, n] real."""
        return (1.0 / self.precision()).expand(self.y.shape)


class Channel(nn.Module):
    """A memoryless link for complex symbols with average input power ``P`` and SNR ``P/N0``.

    Subclasses define :meth:`gains` (the fading law) and :meth:`capacity` (bits per channel use for their CSI
    mode); the base class adds the noise, equalizes and validates inputs. A subclass lists the receiver CSI modes it
    implements in :attr:`csi_modes`: the base implements ``perfect`` (the receiver knows :meth:`gains`) and ``none``
    (it ignores them); ``estimated`` needs the channel's own pilots and estimator, so only channels that define them
    declare it, and asking any other channel for it is an error.

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
    csi_modes: ClassVar[tuple[str, ...]] = ("perfect", "none")

    def __init__(self, signal_power: float = 1.0, csi: str = "perfect", equalizer: str = "zf") -> None:
        super().__init__()
        self.signal_power = check_positive("signal_power", signal_power)
        if csi not in CSI_MODES:
            raise ValueError(f"unknown csi mode {csi!r}; choose one of {CSI_MODES}")
        if csi not in self.csi_modes:
            raise ValueError(f"{type(self).__name__} implements csi {' | '.join(self.csi_modes)}, not {csi!r}"
                             + ("" if csi != "estimated" else " (estimated CSI needs the channel's own pilots: "
                                "declare it in csi_modes and charge them in uses_for)"))
        if equalizer not in EQUALIZERS:
            raise ValueError(f"unknown equalizer {equalizer!r}; choose one of {EQUALIZERS}")
        self.csi = csi
        self.equalizer = equalizer

    def gains(self, shape: torch.Size, generator: torch.Generator | None, dtype: torch.dtype,
              device: torch.device) -> torch.Tensor | None:
        """Channel gains for symbols of ``shape``.

        Input
        -----
        shape : torch.Size
            [B, n], the symbols' shape.
        generator, dtype, device
            Randomness, complex dtype and device of the result.

        Output
        ------
        h : broadcastable to [B, n], complex ``dtype``; or None for a known unit gain (the receiver skips
            multiplying and dividing by 1)
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

    def codeword_rates(self, snr_db: float, uses: int, draws: int, generator: torch.Generator | None = None,
                       chunk: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
        """Mutual information and dispersion of ``draws`` codewords of ``uses`` data symbols, each over its own
        channel gains (Gaussian inputs, perfect receiver CSI): what decides whether one codeword decodes
        (outage), unlike :meth:`capacity`, the ergodic mean over all gains.

        Input
        -----
        snr_db : float
        uses : int
            Data symbols per codeword.
        draws : int
            Independent codewords.
        generator : torch.Generator | None

        Output
        ------
        rate : [draws], float64
            ``mean log2(1 + |h|^2 SNR)`` over the codeword's symbols, bits per use.
        dispersion : [draws], float64
            ``mean V_awgn(|h|^2 SNR)``: the codeword's dispersion given its gains (normal approximation).
        """
        if self.csi != "perfect":
            raise ValueError(f"codeword_rates needs perfect receiver CSI; {self.name} has csi={self.csi!r}")
        snr = 10.0 ** (float(snr_db) / 10.0)
        out_r, out_v = [], []
        for start in range(0, int(draws), int(chunk)):
            b = min(int(chunk), int(draws) - start)
            h = self.gains(torch.Size([b, int(uses)]), generator, torch.complex64, torch.device("cpu"))
            g = (torch.ones(b, 1, dtype=torch.float64) if h is None
                 else h.abs().double().pow(2).expand(b, int(uses))) * snr
            out_r.append(torch.log2(1.0 + g).mean(dim=1))
            out_v.append(((1.0 - 1.0 / (1.0 + g) ** 2) / math.log(2.0) ** 2).mean(dim=1))
        return torch.cat(out_r), torch.cat(out_v)

    def observe(self, x: torch.Tensor, snr_db: float | torch.Tensor,
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
        y = complex_normal(x.shape, generator, x.dtype, x.device, scale=torch.sqrt(n0))
        y = y.add_(x) if h is None else y.addcmul_(h, x)
        return ChannelOutput(y=y, h=h, noise_var=n0, csi=self.csi != "none")

    def noise_var_of(self, snr_db: float | torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """N0 for symbols x [B, n] at ``snr_db`` (scalar or [B]): [B or 1, 1], real dtype of x."""
        if isinstance(snr_db, (int, float)) and not isinstance(snr_db, bool):
            # the common case (training steps): no tensor round trip
            return torch.full([1] * x.dim(), self.signal_power / 10.0 ** (check_snr_float(snr_db) / 10.0),
                              dtype=x.real.dtype, device=x.device)
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
            return out.zf()
        if out.h is None:                                # unit gain: a scalar shrinkage
            return out.y / (1.0 + out.noise_var / self.signal_power)
        if out.block_length is not None and out.noise_var.numel() <= out.y.shape[0]:
            n0 = out.noise_var.reshape(-1, 1, 1)         # one weight per block
            return out.per_symbol(out.h.conj() / (out.h.abs() ** 2 + n0 / self.signal_power))
        h = out.gains()
        return h.conj() * out.y / (h.abs() ** 2 + out.noise_var / self.signal_power)

    def receive_reals(self, x: torch.Tensor, snr_db: float | torch.Tensor,
                      generator: torch.Generator | None) -> torch.Tensor | None:
        """A channel's own fast path for :func:`channels.transmit_reals` (x [B, m] float, checked), or None to use
        the generic path."""
        perturbation = self.reals_perturbation(x, snr_db, generator)
        return None if perturbation is None else x + perturbation

    def reals_perturbation(self, x: torch.Tensor, snr_db: float | torch.Tensor,
                           generator: torch.Generator | None,
                           normals: torch.Tensor | None = None) -> torch.Tensor | None:
        """``transmit_reals(x) - x`` computed directly, for channels that can (noise injection adds it to the
        weights); None means use the generic path. Input x [B, m] float, output [B, m].

        ``normals`` [B, m] (same dtype and device as x), where given, are the standard normals the noise is made of
        instead of drawing them from ``generator``; they are overwritten (scaled in place) and returned. Channels
        whose noise is not one standard normal per real (fading: gains too) take none (:attr:`takes_normals`)."""
        return None

    #: whether :meth:`reals_perturbation` accepts ``normals`` (noise made of caller-supplied standard normals)
    takes_normals: bool = False

    def perturb_reals(self, x: torch.Tensor, snr_db: float, normals: torch.Tensor,
                      out: torch.Tensor) -> torch.Tensor | None:
        """``x + reals_perturbation(x, snr_db, normals=normals)`` written into ``out`` without changing
        ``normals`` (one fused pass where a channel has one; noise injection's pooled normals); None where the
        channel has no such path. Input x, normals, out: [m] float."""
        return None

    def forward(self, x: torch.Tensor, snr_db: float | torch.Tensor,
                generator: torch.Generator | None = None) -> torch.Tensor:
        y = self.equalize(self.observe(x, snr_db, generator))
        return y.reshape(x.shape)

    def extra_repr(self) -> str:
        return f"P={self.signal_power}, csi={self.csi}, equalizer={self.equalizer}"


def complex_normal(shape: torch.Size | tuple[int, ...], generator: torch.Generator | None,
                   dtype: torch.dtype = torch.complex64, device: torch.device | str | None = None,
                   scale: torch.Tensor | float | None = None) -> torch.Tensor:
    """CN(0, scale^2) samples (variance scale^2/2 per real dimension), scaled in one in-place pass.

    Input
    -----
    shape : tuple of int
    generator : torch.Generator | None
    dtype : torch.complex64 | torch.complex128
    scale : float or real tensor broadcastable to ``shape`` (default 1)

    Output
    ------
    : ``shape``, ``dtype``
    """
    real_dtype = torch.float64 if dtype == torch.complex128 else torch.float32
    z = torch.randn(*shape, 2, generator=generator, dtype=real_dtype, device=device)
    factor = 0.5 ** 0.5 if scale is None else torch.as_tensor(scale, dtype=real_dtype, device=z.device) * 0.5 ** 0.5
    z.mul_(factor.unsqueeze(-1) if isinstance(factor, torch.Tensor) and factor.dim() else factor)
    return torch.view_as_complex(z)
