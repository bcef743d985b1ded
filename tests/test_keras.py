"""The Keras 3 channel layer under every backend present, trained in model.fit and saved/reloaded; each script
runs in a subprocess so KERAS_BACKEND is set before Keras is imported.

torch runs in this environment. TensorFlow and JAX run with the Python interpreter named by ``AIRNET_KERAS_PYTHON``
(``.ci/run`` builds a venv with tensorflow-cpu and jax beside this environment's packages and sets it), or with
this one if it has them; otherwise those backends are skipped, saying so.
"""
import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

if importlib.util.find_spec("keras") is None:      # not imported here: its backend must be chosen first
    pytest.skip("keras is not installed (pip install -e '.[keras]')", allow_module_level=True)
ROOT = Path(__file__).resolve().parents[1]


def _python_with(module: str) -> str | None:
    """An interpreter that can import ``module``: this one, else ``AIRNET_KERAS_PYTHON``."""
    for python in (sys.executable, os.environ.get("AIRNET_KERAS_PYTHON")):
        probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
        if python and subprocess.run([python, "-c", probe], capture_output=True, timeout=120).returncode == 0:
            return python
    return None


BACKENDS = {"torch": "torch", "tensorflow": "tensorflow", "jax": "jax"}


@pytest.fixture(scope="module", params=list(BACKENDS))
def backend(request):
    python = sys.executable if request.param == "torch" else _python_with(BACKENDS[request.param])
    if python is None:
        pytest.skip(f"{request.param} is not installed here (set AIRNET_KERAS_PYTHON to an interpreter with it; "
                    f".ci/run does)")
    return request.param, python


def _run(backend, script, *args):
    name, python = backend
    env = {**os.environ, "KERAS_BACKEND": name, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    r = subprocess.run([python, "-c", script, *args], cwd=ROOT, capture_output=True, text=True, timeout=600,
                       env=env)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), (r.stdout + r.stderr)[-3000:]
    return r.stdout


SCRIPT = textwrap.dedent("""
    import keras, numpy as np
    from keras import ops
    from channels.keras import ChannelLayer
    assert keras.backend.backend() == __import__("os").environ["KERAS_BACKEND"]

    keras.utils.set_random_seed(0)
    # the SNR is respected: output noise variance = mean(x^2) / SNR per sample (AWGN, ZF)
    layer = ChannelLayer("awgn", snr_db=10.0, seed=1)
    x = np.random.default_rng(1).normal(size=(64, 4000)).astype("float32")
    y = ops.convert_to_numpy(layer(x))
    ratio = (((y - x) ** 2).mean(axis=1) / (x ** 2).mean(axis=1)).mean()
    assert abs(ratio - 0.1) < 0.005, ratio
    y2 = ops.convert_to_numpy(layer(x, snr_db=20.0))
    assert abs((((y2 - x) ** 2).mean(axis=1) / (x ** 2).mean(axis=1)).mean() - 0.01) < 0.0005
    again = ops.convert_to_numpy(ChannelLayer("awgn", snr_db=10.0, seed=1)(x))
    assert np.array_equal(again, y)                          # seeded: same numbers

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
    print(losses[0], losses[-1])
    print("ok")
""")


@pytest.mark.slow
def test_keras_autoencoder_trains_through_the_channel_and_the_snr_is_respected(backend):
    _run(backend, SCRIPT)


STATISTICS = textwrap.dedent("""
    import keras, numpy as np, torch
    from scipy import stats
    from channels import make_channel, transmit_reals
    from channels.keras_ops import FlatLink, transmit_reals as transmit_ops

    x = np.random.default_rng(0).normal(size=(3000, 16)).astype("float32")
    for name, options in [("awgn", {}), ("awgn", {"equalizer": "mmse"}), ("rayleigh", {"block_length": 4}),
                          ("rayleigh", {"block_length": 4, "csi": "none"}), ("rician", {"block_length": 4})]:
        channel = make_channel(name, **options)
        ref = transmit_reals(torch.tensor(x), channel, 5.0, torch.Generator().manual_seed(0)).numpy() - x
        got = keras.ops.convert_to_numpy(transmit_ops(keras.ops.convert_to_tensor(x), FlatLink.of(channel), 5.0,
                                                      keras.random.SeedGenerator(1))) - x
        # the same error law as the torch channel: two-sample KS on the per-value errors
        p = stats.ks_2samp(ref.ravel()[::4], got.ravel()[::4]).pvalue
        assert p > 1e-3, (name, options, p)
        if name == "awgn" and not options:                   # and the closed form: var = mean(x^2) / SNR
            assert abs(got.var() / (x ** 2).mean() - 10 ** -0.5) < 0.01, got.var()
    print("ok")
""")


REFUSE = textwrap.dedent("""
    import keras
    from channels.keras import TORCH, ChannelLayer
    if TORCH:
        print("ok")                                          # every channel runs under torch
    else:
        try:
            ChannelLayer("tdl", snr_db=5.0)
        except ValueError as exc:
            assert "needs the torch backend" in str(exc), exc
            print("refused: ok")
""")


ROUND_TRIP = textwrap.dedent("""
    import os, sys
    import keras, numpy as np
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
    x = np.random.default_rng(0).normal(size=(32, 16)).astype("float32")
    a, b = (keras.ops.convert_to_numpy(m(x)) for m in (model, loaded))
    assert np.array_equal(a, b)                                        # same weights, same channel draws
    print("ok")
""")


def _body(script):
    """A script without its final ``print("ok")``, to run several in one interpreter (one Keras import each)."""
    return script.strip().removesuffix('print("ok")').strip().replace('print("refused: ok")', 'pass') + "\n"


def test_keras_ops_statistics_ofdm_refusal_and_save_load(backend, tmp_path):
    """Three checks in one interpreter per backend (importing TensorFlow costs seconds): the keras.ops channels'
    error law against the torch channels, OFDM refused by name off torch, and a model surviving save/load."""
    _run(backend, _body(STATISTICS) + _body(REFUSE) + ROUND_TRIP, str(tmp_path))
