"""Bad inputs, counted: how every public channel call, data loader and config value answers malformed input.

    python -m benchmarks robustness          # three tables (markdown) and the counts per outcome

Each case is classified automatically:

- ``ok``: a correct result (finite, the expected shape);
- ``clear``: a ``ValueError``/``TypeError`` (or a ``config error``) raised by this project's own code, one line;
- ``cryptic``: any other exception, or one raised inside a library (torch, numpy, gzip, pickle, Sionna);
- ``silent``: no error but NaN/inf or a wrong shape (for loaders: loaded though malformed; for configs: trained).

The channel table calls ``Channel.__call__``, ``observe``, ``transmit_reals``, ``transmit_reals_soft``,
``ChannelLayer``, ``capacity`` and ``dispersion`` of every built-in channel on the same inputs; the contract is one
answer per input on every channel.
"""
from __future__ import annotations

import gzip
import math
import os
import pickle
import struct
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from benchmarks.common import Figure

OURS = ("/channels/", "/airnet/", "/experiments/")
# messages Python or a library wrote, even when raised in our frame: they do not say what was wrong with the input
INTERNAL = ("too many values to unpack", "cannot reshape", "not implemented for", "could not infer", "index ",
            "unsupported operand", "object is not", "Numerical result")


@dataclass
class Case:
    group: str
    name: str
    outcome: str
    message: str


def _classify(call: Callable[[], Any], check: Callable[[Any], str | None] | None = None) -> tuple[str, str]:
    try:
        result = call()
    except (ValueError, TypeError, FileNotFoundError, NotImplementedError) as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        raiser = frames[-1].filename if frames else ""
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        ours = any(part in raiser.replace(os.sep, "/") for part in OURS) and not any(p in msg for p in INTERNAL)
        return ("clear" if ours and "\n" not in str(exc).strip() else "cryptic"), f"{type(exc).__name__}: {msg}"
    except Exception as exc:  # noqa: BLE001  (counting every failure is the point)
        return "cryptic", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    problem = check(result) if check else None
    return ("silent", problem) if problem else ("ok", "")


def _finite(shape: tuple[int, ...] | None) -> Callable[[Any], str | None]:
    def check(result: Any) -> str | None:
        t = result[0] if isinstance(result, tuple) else getattr(result, "y", result)
        if isinstance(t, float):
            return None if math.isfinite(t) else f"returned {t}"
        if not isinstance(t, torch.Tensor):
            return None
        if shape is not None and tuple(t.shape) != shape:
            return f"shape {tuple(t.shape)}, expected {shape}"
        if not bool(torch.isfinite(torch.view_as_real(t) if t.is_complex() else t).all()):
            return "NaN/inf in the output"
        return None
    return check


