"""OFDM over 3GPP TR 38.901 multipath (TDL, CDL) from Sionna: frequency-selective, time-varying, SISO.

Data symbols fill the data resource elements of consecutive slots, subcarrier by subcarrier within an OFDM
symbol; ``pilot_symbols`` (indices within each slot) are whole OFDM symbols of known pilots (energy P) and count as
channel uses (:meth:`OFDMChannel.uses_for`). The slots of one transmission are consecutive in time, so the channel
evolves with the UE speed (Doppler) across them. The receiver equalizes each resource element (ZF or MMSE) with
the true frequency response (``csi=perfect``) or its least-squares estimate on the pilots, interpolated linearly in
time between pilot OFDM symbols (``csi=estimated``); its effective noise then adds the estimate's noise variance.

Randomness: Sionna draws from one global generator. Here every model is a subclass whose ``torch_rng`` property
returns the generator of the current call (also inside CDL's coefficient generator), so the same seed gives the
same channel whatever else ran before, and Sionna's global stream is left untouched. Sionna is imported on first
use: ``import channels`` stays fast.
"""
from __future__ import annotations

import math
from functools import lru_cache

import torch

from channels.base import Channel, ChannelOutput, complex_normal
from channels.capacity import rayleigh_ergodic_capacity, snr_linear
from channels.checks import check_positive, check_symbols
from channels.registry import register_channel


class _Generator:
    """The generator of the call in progress, shared by a Sionna model and its sub-objects."""

    gen: torch.Generator | None = None


