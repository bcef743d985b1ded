"""The channel layer for Keras 3 users (``pip install -e ".[keras]"``), under every Keras backend.

    import os; os.environ["KERAS_BACKEND"] = "tensorflow"   # or "jax", or "torch"; before importing keras
    import keras
    from channels.keras import ChannelLayer

    inputs = keras.Input((16,))
    code = keras.layers.Dense(8)(inputs)
    noisy = ChannelLayer("rayleigh", snr_db=10.0, seed=0, block_length=4)(code)   # 8 reals = 4 channel uses
    outputs = keras.layers.Dense(16)(noisy)
    model = keras.Model(inputs, outputs)                  # model.fit works; gradients flow through the channel

Each sample's features are power-normalized on their own, paired two reals per complex channel use and sent
through the channel, exactly as :func:`channels.transmit_reals` does.

- **torch backend**: the layer runs the torch channels themselves (every channel, OFDM/TDL/CDL included), with
  the same seeding and numbers as the PyTorch code.
- **TensorFlow and JAX backends**: the flat channels (AWGN, Rayleigh, Rician; ZF/MMSE; CSI perfect or none),
  written once in ``keras.ops`` (:mod:`channels.keras_ops`), with the torch channels' statistics (tested) but the
  backend's own random stream. OFDM channels build on Sionna 2, which is PyTorch: asking for them under another
  backend is an error that says so. torch stays a dependency either way (the options are validated by building the
  torch channel).
"""
from __future__ import annotations

from typing import Any

import keras

from channels.checks import check_snr_db
from channels.keras_ops import FlatLink, transmit_reals as transmit_reals_ops
from channels.registry import make_channel

TORCH = keras.backend.backend() == "torch"


LAYER_KWARGS = ("name", "dtype", "trainable", "autocast")   # keras.layers.Layer's own arguments, not the channel's


@keras.saving.register_keras_serializable(package="airnet")
class ChannelLayer(keras.layers.Layer):
    """A noisy analog link as a Keras layer: real features [B, ...] -> received features [B, ...].

    Parameters
    ----------
    channel : str
        A registered channel name (``awgn``, ``rayleigh``, ``rician``, ``tdl``, ``cdl``, ...).
    snr_db : float
        Default SNR; ``call(x, snr_db=...)`` overrides it per call.
    seed : int or None
        Seed of the layer's own generator (None: nondeterministic).
    active_in_inference : bool
        A channel is not dropout: by default it is on in training and inference alike.
    **options
        Keras' own layer arguments (``name``, ``dtype``, ``trainable``, ``autocast``) and the keyword options of the
        channel (``block_length``, ``csi``, ``equalizer``, ...). A saved model reloads with the same SNR, channel
        options and seed (``keras.models.load_model``; the generator restarts from the seed).

    Input
    -----
    x : [B, ...], float32
    snr_db : float, optional

    Output
    ------
    : [B, ...], float32 (same shape), differentiable
    """

    def __init__(self, channel: str = "awgn", snr_db: float = 10.0, seed: int | None = None,
                 active_in_inference: bool = True, **options: Any) -> None:
        super().__init__(**{k: options.pop(k) for k in LAYER_KWARGS if k in options})
        channel_options = options
        self.channel_name = channel
        self.channel_options = dict(channel_options)
        # the channel has no weights: kept out of Keras' tracking, which would wrap the nn.Module and hide its methods
        object.__setattr__(self, "channel", make_channel(channel, **channel_options))
        self.snr_db = float(check_snr_db(snr_db))
        self.seed = seed
        self.active_in_inference = active_in_inference
        if TORCH:
            import torch

            self.generator = torch.Generator().manual_seed(seed) if seed is not None else None
        else:
            object.__setattr__(self, "link", FlatLink.of(self.channel))      # OFDM: refused here, by name
            self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, snr_db: float | None = None, training: bool | None = None):
        if not training and not self.active_in_inference:
            return x
        snr = self.snr_db if snr_db is None else float(check_snr_db(snr_db))
        if TORCH:
            from channels.analog import transmit_reals

            flat = x.reshape(x.shape[0], -1)
            return transmit_reals(flat, self.channel, snr, self.generator).reshape(x.shape)
        shape = keras.ops.shape(x)
        flat = keras.ops.reshape(x, (shape[0], -1))
        return keras.ops.reshape(transmit_reals_ops(flat, self.link, snr, self.seed_generator), shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "channel": self.channel_name, "snr_db": self.snr_db, "seed": self.seed,
                "active_in_inference": self.active_in_inference, **self.channel_options}
