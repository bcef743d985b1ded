"""``ChannelLayer``: an ``nn.Module`` that passes any real tensor through a noisy channel (for training code)."""
from __future__ import annotations

import torch
from torch import nn

from channels.analog import transmit_reals
from channels.base import Channel
from channels.checks import check_snr_db


class ChannelLayer(nn.Module):
    """Differentiable analog link for any real tensor: each sample is power-normalized and sent on its own.

    Active in training and evaluation alike (a channel is not dropout); set ``enabled=False`` to bypass.

    Parameters
    ----------
    channel : :class:`channels.Channel`
    snr_db : float
    generator : torch.Generator | None

    Input
    -----
    x : [B, ...], float
        B samples, each flattened into ``prod(...)`` reals (two per channel use). A sample that is all zeros is
        not sent and comes out as zeros (see :func:`channels.transmit_reals_soft`).

    Output
    ------
    : [B, ...], dtype of ``x``
        The received samples; gradients flow through as through the channel's linear receiver.
    """

    snr_db: torch.Tensor          # a float64 buffer

    def __init__(self, channel: Channel, snr_db: float, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.channel = channel
        self.register_buffer("snr_db", torch.tensor(0.0, dtype=torch.float64))   # in state_dict: checkpoints keep it
        self.set_snr_db(snr_db)
        self.generator = generator
        self.enabled = True

    def set_snr_db(self, snr_db: float) -> None:
        """Change the SNR (dB) of the link."""
        self.snr_db.fill_(float(check_snr_db(snr_db)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.enabled:
            return x
        if x.dim() < 2:
            raise ValueError(f"ChannelLayer expects a batch [B, ...], got shape {tuple(x.shape)}")
        flat = x.reshape(x.shape[0], -1)
        return transmit_reals(flat, self.channel, float(self.snr_db), self.generator).reshape(x.shape)

    def extra_repr(self) -> str:
        return f"snr_db={float(self.snr_db):g}, enabled={self.enabled}"
