"""The channel layer in a Keras ``model.fit``, then saved and reloaded with its SNR, options and seed.

    KERAS_BACKEND=torch python examples/keras_fit_save_load.py [--epochs 20] [--out model.keras]
    KERAS_BACKEND=tensorflow python examples/keras_fit_save_load.py     # or jax: flat channels only

A denoising autoencoder on random 16-dimensional data, through Rayleigh block fading at 15 dB.
"""
from __future__ import annotations

import argparse
import os
import tempfile

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402  (after the backend is chosen)
import numpy as np  # noqa: E402

from channels.keras import ChannelLayer  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "airnet_channel_model.keras"))
    args = ap.parse_args(argv)

    keras.utils.set_random_seed(0)
    data = np.random.default_rng(0).normal(size=(1024, 16)).astype("float32")
    inputs = keras.Input((16,))
    code = keras.layers.Dense(8, name="encoder")(inputs)                  # 8 reals = 4 channel uses
    noisy = ChannelLayer("rayleigh", snr_db=15.0, seed=1, block_length=4, name="link")(code)
    model = keras.Model(inputs, keras.layers.Dense(16, name="decoder")(noisy))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    history = model.fit(data, data, epochs=args.epochs, batch_size=64, verbose=0)
    print(f"{keras.backend.backend()}: loss {history.history['loss'][0]:.3f} -> {history.history['loss'][-1]:.3f}")

    model.save(args.out)
    loaded = keras.models.load_model(args.out)                            # ChannelLayer is registered
    link = loaded.get_layer("link")
    print(f"reloaded {args.out}: {link.channel_name} at {link.snr_db:g} dB, options {link.channel_options}, "
          f"seed {link.seed}")
    same = np.allclose(keras.ops.convert_to_numpy(model.get_layer("decoder").kernel),
                       keras.ops.convert_to_numpy(loaded.get_layer("decoder").kernel))
    print("weights identical after reload:", same)
    assert same


if __name__ == "__main__":
    main()
