"""Datasets as in-memory tensors, as registered plug-ins: built-in scikit-learn digits (no download), MNIST /
CIFAR-10 from a local folder. A new data set registers its loader where it is defined::

    @register_dataset("my_data", needs_root=True)
    def load_my_data(root, seed=0, val_fraction=0.1) -> DataSplits: ...

and ``data.name=my_data data.root=/path`` (with ``plugins=[mymodule]``) picks it.
"""
from __future__ import annotations

import dataclasses
import gzip
import importlib.util
import pickle
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol, TypeVar

import numpy as np
import torch


@dataclass
class DataSplits:
    """Train / validation / test tensors: x [N, C, H, W] float32, y [N] long."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    name: str

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def to(self, device: torch.device | str) -> "DataSplits":
        """The splits on ``device`` (self when already there)."""
        if self.x_train.device == torch.device(device):
            return self
        return dataclasses.replace(self, **{f: getattr(self, f).to(device) for f in (
            "x_train", "y_train", "x_val", "y_val", "x_test", "y_test")})


def _split_val(x: np.ndarray, y: np.ndarray, val_fraction: float, rng: np.random.Generator):
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    perm = rng.permutation(len(x))
    n_val = max(1, int(round(val_fraction * len(x))))
    return x[perm[n_val:]], y[perm[n_val:]], x[perm[:n_val]], y[perm[:n_val]]


def _pack(xtr, ytr, xva, yva, xte, yte, num_classes: int, name: str) -> DataSplits:
    t = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float32)  # noqa: E731
    lab = lambda a: torch.as_tensor(np.array(a), dtype=torch.long)  # noqa: E731
    return DataSplits(t(xtr), lab(ytr), t(xva), lab(yva), t(xte), lab(yte), num_classes, name)


def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits as shipped in its package: images [1797, 8, 8] float64 in 0..16, labels [1797].

    Read straight from the package's ``digits.csv.gz``, exactly as ``sklearn.datasets.load_digits`` reads it,
    without importing ``sklearn.datasets`` (0.8 s of imports); falls back to that function if the file moves.
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is not None and spec.submodule_search_locations:
        path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            with gzip.open(path, "rt") as f:
                data = np.loadtxt(f, delimiter=",")
            return data[:, :-1].reshape(-1, 8, 8), data[:, -1].astype(int)
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.images, d.target


class Loader(Protocol):
    """A data set loader: ``loader(root, seed[, val_fraction]) -> DataSplits``; its signature's default
    ``val_fraction`` is the data set's default split."""

    def __call__(self, root: str | Path | None, seed: int, val_fraction: float = ...) -> DataSplits: ...


L = TypeVar("L", bound=Loader)
DATASETS: dict[str, tuple[Loader, bool]] = {}


def register_dataset(name: str, *, needs_root: bool = False) -> Callable[[L], L]:
    """Decorator: register ``loader(root, seed, val_fraction)`` under ``name``; ``needs_root``: it reads a local
    folder (``data.root``)."""
    if not name or not isinstance(name, str):
        raise ValueError(f"data set name must be a non-empty string, got {name!r}")

    def add(loader: L) -> L:
        DATASETS[name] = (loader, needs_root)
        return loader

    return add


def available_datasets() -> list[str]:
    """Sorted registered data set names."""
    return sorted(DATASETS)


def load_digits_data(seed: int = 0, val_fraction: float = 0.15, test_fraction: float = 0.2) -> DataSplits:
    """scikit-learn's 8x8 digits (1797 images, shipped with the package), scaled to [0, 1]: x [N, 1, 8, 8]."""
    images, y = digits_arrays()
    x = (images / 16.0).astype(np.float32)[:, None]
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(x))
    n_test = int(round(test_fraction * len(x)))
    xte, yte = x[perm[:n_test]], y[perm[:n_test]]
    xtr, ytr, xva, yva = _split_val(x[perm[n_test:]], y[perm[n_test:]], val_fraction, rng)
    return _pack(xtr, ytr, xva, yva, xte, yte, 10, "digits")


