"""The channel layer for Keras 3 users (``pip install -e ".[keras]"``, ``KERAS_BACKEND=torch``).

    import os; os.environ["KERAS_BACKEND"] = "torch"      # before importing keras
    import keras
    from channels.keras import ChannelLayer

    inputs = keras.Input((16,))
    code = keras.layers.Dense(8)(inputs)
    noisy = ChannelLayer("rayleigh", snr_db=10.0, seed=0, block_length=4)(code)   # 8 reals = 4 channel uses
    outputs = keras.layers.Dense(16)(noisy)
    model = keras.Model(inputs, outputs)                  # model.fit works; gradients flow through the channel

Each sample's features are power-normalized on their own, paired two reals per complex channel use and sent
through the channel (:func:`channels.transmit_reals`), exactly as the PyTorch :class:`channels.ChannelLayer`.

Why only the torch backend: the channel models (including Sionna 2's OFDM/TDL/CDL, which is PyTorch-based) are
PyTorch code. A TensorFlow-backend layer would need every channel written a second time in ``keras.ops``, with
randomness that could not reproduce the PyTorch streams, and TensorFlow beside torch 2.13 in one environment only
resolves with tensorflow-cpu 2.20 and Sionna's h5py pin (2.21 does not). Keras models on the torch backend get the
real layer instead, with the same seeding and numbers as the PyTorch code.
"""
from __future__ import annotations

from typing import Any

import keras
import torch

from channels.analog import transmit_reals
from channels.checks import check_snr_db
from channels.registry import make_channel

if keras.backend.backend() != "torch":
    raise ImportError(f"channels.keras needs the torch backend of Keras 3 (set KERAS_BACKEND=torch before importing "
                      f"keras); the active backend is {keras.backend.backend()!r}. See this module's docstring.")


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
        self.generator = torch.Generator().manual_seed(seed) if seed is not None else None

    def call(self, x, snr_db: float | None = None, training: bool | None = None):
        if not training and not self.active_in_inference:
            return x
        snr = self.snr_db if snr_db is None else float(check_snr_db(snr_db))
        flat = x.reshape(x.shape[0], -1)
        return transmit_reals(flat, self.channel, snr, self.generator).reshape(x.shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "channel": self.channel_name, "snr_db": self.snr_db, "seed": self.seed,
                "active_in_inference": self.active_in_inference, **self.channel_options}
