"""The Keras 3 channel layer (torch backend), trained in model.fit; run in a subprocess so KERAS_BACKEND is set
before Keras is imported."""
import subprocess
import sys
import textwrap
from pathlib import Path

import importlib.util

import pytest

if importlib.util.find_spec("keras") is None:      # not imported here: its backend must be chosen first
    pytest.skip("keras is not installed (pip install -e '.[keras]')", allow_module_level=True)
ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent("""
    import os
    os.environ["KERAS_BACKEND"] = "torch"
    import keras, numpy as np, torch
    from channels.keras import ChannelLayer

    keras.utils.set_random_seed(0)
    # the SNR is respected: output noise variance = mean(x^2) / SNR per sample (AWGN, ZF)
    layer = ChannelLayer("awgn", snr_db=10.0, seed=1)
    x = torch.randn(64, 4000)
    y = layer(x)
    ratio = ((y - x) ** 2).mean(dim=1) / (x ** 2).mean(dim=1)
    assert abs(ratio.mean().item() - 0.1) < 0.005, ratio.mean().item()
    y2 = layer(x, snr_db=20.0)
    assert abs((((y2 - x) ** 2).mean(dim=1) / (x ** 2).mean(dim=1)).mean().item() - 0.01) < 0.0005
    again = ChannelLayer("awgn", snr_db=10.0, seed=1)(x)
    assert torch.equal(again, y)                            # seeded: same numbers

    # a tiny autoencoder trained through a Rayleigh channel with model.fit
    data = np.random.default_rng(0).normal(size=(512, 16)).astype("float32")
    inputs = keras.Input((16,))
    code = keras.layers.Dense(8)(inputs)
    noisy = ChannelLayer("rayleigh", snr_db=15.0, seed=2, block_length=4, equalizer="mmse")(code)
    outputs = keras.layers.Dense(16)(noisy)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    history = model.fit(data, data, epochs=8, batch_size=64, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.85 * losses[0], losses          # it learns through the channel
    config = model.get_layer(index=2).get_config()
    assert config["channel"] == "rayleigh" and config["block_length"] == 4 and config["snr_db"] == 15.0
    print("ok", losses[0], losses[-1])
""")


@pytest.mark.slow
def test_keras_autoencoder_trains_through_the_channel_and_the_snr_is_respected():
    r = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert r.stdout.startswith("ok")


def test_keras_layer_refuses_other_backends():
    code = ("import os; os.environ['KERAS_BACKEND'] = 'torch'\n"
            "import keras\nkeras.backend.backend = lambda: 'tensorflow'\n"      # as if another backend were active
            "try:\n    import channels.keras\nexcept ImportError as e:\n    print('refused:', e)\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "refused: channels.keras needs the torch backend" in r.stdout, r.stdout + r.stderr


ROUND_TRIP = textwrap.dedent("""
    import os, sys
    os.environ["KERAS_BACKEND"] = "torch"
    import keras, numpy as np, torch
    from channels.keras import ChannelLayer

    named = ChannelLayer("awgn", snr_db=5.0, name="chan", seed=3)      # Keras' own kwargs are not channel options
    assert named.name == "chan" and named.channel_options == {}
    inputs = keras.Input((16,))
    code = keras.layers.Dense(8)(inputs)
    noisy = ChannelLayer("rayleigh", snr_db=12.5, seed=7, block_length=4, equalizer="zf", name="link")(code)
    model = keras.Model(inputs, keras.layers.Dense(4)(noisy))
    path = os.path.join(sys.argv[1], "model.keras")
    model.save(path)                                                   # before any call: the generator at its seed
    loaded = keras.models.load_model(path)
    layer = loaded.get_layer("link")
    assert (layer.snr_db, layer.seed, layer.channel_options) == (12.5, 7, {"block_length": 4, "equalizer": "zf"})
    x = torch.randn(32, 16, generator=torch.Generator().manual_seed(0))
    assert torch.equal(model(x), loaded(x))                            # same weights, same channel draws
    print("ok")
""")


def test_keras_model_with_the_channel_layer_survives_save_and_load(tmp_path):
    r = subprocess.run([sys.executable, "-c", ROUND_TRIP, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stderr[-3000:]
