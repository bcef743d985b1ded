"""Mixed precision: per-layer bit widths chosen by measured sensitivity under a bit budget.

Each layer's sensitivity to each candidate width is measured on validation data with only that layer quantized
(the validation cross-entropy increase over the unquantized model, as HAWQ-style allocations assume the effects
add up). Starting from every layer at the widest candidate, the layer whose next narrower width costs the least
loss per bit saved is narrowed, until the coded weights fit. Costs are the layers' real coded lengths (entropy
coded when the payload is), so a layer whose codes compress well is cheap to keep wide.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from airnet.digital.entropy import code_layers
from airnet.digital.quantization import quantize
from airnet.zoo.params import ParamLayout, load_vector, model_vector


def _loss(model: nn.Module, vector: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> float:
    load_vector(model, vector)
    with torch.no_grad():
        return float(F.cross_entropy(model(x), y))


def layer_sensitivity(model: nn.Module, mask: torch.Tensor, widths: Sequence[int], x_val: torch.Tensor,
                      y_val: torch.Tensor) -> torch.Tensor:
    """Validation loss increase when one layer's kept weights are quantized at each width, the rest left as they are.

    Input
    -----
    model : nn.Module (its weights are restored afterwards)
    mask : [n] bool, the weights sent
    widths : candidate widths
    x_val, y_val : validation data

    Output
    ------
    : [L, len(widths)] float64 (0 for layers without sent weights)
    """
    layout = ParamLayout.of(model)
    layer_of = layout.layer_of()
    L = len(layout.names)
    original = model_vector(model).detach().clone()
    w = (original.cpu() * mask.cpu()).to(original.device)
    x, y = x_val.to(original.device), y_val.to(original.device)
    was_training = model.training
    model.eval()
    try:
        base = _loss(model, w, x, y)
        out = torch.zeros(L, len(widths), dtype=torch.float64)
        for layer in range(L):
            sel = (layer_of == layer) & mask.cpu()
            if not bool(sel.any()):
                continue
            for j, b in enumerate(widths):
                q = quantize(w.cpu()[sel], torch.zeros(int(sel.sum()), dtype=torch.long), int(b), 1)
                v = w.clone()
                v[sel.to(v.device)] = q.dequantize().to(v.dtype).to(v.device)
                out[layer, j] = _loss(model, v, x, y) - base
    finally:
        load_vector(model, original)
        model.train(was_training)
    return out


def allocate_widths(model: nn.Module, mask: torch.Tensor, widths: Sequence[int], code_bits: int,
                    x_val: torch.Tensor, y_val: torch.Tensor, entropy: bool = True) -> tuple[int, ...] | None:
    """Per-layer widths (one per layer, layers without sent weights at the narrowest) whose coded weights take at
    most ``code_bits``, narrowing greedily by least loss per bit saved; None if even the narrowest do not fit."""
    widths = sorted({int(b) for b in widths})
    layout = ParamLayout.of(model)
    layer_of = layout.layer_of()
    L = len(layout.names)
    w = model_vector(model).detach().cpu()
    sens = layer_sensitivity(model, mask, widths, x_val, y_val)
    kept = mask.cpu()
    cost = torch.zeros(L, len(widths), dtype=torch.float64)          # coded bits of each layer at each width
    for j, b in enumerate(widths):
        q = quantize(w[kept], layer_of[kept], b, L)
        if entropy:
            cost[:, j] = torch.tensor([c.bits for c in code_layers(q.codes, layer_of[kept], b, L)], dtype=torch.float64)
        else:
            cost[:, j] = torch.bincount(layer_of[kept], minlength=L).double() * b
    pick = [len(widths) - 1] * L
    total = float(sum(cost[i, pick[i]] for i in range(L)))
    while total > code_bits:
        best, best_rate = -1, float("inf")
        for i in range(L):
            if pick[i] == 0 or cost[i, pick[i]] == 0:
                continue
            saved = float(cost[i, pick[i]] - cost[i, pick[i] - 1])
            if saved <= 0:
                continue
            rate = max(float(sens[i, pick[i] - 1] - sens[i, pick[i]]), 0.0) / saved
            if rate < best_rate:
                best, best_rate = i, rate
        if best < 0:
            return None
        total -= float(cost[best, pick[best]] - cost[best, pick[best] - 1])
        pick[best] -= 1
    present = torch.bincount(layer_of[kept], minlength=L) > 0
    return tuple(widths[pick[i]] if bool(present[i]) else widths[0] for i in range(L))