def channel_cases(quick: bool = False) -> list[Case]:
    from channels import ChannelLayer, make_channel, transmit_reals, transmit_reals_soft

    chans: dict[str, Callable[[], Any]] = {
        "awgn": lambda: make_channel("awgn"),
        "awgn-mmse": lambda: make_channel("awgn", equalizer="mmse"),
        "rayleigh": lambda: make_channel("rayleigh", block_length=4),
        "rayleigh-est": lambda: make_channel("rayleigh", block_length=4, csi="estimated"),
        "rician": lambda: make_channel("rician", block_length=4, k_factor=3.0),
    }
    if not quick:
        chans["tdl"] = lambda: make_channel("tdl", num_subcarriers=12)
        chans["cdl"] = lambda: make_channel("cdl", num_subcarriers=12)
    g = torch.Generator().manual_seed(0)
    sym = torch.ones(2, 8, dtype=torch.complex64)
    reals = torch.ones(2, 16)
    nan_sym = sym.clone()
    nan_sym[0, 3] = complex(float("nan"), 0.0)
    inf_sym = sym.clone()
    inf_sym[1, 0] = complex(float("inf"), 0.0)
    nan_reals = reals.clone()
    nan_reals[0, 1] = float("nan")
    symbol_inputs: dict[str, tuple[Any, tuple[int, ...] | None]] = {
        "valid [2, 8]": (sym, (2, 8)),
        "one vector [8]": (sym[0], (8,)),
        "3-D [2, 2, 4]": (sym.reshape(2, 2, 4), None),
        "empty batch [0, 8]": (sym[:0], None),
        "empty symbols [2, 0]": (sym[:, :0], None),
        "scalar": (sym[0, 0], None),
        "int64": (torch.ones(2, 8, dtype=torch.long), None),
        "float32 (real)": (torch.ones(2, 8), None),
        "NaN symbol": (nan_sym, None),
        "inf symbol": (inf_sym, None),
        "1e30 symbols": (sym * 1e30, None),
        "python list": ([1.0, 2.0], None),
    }
    real_inputs: dict[str, tuple[Any, tuple[int, ...] | None]] = {
        "valid [2, 16]": (reals, (2, 16)),
        "odd length [2, 15]": (reals[:, :15], (2, 15)),
        "3-D [2, 4, 4]": (reals.reshape(2, 4, 4), None),
        "empty batch [0, 16]": (reals[:0], None),
        "empty reals [2, 0]": (reals[:, :0], None),
        "int64": (torch.ones(2, 16, dtype=torch.long), None),
        "complex64": (sym, None),
        "NaN value": (nan_reals, None),
        "row of 1e30": (torch.full((2, 16), 1e30), (2, 16)),
        "row of 1e-30": (torch.full((2, 16), 1e-30), (2, 16)),
        "all-zero row": (torch.zeros(2, 16), (2, 16)),
    }
    snrs: dict[str, Any] = {
        "10 dB": 10.0, "-400 dB": -400.0, "400 dB": 400.0, "1e6 dB": 1e6, "NaN": float("nan"), "inf": float("inf"),
        "True": True, "'10'": "10", "None": None, "tensor [2]": torch.tensor([0.0, 10.0]),
        "tensor [3] (batch 2)": torch.tensor([0.0, 1.0, 2.0]), "tensor [2, 1]": torch.zeros(2, 1),
    }
    cases: list[Case] = []
    for cname, make in chans.items():
        ch = make()
        for iname, (x, shape) in symbol_inputs.items():
            out, msg = _classify(lambda: ch(x, 10.0, g), _finite(shape))
            cases.append(Case(cname, f"call x={iname}", out, msg))
        for iname, (x, shape) in symbol_inputs.items():
            if iname in ("valid [2, 8]", "NaN symbol", "3-D [2, 2, 4]", "empty batch [0, 8]", "int64"):
                out, msg = _classify(lambda: ch.observe(x, 10.0, g), _finite(shape))
                cases.append(Case(cname, f"observe x={iname}", out, msg))
        for iname, (x, shape) in real_inputs.items():
            out, msg = _classify(lambda: transmit_reals(x, ch, 10.0, g), _finite(shape))
            cases.append(Case(cname, f"transmit_reals x={iname}", out, msg))
        for iname in ("valid [2, 16]", "NaN value", "row of 1e30", "empty batch [0, 16]"):
            x, shape = real_inputs[iname]
            out, msg = _classify(lambda: transmit_reals_soft(x, ch, 10.0, g), _finite(shape))
            cases.append(Case(cname, f"transmit_reals_soft x={iname}", out, msg))
        for sname, s in snrs.items():
            out, msg = _classify(lambda: ch(sym, s, g), _finite((2, 8)))
            cases.append(Case(cname, f"call snr={sname}", out, msg))
        for sname in ("10 dB", "-400 dB", "1e6 dB", "NaN"):
            out, msg = _classify(lambda: transmit_reals(reals, ch, snrs[sname], g), _finite((2, 16)))
            cases.append(Case(cname, f"transmit_reals snr={sname}", out, msg))
        for sname in ("10 dB", "-400 dB", "1e6 dB", "NaN", "'10'"):
            out, msg = _classify(lambda: ch.capacity(snrs[sname]), _finite(None))
            cases.append(Case(cname, f"capacity snr={sname}", out, msg))
        for sname in ("-400 dB", "NaN"):
            out, msg = _classify(lambda: ChannelLayer(ch, snrs[sname])(reals), _finite((2, 16)))
            cases.append(Case(cname, f"ChannelLayer snr={sname}", out, msg))
        out, msg = _classify(lambda: ChannelLayer(ch, 10.0)(reals.reshape(2, 4, 4)), _finite((2, 4, 4)))
        cases.append(Case(cname, "ChannelLayer x=[2, 4, 4]", out, msg))
    return cases


