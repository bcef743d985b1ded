"""channels: a PyTorch channel layer for analog transmission (AWGN, Rayleigh/Rician block fading).

Independent of airnet; any training code can import it. Symbols are complex tensors [B, n] with a leading batch of
independent channel realizations; randomness comes from an optional ``torch.Generator``.
"""
from channels.analog import channel_uses, transmit_reals, transmit_reals_soft
from channels.awgn import AWGNChannel
from channels.base import Channel, ChannelOutput, complex_normal
from channels.combining import combine
from channels.fading import RayleighChannel, RicianChannel
from channels.layer import ChannelLayer
from channels.power import normalize_power, pair_reals, power_scale, snr_db_to_noise_var, unpair_reals
from channels.registry import available_channels, make_channel, register_channel

__all__ = [
    "AWGNChannel", "Channel", "ChannelLayer", "ChannelOutput", "RayleighChannel", "RicianChannel",
    "available_channels", "channel_uses", "combine", "complex_normal", "make_channel", "normalize_power",
    "pair_reals", "power_scale", "register_channel", "snr_db_to_noise_var", "transmit_reals",
    "transmit_reals_soft", "unpair_reals",
]
