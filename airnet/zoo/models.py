"""Classifiers used in experiments, as registered plug-ins: an MLP and a small CNN for the built-in data, ResNet-20
for CIFAR-10. A new model registers itself where it is defined::

    @register_model("my_net")
    class MyNet(nn.Module):
        def __init__(self, input_shape, num_classes, width=32): ...

and ``model.name=my_net`` (with ``plugins=[mymodule]``) picks it; its keyword arguments are the ``model.kwargs``.
A model that declares ``prunable_units()`` (see :data:`UnitSpec`) supports structured pruning and ordered widths.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

import torch
import torch.nn.functional as F
from torch import nn

# A prunable layer: (label, [(parameter name, dim, entries per unit), ...]); unit j of the layer owns
# param.narrow(dim, j * entries, entries) of every listed parameter (its output row, bias, norm scale, and the next
# layer's input columns that read it). Structured pruning removes whole units (see airnet/structure.py).
UnitSpec = list[tuple[str, list[tuple[str, int, int]]]]
Factory = Callable[..., nn.Module]
M = TypeVar("M", bound=Factory)


@dataclass(frozen=True)
class ModelEntry:
    """A registered model: ``factory(input_shape, num_classes, **kwargs)``; ``image_input``: it needs (C, H, W)."""

    factory: Factory
    image_input: bool


MODELS: dict[str, ModelEntry] = {}


def register_model(name: str, *, image_input: bool = True) -> Callable[[M], M]:
    """Class (or factory) decorator: register a model under ``name``; ``image_input=False`` for models that take
    any input shape (e.g. an MLP flattens it)."""
    if not name or not isinstance(name, str):
        raise ValueError(f"model name must be a non-empty string, got {name!r}")

    def add(factory: M) -> M:
        MODELS[name] = ModelEntry(factory, image_input)
        return factory

    return add


def available_models() -> list[str]:
    """Sorted registered model names."""
    return sorted(MODELS)


def runs_channels_last(model: object, device: torch.device) -> bool:
    """Whether ``model`` (an instance, its class or factory) takes its image batches in ``torch.channels_last``
    on ``device``.

    A model opts in with a class attribute ``channels_last_on_cpu = True`` where that layout is measured faster on
    CPU (ResNet-20 on a Zen 5 core: a training epoch 1.25x, tuned scoring 1.03x; the digits CNN gains nothing).
    The layout changes which kernels run and so the last bits of the numbers: the models it trains have their own
    cache keys.
    """
    return device.type == "cpu" and bool(getattr(model, "channels_last_on_cpu", False))


def as_model_input(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``x`` [B, C, H, W] in the memory layout ``model`` runs fastest with (:func:`runs_channels_last`); other
    inputs unchanged. Same values, same shape."""
    if x.dim() == 4 and runs_channels_last(model, x.device):
        return x.contiguous(memory_format=torch.channels_last)
    return x


def has_prunable_units(model: nn.Module) -> bool:
    """Whether ``model`` declares the units structured pruning and ordered widths remove (``prunable_units()``)."""
    return callable(getattr(model, "prunable_units", None))