class OFDMChannel(Channel):
    """Base of the OFDM channels; subclasses build the Sionna channel model (:meth:`sionna_model`).

    Parameters
    ----------
    model : str
        38.901 profile letter (``A``..``E``).
    delay_spread : float
        RMS delay spread in seconds.
    carrier_frequency : float
        Hz.
    subcarrier_spacing : float
        Hz.
    num_subcarriers : int
        Subcarriers per OFDM symbol.
    num_ofdm_symbols : int
        OFDM symbols per slot.
    pilot_symbols : list of int
        OFDM symbols of each slot that carry pilots (empty only with ``csi=perfect``).
    speed : float
        UE speed in m/s (Doppler).
    signal_power, csi, equalizer
        As :class:`channels.Channel`; ``csi`` is ``perfect`` or ``estimated``.
    """

    csi_modes = ("perfect", "estimated")   # no-CSI OFDM would need a non-coherent receiver

    def __init__(self, model: str = "A", delay_spread: float = 100e-9, carrier_frequency: float = 3.5e9,
                 subcarrier_spacing: float = 30e3, num_subcarriers: int = 72, num_ofdm_symbols: int = 14,
                 pilot_symbols: tuple[int, ...] | list[int] = (2, 11), speed: float = 3.0, signal_power: float = 1.0,
                 csi: str = "perfect", equalizer: str = "mmse") -> None:
        super().__init__(signal_power=signal_power, csi=csi, equalizer=equalizer)
        self.model = str(model).upper()
        if self.model not in "ABCDE" or len(self.model) != 1:
            raise ValueError(f"{self.name}: model must be one of A, B, C, D, E, got {model!r}")
        self.delay_spread = check_positive("delay_spread", delay_spread)
        self.carrier_frequency = check_positive("carrier_frequency", carrier_frequency)
        self.subcarrier_spacing = check_positive("subcarrier_spacing", subcarrier_spacing)
        self.speed = check_positive("speed", speed, allow_zero=True)
        for key, v in (("num_subcarriers", num_subcarriers), ("num_ofdm_symbols", num_ofdm_symbols)):
            if isinstance(v, bool) or int(v) != v or v < 1:
                raise ValueError(f"{key} must be a positive integer, got {v!r}")
        self.num_subcarriers, self.num_ofdm_symbols = int(num_subcarriers), int(num_ofdm_symbols)
        pilots = sorted({int(p) for p in pilot_symbols})
        if any(not 0 <= p < self.num_ofdm_symbols for p in pilots) or len(pilots) >= self.num_ofdm_symbols:
            raise ValueError(f"pilot_symbols must be distinct OFDM symbols in [0, {self.num_ofdm_symbols}) leaving "
                             f"room for data, got {list(pilot_symbols)}")
        if csi == "estimated" and not pilots:
            raise ValueError("csi='estimated' needs pilot_symbols")
        self.pilot_symbols = tuple(pilots)
        self._rng = _Generator()
        self._models: dict[str, object] = {}

    # --- resource grid ----------------------------------------------------------------------------------------

    @property
    def symbol_duration(self) -> float:
        """Seconds per OFDM symbol, NR's normal cyclic prefix included: ``(1 + 144/2048)/scs`` plus the longer
        first CP of each half-subframe (16/2048 of a 15 kHz symbol) spread over its ``7 * 2^mu`` symbols, so a
        14-symbol slot lasts exactly ``1 ms / 2^mu`` (0.5 ms at 30 kHz). The channel evolves (Doppler) at this
        rate; the cyclic prefix carries no data and costs no resource elements (``uses_for``)."""
        mu = math.log2(self.subcarrier_spacing / 15e3)
        return (1.0 + 144 / 2048) / self.subcarrier_spacing + (16 / 2048 / 15e3) / (7 * 2 ** mu)

    @property
    def slot_duration(self) -> float:
        """Seconds per slot of ``num_ofdm_symbols`` symbols."""
        return self.num_ofdm_symbols * self.symbol_duration

    @property
    def data_per_slot(self) -> int:
        return (self.num_ofdm_symbols - len(self.pilot_symbols)) * self.num_subcarriers

    def slots_for(self, num_symbols: int) -> int:
        return max(1, math.ceil(num_symbols / self.data_per_slot))

    def uses_for(self, num_symbols: int) -> int:
        """Resource elements up to the last data symbol, pilot OFDM symbols before it included."""
        n = int(num_symbols)
        if n == 0:
            return 0
        data_mask = self._data_symbol_mask(self.slots_for(n))
        last_data_symbol = int(torch.nonzero(torch.cumsum(data_mask.long(), 0) * self.num_subcarriers >= n)[0])
        pilots_before = int((~data_mask[:last_data_symbol]).sum())
        return n + pilots_before * self.num_subcarriers

    def symbols_in(self, uses: int) -> int:
        lo, hi = 0, int(uses)
        while lo < hi:                          # largest n with uses_for(n) <= uses
            mid = (lo + hi + 1) // 2
            if self.uses_for(mid) <= uses:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def _data_symbol_mask(self, slots: int) -> torch.Tensor:
        """[slots * num_ofdm_symbols] bool: which OFDM symbols carry data."""
        per_slot = torch.ones(self.num_ofdm_symbols, dtype=torch.bool)
        per_slot[list(self.pilot_symbols)] = False
        return per_slot.repeat(slots)

    # --- channel ----------------------------------------------------------------------------------------------

    def sionna_model(self, device: str = "cpu"):
        """The Sionna channel model on ``device`` (built once per device), seeded per call through ``self._rng``."""
        if device not in self._models:
            self._models[device] = self.build_model(device)
        return self._models[device]

    def build_model(self, device: str):
        raise NotImplementedError

    def frequency_response(self, batch: int, slots: int, generator: torch.Generator | None,
                           device: torch.device | str | None = None) -> torch.Tensor:
        """Channel frequency response of ``slots`` consecutive slots.

        Output
        ------
        : [batch, slots * num_ofdm_symbols, num_subcarriers], complex64
        """
        device = str(torch.device(device if device is not None else
                                  (generator.device if generator is not None else "cpu")))
        gen_ofdm = _ofdm_generator(self, slots, device)
        self._rng.gen = generator if generator is not None else torch.Generator(device=device).manual_seed(
            int(torch.randint(0, 2 ** 62, ())))
        try:
            h = gen_ofdm(batch)
        finally:
            self._rng.gen = None
        return h.reshape(batch, slots * self.num_ofdm_symbols, self.num_subcarriers)

    def gains(self, shape, generator, dtype, device) -> torch.Tensor:
        """Frequency response at the data resource elements of ``shape`` [B, n] symbols: [B, n] complex."""
        b, n = shape
        slots = self.slots_for(n)
        h = self.frequency_response(b, slots, generator, device)
        return h[:, self._data_symbol_mask(slots)].reshape(b, -1)[:, :n].to(dtype)

    def observe(self, x: torch.Tensor, snr_db: float | torch.Tensor,
              generator: torch.Generator | None = None) -> ChannelOutput:
        check_symbols(x)
        if x.dim() == 1:
            x = x.unsqueeze(0)
        b, n = x.shape
        n0 = self.noise_var_of(snr_db, x)
        slots = self.slots_for(n)
        h = self.frequency_response(b, slots, generator, x.device).to(x.dtype)       # [B, T, F]
        data = self._data_symbol_mask(slots)
        h_data = h[:, data].reshape(b, -1)[:, :n]
        y = h_data * x + complex_normal((b, n), generator, x.dtype, x.device) * torch.sqrt(n0)
        if self.csi == "perfect":
            return ChannelOutput(y=y, h=h_data, noise_var=n0, csi=True)
        h_est, err_var = self.ls_estimate(h, n0, generator, data)
        est = h_est[:, data].reshape(b, -1)[:, :n]
        noise = n0 + err_var[data].repeat_interleave(self.num_subcarriers)[:n].reshape(1, -1) * self.signal_power
        return ChannelOutput(y=y, h=est, noise_var=noise, csi=True)

    def ls_estimate(self, h: torch.Tensor, n0: torch.Tensor, generator: torch.Generator | None,
                    data: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Least-squares estimates on the pilot OFDM symbols, linearly interpolated in time.

        Input
        -----
        h : [B, T, F] complex, the true response; n0 : [B or 1, 1] noise variance; data : [T] bool

        Output
        ------
        h_est : [B, T, F] complex
        err_var : [T] float, the estimate's noise variance per OFDM symbol (``N0/P`` at a pilot, less between)
        """
        b, t, f = h.shape
        pilots = torch.nonzero(~data).flatten()
        noise = complex_normal((b, len(pilots), f), generator, h.dtype, h.device) * torch.sqrt(n0).unsqueeze(-1)
        h_p = h[:, pilots] + noise / math.sqrt(self.signal_power)          # y_p / x_p with |x_p|^2 = P
        # weights of the two surrounding pilots for every OFDM symbol (constant beyond the first / last)
        pos = torch.arange(t, dtype=torch.float64)
        pf = pilots.double()
        right = torch.searchsorted(pf, pos).clamp(1, len(pilots) - 1) if len(pilots) > 1 else torch.zeros(
            t, dtype=torch.long)
        left = (right - 1).clamp_min(0)
        span = (pf[right] - pf[left]).clamp_min(1.0)
        w = ((pos - pf[left]) / span).clamp(0.0, 1.0) if len(pilots) > 1 else torch.zeros(t, dtype=torch.float64)
        w_t = w.to(h.real.dtype).reshape(1, t, 1)
        h_est = (1 - w_t) * h_p[:, left] + w_t * h_p[:, right]
        per_pilot = n0.reshape(-1)[0].double() / self.signal_power
        err_var = ((1 - w) ** 2 + w ** 2) * per_pilot
        return h_est, err_var.to(h.real.dtype)

    def capacity(self, snr_db: float) -> float:
        """Ergodic capacity per data symbol ``E log2(1 + |H|^2 SNR)`` over resource elements with receiver CSI, or
        the rate of a receiver that treats its pilot estimation error as noise (``csi=estimated``).

        NLOS profiles (A, B, C) with perfect CSI: the closed form. Every resource element's response is CN(0, 1)
        there (Rayleigh taps, or for CDL a sum of hundreds of rays with independent phases, summing to the
        profile's unit power), and the mean of ``log2(1 + |H|^2 SNR)`` does not depend on how the elements
        correlate: ``e^{1/snr} E1(1/snr) / ln 2``. (A Monte Carlo mean over 1,000 slots of one seed was +2.3 % off
        at 0 dB for TDL-A: the slots of a draw are nearly flat, so they are few independent samples.) LOS profiles
        (D, E) and estimated CSI: Monte Carlo over 1000 slots drawn once with a fixed seed."""
        snr = snr_linear(snr_db)
        if self.csi == "perfect" and self.model in "ABC":
            return rayleigh_ergodic_capacity(snr)
        h = self._capacity_draws()
        if self.csi == "perfect":
            return float(torch.log2(1 + h.abs().pow(2) * snr).mean())
        n0 = torch.tensor([[self.signal_power / snr]], dtype=torch.float64)
        data = self._data_symbol_mask(1)
        h_est, err = self.ls_estimate(h, n0, torch.Generator().manual_seed(1), data)
        eff = snr / (1 + err.reshape(1, -1, 1) * snr)
        return float(torch.log2(1 + h_est.abs().pow(2) * eff)[:, data].mean())

    def _capacity_draws(self) -> torch.Tensor:
        if "_draws" not in self.__dict__:
            self._draws = self.frequency_response(1000, 1, torch.Generator().manual_seed(0)).to(torch.complex128)
        return self._draws

    def extra_repr(self) -> str:
        return (f"model={self.model}, delay_spread={self.delay_spread:g}, fc={self.carrier_frequency:g}, "
                f"scs={self.subcarrier_spacing:g}, subcarriers={self.num_subcarriers}, "
                f"symbols={self.num_ofdm_symbols}, pilots={list(self.pilot_symbols)}, speed={self.speed:g}, "
                + (f"direction={self.direction}, " if hasattr(self, "direction") else "")
                + super().extra_repr())


@lru_cache(maxsize=32)
def _ofdm_generator(channel: OFDMChannel, slots: int, device: str):
    """Sionna's GenerateOFDMChannel for ``slots`` consecutive slots of ``channel`` on ``device`` (unnormalized:
    the 38.901 profiles have unit mean power, so slots keep their fading)."""
    from .sionna_import import phy
    phy()
    from sionna.phy.channel import GenerateOFDMChannel
    from sionna.phy.ofdm import ResourceGrid

    duration = channel.symbol_duration           # NR timing with the cyclic prefix (Sionna's grid would have none)
    nr_grid = type("NRResourceGrid", (ResourceGrid,), {"ofdm_symbol_duration": property(lambda g: duration)})
    grid = nr_grid(num_ofdm_symbols=slots * channel.num_ofdm_symbols, fft_size=channel.num_subcarriers,
                   subcarrier_spacing=channel.subcarrier_spacing, device=device)
    return GenerateOFDMChannel(channel.sionna_model(device), grid, normalize_channel=False, device=device)


@register_channel("tdl")
class TDLChannel(OFDMChannel):
    """OFDM over a 38.901 tapped-delay-line model (TDL-A..E), SISO."""

    name = "tdl"

    def build_model(self, device):
        from .sionna_import import phy
        phy()
        from sionna.phy.channel.tr38901 import TDL

        seeded = type("SeededTDL", (TDL,), {"torch_rng": property(lambda m: m._airnet_rng.gen)})
        model = seeded(self.model, self.delay_spread, self.carrier_frequency, min_speed=self.speed,
                       max_speed=self.speed, device=device)
        object.__setattr__(model, "_airnet_rng", self._rng)
        return model


@register_channel("cdl")
class CDLChannel(OFDMChannel):
    """OFDM over a 38.901 clustered-delay-line model (CDL-A..E), SISO with omnidirectional antennas, downlink.

    ``direction``: how the UE moves at ``speed``. ``horizontal`` (default): along the ground, in a direction drawn
    uniformly in azimuth per realization, as a UE on a street does; its Doppler then follows the clusters' arrival
    azimuths. ``random_3d``: Sionna's own draw (azimuth uniform, zenith uniform in [0, pi]), where part of the
    speed points up or down, away from the nearly horizontal arrivals, so the channel decorrelates slower than at
    ``speed`` along the ground (see ``tests/test_ofdm.py`` for the measured correlation against Jakes' J0).
    Other parameters as :class:`OFDMChannel`.
    """

    name = "cdl"
    DIRECTIONS = ("horizontal", "random_3d")

    def __init__(self, model: str = "A", delay_spread: float = 100e-9, carrier_frequency: float = 3.5e9,
                 subcarrier_spacing: float = 30e3, num_subcarriers: int = 72, num_ofdm_symbols: int = 14,
                 pilot_symbols: tuple[int, ...] | list[int] = (2, 11), speed: float = 3.0,
                 direction: str = "horizontal", signal_power: float = 1.0, csi: str = "perfect",
                 equalizer: str = "mmse") -> None:
        super().__init__(model=model, delay_spread=delay_spread, carrier_frequency=carrier_frequency,
                         subcarrier_spacing=subcarrier_spacing, num_subcarriers=num_subcarriers,
                         num_ofdm_symbols=num_ofdm_symbols, pilot_symbols=pilot_symbols, speed=speed,
                         signal_power=signal_power, csi=csi, equalizer=equalizer)
        if direction not in self.DIRECTIONS:
            raise ValueError(f"cdl: direction must be one of {self.DIRECTIONS}, got {direction!r}")
        self.direction = direction

    def build_model(self, device):
        from .sionna_import import phy
        phy()
        from sionna.phy.channel.tr38901 import CDL, PanelArray
        from sionna.phy.channel.tr38901.channel_coefficients import ChannelCoefficientsGenerator

        def array():
            return PanelArray(num_rows_per_panel=1, num_cols_per_panel=1, polarization="single",
                              polarization_type="V", antenna_pattern="omni",
                              carrier_frequency=self.carrier_frequency, device=device)

        rng = property(lambda m: m._airnet_rng.gen)
        members: dict[str, object] = {"torch_rng": rng}
        if self.direction == "horizontal":
            def horizontal(m, batch_size: int) -> torch.Tensor:
                """Speed ``speed`` along the ground, azimuth uniform per realization."""
                phi = torch.rand((batch_size, 1), dtype=m.dtype, device=m.device, generator=m.torch_rng) * 2 * math.pi
                v = torch.full_like(phi, float(self.speed))
                return torch.cat([v * torch.cos(phi), v * torch.sin(phi), torch.zeros_like(phi)], dim=-1)
            members["_get_velocity"] = horizontal
        model = type("SeededCDL", (CDL,), members)(
            self.model, self.delay_spread, self.carrier_frequency, array(), array(), "downlink",
            min_speed=self.speed, max_speed=self.speed, device=device)
        model._cir_gen.__class__ = type("SeededCoefficients", (ChannelCoefficientsGenerator,), {"torch_rng": rng})
        for part in (model, model._cir_gen):
            object.__setattr__(part, "_airnet_rng", self._rng)
        return model