def _read_idx(path: Path, ndim: int) -> np.ndarray:
    """An unsigned-byte IDX array of ``ndim`` dimensions; a malformed file raises ValueError naming it."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as exc:          # gzip.BadGzipFile is an OSError
        raise ValueError(f"{path} cannot be read ({type(exc).__name__}: {exc})") from exc
    if len(data) < 4:
        raise ValueError(f"{path} is not an unsigned-byte IDX file ({len(data)} bytes, no header)")
    magic = int.from_bytes(data[:4], "big")
    dims_n = magic & 0xFF
    if magic >> 8 != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (magic {magic:#x})")
    if dims_n != ndim:
        raise ValueError(f"{path} holds a {dims_n}-D array; expected {ndim}-D "
                         f"({'images [N, H, W]' if ndim == 3 else 'labels [N]'})")
    if len(data) < 4 + 4 * ndim:
        raise ValueError(f"{path} is cut off inside its header")
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    body = len(data) - 4 - 4 * ndim
    if body != int(np.prod(dims)):
        raise ValueError(f"{path} is {'truncated' if body < np.prod(dims) else 'longer than its header says'}: "
                         f"header {'x'.join(map(str, dims))} = {int(np.prod(dims))} bytes, file has {body}")
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _labels_ok(path: object, labels: np.ndarray, n: int, num_classes: int, images: object) -> None:
    """Raise naming the file when labels do not match their images or lie outside ``0..num_classes-1``."""
    if len(labels) != n:
        raise ValueError(f"{path} has {len(labels)} labels but {images} has {n} images")
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{path} has labels outside 0..{num_classes - 1} (found {int(labels.min())}.."
                         f"{int(labels.max())})")


def _find(root: Path, stem: str) -> Path:
    for cand in (root / stem, root / f"{stem}.gz", root / "raw" / stem, root / "raw" / f"{stem}.gz",
                 root / "MNIST" / "raw" / stem, root / "MNIST" / "raw" / f"{stem}.gz"):
        if cand.exists():
            return cand
    raise FileNotFoundError(f"MNIST file {stem}[.gz] not found under {root} (looked in ., raw/, MNIST/raw/)")


def load_mnist(root: str | Path, seed: int = 0, val_fraction: float = 0.1) -> DataSplits:
    """MNIST from the four IDX files (optionally .gz) in a local folder: x [N, 1, 28, 28] in [0, 1]."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"MNIST folder {root} does not exist")
    files = {k: _find(root, k) for k in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
    images = [files["train-images-idx3-ubyte"], files["t10k-images-idx3-ubyte"]]
    labels = [files["train-labels-idx1-ubyte"], files["t10k-labels-idx1-ubyte"]]
    xtr, xte = (_read_idx(f, 3) for f in images)
    ytr, yte = (_read_idx(f, 1) for f in labels)
    for x, y, fx, fy in ((xtr, ytr, images[0], labels[0]), (xte, yte, images[1], labels[1])):
        _labels_ok(fy, y, len(x), 10, fx)
    if xtr.shape[1:] != xte.shape[1:]:
        raise ValueError(f"{images[0]} has {'x'.join(map(str, xtr.shape[1:]))} images but {images[1]} has "
                         f"{'x'.join(map(str, xte.shape[1:]))}")
    xtr, xte = xtr[:, None] / 255.0, xte[:, None] / 255.0
    xtr, ytr, xva, yva = _split_val(xtr, ytr, val_fraction, np.random.default_rng(seed))
    return _pack(xtr, ytr, xva, yva, xte, yte, 10, "mnist")


CIFAR_MEAN = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32)[:, None, None]
CIFAR_STD = np.array([0.2470, 0.2435, 0.2616], dtype=np.float32)[:, None, None]


