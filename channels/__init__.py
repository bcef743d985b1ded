"""channels: a PyTorch channel layer for analog transmission (AWGN, Rayleigh/Rician block fading, OFDM over 3GPP
TDL/CDL multipath via Sionna).

Independent of airnet; any training code can import it. Symbols are complex tensors [B, n] with a leading batch of
independent channel realizations; randomness comes from an optional ``torch.Generator``. Channels register
themselves by name (:func:`register_channel`); :func:`make_channel` builds one from a config string.
"""
from channels.analog import channel_uses, transmit_reals, transmit_reals_soft
from channels.base import Channel, ChannelOutput, complex_normal
from channels.combining import combine
from channels.layer import ChannelLayer
from channels.power import normalize_power, pair_reals, power_scale, snr_db_to_noise_var, unpair_reals
from channels.registry import available_channels, channel_factory, make_channel, register_channel
from channels.awgn import AWGNChannel  # noqa: E402  (built-in channels register on import)
from channels.fading import RayleighChannel, RicianChannel  # noqa: E402
from channels.ofdm import CDLChannel, OFDMChannel, TDLChannel  # noqa: E402  (Sionna is imported on first use)

__all__ = [
    "AWGNChannel", "CDLChannel", "Channel", "ChannelLayer", "ChannelOutput", "OFDMChannel", "RayleighChannel",
    "RicianChannel", "TDLChannel",
    "available_channels", "channel_factory", "channel_uses", "combine", "complex_normal", "make_channel", "normalize_power",
    "pair_reals", "power_scale", "register_channel", "snr_db_to_noise_var", "transmit_reals",
    "transmit_reals_soft", "unpair_reals",
]