def _idx(path: Path, data: np.ndarray, magic_type: int = 0x08, gz: bool = False, cut: int = 0) -> None:
    header = struct.pack(">HBB", 0, magic_type, data.ndim) + b"".join(struct.pack(">I", d) for d in data.shape)
    raw = header + data.astype(np.uint8).tobytes()
    raw = raw[: len(raw) - cut] if cut else raw
    path.write_bytes(gzip.compress(raw) if gz else raw)


MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def _mnist(root: Path, n: int = 20, size: int = 28, **bad: Any) -> Path:
    """A small MNIST folder; ``bad`` names one file to break and how."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    files = {
        MNIST_FILES[0]: rng.integers(0, 255, (n, size, size)), MNIST_FILES[1]: rng.integers(0, 10, n),
        MNIST_FILES[2]: rng.integers(0, 255, (n, size, size)), MNIST_FILES[3]: rng.integers(0, 10, n),
    }
    if "labels" in bad:
        files[MNIST_FILES[1]] = bad.pop("labels")
    if "images" in bad:
        files[MNIST_FILES[0]] = bad.pop("images")
    if "test_images" in bad:
        files[MNIST_FILES[2]] = bad.pop("test_images")
    for name, arr in files.items():
        _idx(root / name, np.asarray(arr), cut=bad.get("cut", 0) if name == bad.get("cut_file") else 0)
    if bad.get("corrupt_gz"):
        (root / MNIST_FILES[0]).unlink()
        (root / (MNIST_FILES[0] + ".gz")).write_bytes(b"\x1f\x8b not really gzip")
    if bad.get("missing"):
        (root / MNIST_FILES[3]).unlink()
    if bad.get("bad_magic"):
        p = root / MNIST_FILES[1]
        p.write_bytes(b"\x12\x34" + p.read_bytes()[2:])
    return root


class _Exploit:
    def __reduce__(self) -> tuple:
        return (os.system, ("echo unpickled code ran > /dev/null",))


def _cifar(root: Path, n: int = 10, **bad: Any) -> Path:
    d = root / "cifar-10-batches-py"
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        obj: Any = {b"data": rng.integers(0, 255, (n, 3072), dtype=np.uint8),
                    b"labels": list(rng.integers(0, 10, n).tolist())}
        if name == "data_batch_1" and "batch" in bad:
            obj = bad["batch"]
        (d / name).write_bytes(pickle.dumps(obj))
    if bad.get("truncate"):
        p = d / "data_batch_2"
        p.write_bytes(p.read_bytes()[:100])
    if bad.get("missing"):
        (d / "test_batch").unlink()
    return root


def loader_cases() -> list[Case]:
    from airnet.zoo.data import load_data

    def loads(name: str, root: Path) -> Callable[[], Any]:
        return lambda: load_data(name, str(root))

    def malformed(result: Any) -> str | None:
        return "loaded a malformed data set without a word"

    def clean(result: Any) -> str | None:
        return None

    cases: list[Case] = []
    with tempfile.TemporaryDirectory() as d:
        t = Path(d)
        mnist = {
            "valid folder": (_mnist(t / "ok"), clean),
            "missing file": (_mnist(t / "m1", missing=True), malformed),
            "label/image count mismatch": (_mnist(t / "m2", labels=np.zeros(19)), malformed),
            "1-D images": (_mnist(t / "m3", images=np.zeros(20 * 28 * 28)), malformed),
            "truncated images": (_mnist(t / "m4", cut=100, cut_file=MNIST_FILES[0]), malformed),
            "truncated labels": (_mnist(t / "m5", cut=5, cut_file=MNIST_FILES[1]), malformed),
            "corrupt .gz": (_mnist(t / "m6", corrupt_gz=True), malformed),
            "labels >= 10": (_mnist(t / "m7", labels=np.full(20, 12)), malformed),
            "train/test image sizes differ": (_mnist(t / "m8", test_images=np.zeros((20, 14, 14))), malformed),
            "bad magic number": (_mnist(t / "m9", bad_magic=True), malformed),
            "empty image file": (_mnist(t / "m10", cut=10**6, cut_file=MNIST_FILES[0]), malformed),
            "root is a file": (t / "ok" / MNIST_FILES[0], malformed),
        }
        for name, (root, check) in mnist.items():
            out, msg = _classify(loads("mnist", root), check)
            cases.append(Case("mnist", name, out, msg))
        marker = t / "pwned"

        class Exploit:
            def __reduce__(self) -> tuple:
                return (Path.write_text, (marker, "code from the pickle ran"))

        cifar = {
            "valid folder": (_cifar(t / "c0"), clean),
            "missing test_batch": (_cifar(t / "c1", missing=True), malformed),
            "truncated batch": (_cifar(t / "c2", truncate=True), malformed),
            "batch without labels": (_cifar(t / "c3", batch={b"data": np.zeros((10, 3072), np.uint8)}), malformed),
            "wrong image size": (_cifar(t / "c4", batch={b"data": np.zeros((10, 100), np.uint8),
                                                         b"labels": [0] * 10}), malformed),
            "pickle that runs code": (_cifar(t / "c5", batch=Exploit()), malformed),
        }
        for name, (root, check) in cifar.items():
            out, msg = _classify(loads("cifar10", root), check)
            if marker.exists():
                out, msg = "silent", "UNSAFE: the pickle executed code"
                marker.unlink()
            cases.append(Case("cifar10", name, out, msg))
    return cases


# neighbours that are valid and must train: ResNet-20 builds for any (C, H, W) and runs on 8x8 digits (2x2 after its
# three stages); a fuzz table that only lists refusals would not show that validation lets good values through
CONFIG_VALID = {("model=resnet20",), ("experiment.bandwidth_ratio=[0.001]",), ("experiment.snr_db=[-60,100]",),
                ("experiment.seeds=[0]",)}


# (overrides, scheme set): each a bad value (or its neighbour) the sweep must refuse in one line before training
CONFIG_CASES: list[tuple[str, ...]] = [
    ("experiment.snr_db=abc",), ("experiment.snr_db=null",), ("experiment.snr_db=[1e6]",),
    ("experiment.snr_db=[nan]",), ("experiment.snr_db=[]",), ("experiment.bandwidth_ratio=[0]",),
    ("experiment.bandwidth_ratio=[1e-6]",), ("experiment.bandwidth_ratio=[-1]",), ("experiment.bandwidth_ratio=[1e9]",),
    ("experiment.num_realizations=0",), ("experiment.num_realizations=-3",), ("experiment.num_realizations=1.5",),
    ("experiment.seeds=[-1]",), ("experiment.seeds=[]",), ("experiment.schemes=[]",), ("experiment.schemes=[nosuch]",),
    ("experiment.design_snr_db=[1e9]",), ("experiment.x=accuracy",), ("experiment.draws_until={half_width: -1, max: 64}",),
    ("experiment.draws_until={half_width: 0.01, max: 1}",), ("experiment.contrasts=[[clean, nosuch]]",),
    ("seed=abc",), ("seed=-1",), ("progress=maybe",), ("threads=0",), ("threads=many",), ("device=tpu",),
    ("eval_precision=int8",), ("data.name=imagenet",), ("data=mnist",), ("data=mnist", "data.root=/nonexistent"),
    ("data.val_fraction=0",), ("data.val_fraction=1.5",), ("channel.equalizer=ml",), ("channel.csi=psychic",),
    ("channel.signal_power=0",), ("channel.signal_power=-1",), ("channel=rayleigh", "channel.block_length=0"),
    ("channel=rician", "channel.k_factor=-1"), ("channel.name=nosuch",), ("model.name=nosuch",),
    ("model=mlp", "model.kwargs.hidden=[-5]"), ("model.kwargs.channels=[0,0]",),
    ("model.kwargs.nosuch=3",), ("train.epochs=-1",), ("train.batch_size=0",), ("train.lr=0",), ("train.lr=-1",),
    ("train.weight_decay=1e9",), ("train.weight_decay=-1",), ("link.num_iter=0",), ("link.k_max=0",),
    ("link.error_probability=2",), ("link.error_probability=0",), ("link.max_repetitions=0",),
    ("link.selection_trials=0",), ("link.capacity_model=magic",), ("link.capacity_fading=sometimes",),
    ("link.outage_draws=0",), ("side_info.mode=psychic",), ("side_info.snr_db=1e9",), ("side_info.snr_db=-1e9",),
    ("side_info.snr_db=abc",), ("side_info.margin_db=-1",), ("side_info.link=nosuch",),
    ("experiment.schemes=[pruning_kd]", "scheme.pruning_kd.alpha=5"),
    ("experiment.schemes=[pruning_kd]", "scheme.pruning_kd.temperature=0"),
    ("experiment.schemes=[pruning_kd]", "scheme.pruning_kd.steps=0"),
    ("experiment.schemes=[pruning_kd]", "scheme.pruning_kd.structure=diagonal"),
    ("experiment.schemes=[pruning_kd]", "scheme.pruning_kd.method=guess"),
    ("experiment.schemes=[pruning_kd]", "scheme.pruning_kd.finetune_epochs=-1"),
    ("experiment.schemes=[expansion]", "scheme.expansion.factor=0"),
    ("experiment.schemes=[expansion]", "scheme.expansion.factor=-2"),
    ("experiment.schemes=[expansion]", "scheme.expansion.factor=64"),
    ("experiment.schemes=[uep]", "scheme.uep.max_factor=64"), ("experiment.schemes=[uep]", "scheme.uep.draws=0"),
    ("experiment.schemes=[spectrum]", "scheme.spectrum.levels=[{snr_db: 0, factor: 0}]"),
    ("experiment.schemes=[spectrum]", "scheme.spectrum.levels=[]"),
    ("experiment.schemes=[spectrum]", "scheme.spectrum.nesting=random_walk"),
    ("experiment.schemes=[spectrum]", "scheme.spectrum.epochs=-1"),
    ("experiment.schemes=[digital_capacity]", "scheme.digital_capacity.bits=[0]"),
    ("experiment.schemes=[digital_capacity]", "scheme.digital_capacity.bits=[]"),
    ("experiment.schemes=[digital_capacity]", "scheme.digital_capacity.validation_draws=0"),
    ("experiment.schemes=[digital_ldpc]", "scheme.digital_ldpc.rate=1.5"),
    ("experiment.schemes=[digital_ldpc]", "scheme.digital_ldpc.bits_per_symbol=3"),
    ("experiment.schemes=[digital_layered]", "scheme.digital_layered.widths=[3,2]"),
    ("experiment.schemes=[digital_layered]", "scheme.digital_layered.layer_snr_db=[0]"),
    ("experiment.schemes=[digital_amc_at_0]", "scheme.digital_amc_at_0.design_snr_db=1e9"),
    ("+scheme.uep.drawz=3",), ("scheme.expansion.factr=2",), ("+scheme.expansion.factr=2",), ("trian.epochs=3",),
    *sorted(CONFIG_VALID),
]


def config_cases() -> list[Case]:
    """Every entry of :data:`CONFIG_CASES` through the sweep driver, with training replaced by a sentinel:
    ``clear`` is a one-line ``config error`` before any training, ``silent`` means training would have started."""
    import logging

    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    import airnet.training.recipes as recipes
    from airnet.config.options import OptionError
    from experiments import sweep

    class Trained(Exception):
        pass

    def sentinel(*args: Any, **kwargs: Any) -> Any:
        raise Trained()

    cases: list[Case] = []
    real = recipes.train_model              # every training of every scheme goes through the recipes
    logging.getLogger("airnet").setLevel(logging.ERROR)
    recipes.train_model = sentinel          # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory() as d:
            for overrides in CONFIG_CASES:
                name = " ".join(overrides)
                typed = [o for o in overrides if "=" in o]
                try:
                    try:
                        with initialize_config_dir(config_dir=sweep.CONF_DIR, version_base="1.3"):
                            cfg = compose("sweep", overrides=[f"cache_dir={d}/cache", "progress=false", *typed])
                    except HydraException:
                        # what the command line says first for a key that does not exist (sweep.cli); composing
                        # only on failure halves the time of this table, with the same messages
                        problem = sweep.unknown_key(typed)
                        if problem:
                            cases.append(Case("config", name, "clear", f"config error: {problem}"))
                            continue
                        raise
                    sweep.main(cfg, Path(d) / "out")
                    cases.append(Case("config", name, "silent", "ran to the end without training"))
                except OptionError as exc:
                    one = "\n" not in str(exc).strip()
                    cases.append(Case("config", name, "clear" if one else "cryptic", f"config error: {exc}"))
                except Trained:
                    valid = tuple(overrides) in CONFIG_VALID
                    cases.append(Case("config", name, "ok" if valid else "silent",
                                      "valid: training started" if valid else "passed validation: training started"))
                except (HydraException, OmegaConfBaseException) as exc:
                    cases.append(Case("config", name, "cryptic", f"Hydra: {str(exc).splitlines()[0]}"))
                except Exception as exc:  # noqa: BLE001
                    cases.append(Case("config", name, "cryptic", f"{type(exc).__name__}: {exc}"))
    finally:
        recipes.train_model = real          # type: ignore[assignment]
    return cases


def table(cases: list[Case]) -> str:
    lines = ["| where | input | outcome | message |", "|---|---|---|---|"]
    lines += [f"| {c.group} | {c.name} | {c.outcome} | {c.message.replace('|', '/')[:140]} |" for c in cases]
    return "\n".join(lines)


def counts(cases: list[Case]) -> dict[str, int]:
    out = {k: 0 for k in ("ok", "clear", "cryptic", "silent")}
    for c in cases:
        out[c.outcome] += 1
    return out


def run(quick: bool = False) -> list[Figure]:
    figs = []
    for name, cases in (("channel API", channel_cases(quick)), ("data loaders", loader_cases()),
                        ("config values", config_cases())):
        n = counts(cases)
        bad = n["cryptic"] + n["silent"]
        figs.append(Figure(f"{name}: cryptic or silent answers", bad, len(cases), "calls", "calls made",
                           f"goal 0; {n}"))
        if "--tables" in sys.argv:
            print(table(cases))
    return figs


if __name__ == "__main__":
    for name, cases in (("channel API", channel_cases()), ("data loaders", loader_cases()),
                        ("config values", config_cases())):
        print(f"\n### {name}: {counts(cases)}\n")
        print(table(cases))