class _SafeUnpickler(pickle.Unpickler):
    """Unpickles plain data and NumPy arrays only: a CIFAR batch file cannot run code (``pickle.load`` would call
    any function the file names)."""

    ALLOWED = {("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "_reconstruct"),
               ("numpy._core.multiarray", "scalar"), ("numpy.core.multiarray", "scalar"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
               ("numpy._core.numeric", "_frombuffer"), ("numpy.core.numeric", "_frombuffer")}

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} (only arrays and plain data)")
        return super().find_class(module, name)


def load_cifar10(root: str | Path, seed: int = 0, val_fraction: float = 0.1) -> DataSplits:
    """CIFAR-10 from the python pickles (``cifar-10-batches-py``) in a local folder: x [N, 3, 32, 32] standardized."""
    root = Path(root).expanduser()
    folder = root / "cifar-10-batches-py" if (root / "cifar-10-batches-py").is_dir() else root
    if not (folder / "test_batch").exists():
        raise FileNotFoundError(f"CIFAR-10 batches not found in {folder} (expected data_batch_1..5 and test_batch)")

    def read(name: str):
        path = folder / name
        try:
            with open(path, "rb") as f:
                d = _SafeUnpickler(f, encoding="bytes").load()
        except (pickle.UnpicklingError, EOFError, ValueError, AttributeError, ImportError, IndexError) as exc:
            raise ValueError(f"{path} is not a CIFAR-10 batch ({type(exc).__name__}: {exc})") from exc
        if not isinstance(d, dict) or b"data" not in d or b"labels" not in d:
            keys = sorted(d) if isinstance(d, dict) else type(d).__name__
            raise ValueError(f"{path} is not a CIFAR-10 batch: expected a dict with b'data' and b'labels', got {keys}")
        data = np.asarray(d[b"data"])
        if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
            raise ValueError(f"{path}: b'data' must be uint8 [N, 3072] (32x32 RGB), got {data.dtype} "
                             f"{list(data.shape)}")
        y = np.asarray(d[b"labels"])
        _labels_ok(path, y, len(data), 10, path)
        x = data.reshape(-1, 3, 32, 32)
        return (x / 255.0 - CIFAR_MEAN) / CIFAR_STD, y

    parts = [read(f"data_batch_{i}") for i in range(1, 6) if (folder / f"data_batch_{i}").exists()]
    if not parts:
        raise FileNotFoundError(f"no data_batch_* files in {folder}")
    xtr = np.concatenate([p[0] for p in parts])
    ytr = np.concatenate([p[1] for p in parts])
    xte, yte = read("test_batch")
    xtr, ytr, xva, yva = _split_val(xtr, ytr, val_fraction, np.random.default_rng(seed))
    return _pack(xtr, ytr, xva, yva, xte, yte, 10, "cifar10")


@register_dataset("digits")
def _digits(root: str | Path | None = None, seed: int = 0, val_fraction: float = 0.15) -> DataSplits:
    return load_digits_data(seed=seed, val_fraction=val_fraction)


@register_dataset("mnist", needs_root=True)
def _mnist(root: str | Path | None, seed: int = 0, val_fraction: float = 0.1) -> DataSplits:
    assert root is not None
    return load_mnist(root, seed=seed, val_fraction=val_fraction)


@register_dataset("cifar10", needs_root=True)
def _cifar10(root: str | Path | None, seed: int = 0, val_fraction: float = 0.1) -> DataSplits:
    assert root is not None
    return load_cifar10(root, seed=seed, val_fraction=val_fraction)


def load_data(name: str, root: str | None = None, seed: int = 0, val_fraction: float | None = None) -> DataSplits:
    """Load the data set registered as ``name`` (built in: ``digits``; ``mnist`` and ``cifar10`` from the local
    folder ``root``).

    Input
    -----
    name : str
    root : str or None
        Local folder, for data sets that read one.
    seed : int
        Seed of the train / validation split.
    val_fraction : float in (0, 1), optional
        Held-out share of the training images; default: the data set's own (its loader's signature).

    Output
    ------
    : DataSplits (x float32 [N, C, H, W], y long [N])
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; available: {', '.join(available_datasets())}")
    loader, needs_root = DATASETS[name]
    if needs_root and not root:
        raise ValueError(f"dataset {name!r} needs a local folder: set data.root=/path/to/{name}")
    if val_fraction is None:
        return loader(root, seed)
    return loader(root, seed, val_fraction)