@register_model("mlp", image_input=False)
class MLP(nn.Module):
    """Fully connected net: input [B, C, H, W] -> logits [B, classes]."""

    def __init__(self, input_shape: tuple[int, ...], num_classes: int, hidden: tuple[int, ...] = (64,)) -> None:
        super().__init__()
        dims = [int(torch.tensor(input_shape).prod())] + list(hidden)
        layers: list[nn.Module] = [nn.Flatten()]
        for d_in, d_out in zip(dims[:-1], dims[1:]):
            layers += [nn.Linear(d_in, d_out), nn.ReLU()]
        layers.append(nn.Linear(dims[-1], num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def forward_grouped(self, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """The network under K parameter sets at once (the ``grouped`` evaluation strategy).

        The first layer is one matrix product for all K sets (their rows stacked), later layers batched
        products: no per-set Python loop, and the input is read once.

        Input
        -----
        params : dict name -> [K, *shape]
            Parameters as :meth:`airnet.zoo.params.ParamLayout.unflatten` gives them (buffers: none in this model).
        x : [N, C, H, W] or [N, d], float

        Output
        ------
        : [K, N, classes]
        """
        # h: [N, d] (the shared input), [N, K, out] after the first layer (all K sets' rows in one product), then
        # [K, N, out]; elementwise ops run on contiguous tensors (a ReLU on a transposed view is several times slower)
        h, stacked = x.flatten(1), False
        for i, layer in enumerate(self.net):
            if isinstance(layer, nn.Linear):
                w, b = params[f"net.{i}.weight"], params[f"net.{i}.bias"]     # [K, out, in], [K, out]
                k, out, d_in = w.shape
                if h.dim() == 2:
                    h, stacked = torch.addmm(b.reshape(-1), h, w.reshape(k * out, d_in).t()).view(-1, k, out), True
                else:
                    h, stacked = torch.baddbmm(b[:, None], h.transpose(0, 1) if stacked else h, w.transpose(1, 2)), False
            elif isinstance(layer, nn.ReLU):
                h = torch.relu(h) if h.dim() == 2 else h.relu_()      # the input (2-D) stays; products are ours
        return h.transpose(0, 1) if stacked else h

    def prunable_units(self) -> UnitSpec:
        """Hidden neurons: row of their layer, bias entry, column of the next layer."""
        linears = [i for i, m in enumerate(self.net) if isinstance(m, nn.Linear)]
        return [(f"hidden{n}", [(f"net.{i}.weight", 0, 1), (f"net.{i}.bias", 0, 1), (f"net.{j}.weight", 1, 1)])
                for n, (i, j) in enumerate(zip(linears[:-1], linears[1:]))]


@register_model("cnn")
class SmallCNN(nn.Module):
    """Two conv+pool stages and a linear head: [B, C, H, W] -> [B, classes]."""

    def __init__(self, input_shape: tuple[int, ...], num_classes: int, channels: tuple[int, int] = (16, 32)) -> None:
        super().__init__()
        c, h, w = input_shape
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(c, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.spatial = (h // 4) * (w // 4)
        self.head = nn.Linear(c2 * self.spatial, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))

    def forward_grouped(self, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """The network under K parameter sets at once (the ``grouped`` evaluation strategy).

        A few sets at a time: their first convolutions stacked into one convolution of the shared input, the second
        ones as one grouped convolution, the heads as a batched product. On the CPU, groups of 4 sets and blocks of
        images keep the activations small (0.6x the time of one plain pass per set on the digits); elsewhere all K
        sets and images at once.

        Input
        -----
        params : dict name -> [K, *shape]
            Parameters as :meth:`airnet.zoo.params.ParamLayout.unflatten` gives them.
        x : [N, C, H, W], float

        Output
        ------
        : [K, N, classes]
        """
        k_all, (n, _, hh, ww) = params["head.bias"].shape[0], x.shape
        cpu = x.device.type == "cpu"
        group = 4 if cpu else k_all
        # image blocks keep the first activation near 2 MB, as large as a plain pass's on the digits: bigger
        # buffers make the allocator return and re-fault pages (measured: up to 1.7x slower runs)
        first = self.features[0]
        assert isinstance(first, nn.Conv2d)
        block = max(16, 2 ** 21 // (4 * group * first.out_channels * hh * ww)) if cpu else n
        out = []
        for s in range(0, k_all, group):
            p = {name: t[s:s + group] for name, t in params.items()}
            k = p["head.bias"].shape[0]
            w1, w2 = p["features.0.weight"], p["features.3.weight"]
            w1, b1 = w1.reshape(-1, *w1.shape[2:]), p["features.0.bias"].reshape(-1)
            w2, b2 = w2.reshape(-1, *w2.shape[2:]), p["features.3.bias"].reshape(-1)
            rows = []
            for i in range(0, n, block):
                xb = x[i:i + block]
                h = F.max_pool2d(F.conv2d(xb, w1, b1, padding=1).relu_(), 2)
                h = F.max_pool2d(F.conv2d(h, w2, b2, padding=1, groups=k).relu_(), 2)
                h = h.reshape(xb.shape[0], k, -1).transpose(0, 1)                   # [k, block, c2 * spatial]
                rows.append(torch.baddbmm(p["head.bias"][:, None], h, p["head.weight"].transpose(1, 2)))
            out.append(torch.cat(rows, dim=1))
        return torch.cat(out)

    def prunable_units(self) -> UnitSpec:
        """Filters of both convolutions: filter, bias, and what reads it (next filters' channel, head columns)."""
        return [("conv1", [("features.0.weight", 0, 1), ("features.0.bias", 0, 1), ("features.3.weight", 1, 1)]),
                ("conv2", [("features.3.weight", 0, 1), ("features.3.bias", 0, 1),
                           ("head.weight", 1, self.spatial)])]


class _BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.short = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.short = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.short(x))


@register_model("resnet20")
class ResNet20(nn.Module):
    """ResNet-20 (He et al. 2016, CIFAR variant, 3x3 blocks of 16/32/64 channels): [B, 3, 32, 32] -> [B, classes]."""

    channels_last_on_cpu = True     # oneDNN convolutions: a 1.25x faster training epoch (benchmarks/paper.py)

    def __init__(self, input_shape: tuple[int, ...], num_classes: int, width: int = 16, blocks: int = 3) -> None:
        super().__init__()
        c = input_shape[0]
        self.stem = nn.Sequential(nn.Conv2d(c, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        layers, c_in = [], width
        for stage, c_out in enumerate((width, 2 * width, 4 * width)):
            for b in range(blocks):
                layers.append(_BasicBlock(c_in, c_out, 2 if (b == 0 and stage > 0) else 1))
                c_in = c_out
        self.layers = nn.Sequential(*layers)
        self.head = nn.Linear(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layers(self.stem(x))
        return self.head(x.mean(dim=(2, 3)))

    def prunable_units(self) -> UnitSpec:
        """Inner channels of every block (conv1 filter, bn1 scale and shift, conv2 input channel): the residual
        paths keep their width, so pruning never misaligns an addition."""
        return [(f"block{b}", [(f"layers.{b}.conv1.weight", 0, 1), (f"layers.{b}.bn1.weight", 0, 1),
                               (f"layers.{b}.bn1.bias", 0, 1), (f"layers.{b}.conv2.weight", 1, 1)])
                for b in range(len(self.layers))]


def build_model(name: str, input_shape: tuple[int, ...], num_classes: int, **kwargs: Any) -> nn.Module:
    """Instantiate the model registered as ``name`` (built in: ``mlp``, ``cnn``, ``resnet20``).

    Input
    -----
    name : str
    input_shape : tuple of int, e.g. (1, 8, 8)
    num_classes : int
    **kwargs : the model's own options (``model.kwargs``)

    Output
    ------
    : nn.Module (freshly initialized from the global torch RNG)
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(available_models())}")
    entry = MODELS[name]
    if len(input_shape) != 3 and entry.image_input:
        raise ValueError(f"model {name!r} needs an image input shape (C, H, W), got {tuple(input_shape)}")
    return entry.factory(tuple(input_shape), int(num_classes), **kwargs)


@dataclass(frozen=True)
class ModelSpec:
    """A model recipe: the registered ``name`` and its keyword options."""

    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    def build(self, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
        """A freshly initialized model (from the global torch RNG; see :meth:`airnet.context.Context.new_model`)."""
        return build_model(self.name, input_shape, num_classes, **self.kwargs)


def num_parameters(model: nn.Module) -> int:
    """Number of trainable reals that AirNet transmits."""
    return sum(p.numel() for p in model.parameters())
