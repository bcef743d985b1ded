"""Lossless entropy coding of quantized weight codes, one independent stream per layer (``constriction``'s ANS).

Each layer's ``b``-bit codes are sent with whichever of three codes is shortest, its model description counted:

* ``fixed``: ``b`` bits per code, no table (what a payload without entropy coding sends);
* ``table``: ANS over the layer's own histogram; the table is the count of every code between the smallest and
  the largest one that occurs, each Elias-gamma coded (``count + 1``), plus those two codes (``2b`` bits).
  Only for ``b <= TABLE_MAX_BITS`` (above that the table outweighs what it saves);
* ``laplace``: ANS over a quantized Laplace law fitted to the codes; its mean and scale travel as float32.

Every layer also spends :data:`METHOD_BITS` on which code it uses. Streams are whole 32-bit ANS words, as
``constriction`` emits them. A layer's stream cannot be resynchronized after an error, so a receiver that loses
any bit of it loses the whole layer (:meth:`airnet.digital.payload.Payload.received`).

Why constriction: a maintained Rust entropy-coder library with Python bindings, exact (its decoders invert its
encoders bit for bit), within a fraction of a percent of the model's cross entropy, and fast enough to code every
candidate payload of a search.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

METHOD_BITS = 2           # which of the three codes a layer uses
TABLE_MAX_BITS = 12       # histogram tables only up to 4,096 codes
PARAM_BITS = 32           # a Laplace parameter as float32
WORD_BITS = 32            # ANS streams are whole u32 words

Method = Literal["fixed", "table", "laplace"]


def _constriction() -> Any:
    import constriction          # lazy: only digital payloads with entropy coding need it

    return constriction


@dataclass(frozen=True)
class LayerCode:
    """How one layer's codes travel: ``method``, its model description (``table_bits``, side information, the
    method signal included) and its coded symbols (``data_bits``)."""

    method: Method
    table_bits: int
    data_bits: int
    count: int

    @property
    def bits(self) -> int:
        return self.table_bits + self.data_bits


def elias_gamma_bits(values: np.ndarray) -> int:
    """Length of the Elias-gamma codes of positive integers ``values``: ``2 floor(log2 v) + 1`` each."""
    v = np.asarray(values, dtype=np.int64)
    if v.size and int(v.min()) < 1:
        raise ValueError("Elias-gamma codes positive integers")
    return int((2 * np.floor(np.log2(v)) + 1).sum()) if v.size else 0


def empirical_entropy(codes: np.ndarray) -> float:
    """Empirical entropy of ``codes`` in bits per symbol (0 for fewer than two distinct codes)."""
    if codes.size == 0:
        return 0.0
    p = np.bincount(codes.astype(np.int64)) / codes.size
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def _table_model(codes: np.ndarray) -> tuple[Any, int, np.ndarray]:
    """(ANS model over codes lo..hi from their histogram, or None when one code is all there is; lo; counts)."""
    lo, hi = int(codes.min()), int(codes.max())
    counts = np.bincount(codes - lo, minlength=hi - lo + 1).astype(np.float64)
    return _categorical(counts), lo, counts


def _categorical(counts: np.ndarray) -> Any:
    """ANS model of a histogram (None for a single code: the table alone says what every symbol is)."""
    if counts.size < 2:
        return None
    return _constriction().stream.model.Categorical(counts / counts.sum(), perfect=False)


def _laplace_params(codes: np.ndarray) -> tuple[float, float]:
    """Median and mean absolute deviation of ``codes`` (the Laplace maximum-likelihood fit), as float32."""
    mean = float(np.float32(np.median(codes)))
    scale = float(np.float32(max(0.5, float(np.abs(codes - mean).mean()))))
    return mean, scale


def _ans_words(symbols: np.ndarray, model: Any) -> np.ndarray:
    if model is None:
        return np.zeros(0, dtype=np.uint32)
    coder = _constriction().stream.stack.AnsCoder()
    coder.encode_reverse(symbols.astype(np.int32), model)
    return np.asarray(coder.get_compressed())


def encode_layer(codes: np.ndarray, bits: int, method: Method) -> tuple[np.ndarray, int]:
    """The stream of one layer's codes [n] int by ``method``: (u32 words, or the codes themselves for ``fixed``;
    table bits without the method signal)."""
    levels = 2 ** int(bits)
    if method == "fixed":
        return codes.astype(np.int64), 0
    if method == "table":
        model, lo, counts = _table_model(codes)
        return _ans_words(codes - lo, model), 2 * int(bits) + elias_gamma_bits(counts.astype(np.int64) + 1)
    mean, scale = _laplace_params(codes)
    model = _constriction().stream.model.QuantizedLaplace(0, levels, mean, scale)
    return _ans_words(codes, model), 2 * PARAM_BITS


def decode_layer(stream: np.ndarray, count: int, bits: int, method: Method,
                 description: dict[str, Any]) -> np.ndarray:
    """Invert :func:`encode_layer` from the receiver's view: ``description`` holds what the table carries
    (``counts`` and ``lo`` for ``table``; ``mean`` and ``scale`` for ``laplace``)."""
    if method == "fixed":
        return stream.astype(np.int64)
    cx = _constriction()
    coder = cx.stream.stack.AnsCoder(stream.astype(np.uint32))
    if method == "table":
        model = _categorical(np.asarray(description["counts"], dtype=np.float64))
        if model is None:
            return np.full(count, int(description["lo"]), dtype=np.int64)
        return np.asarray(coder.decode(model, count), dtype=np.int64) + int(description["lo"])
    model = cx.stream.model.QuantizedLaplace(0, 2 ** int(bits), description["mean"], description["scale"])
    return np.asarray(coder.decode(model, count), dtype=np.int64)


def describe_layer(codes: np.ndarray, method: Method) -> dict[str, Any]:
    """What a layer's table tells the receiver (see :func:`decode_layer`)."""
    if method == "table":
        _, lo, counts = _table_model(codes)
        return {"lo": lo, "counts": counts}
    if method == "laplace":
        mean, scale = _laplace_params(codes)
        return {"mean": mean, "scale": scale}
    return {}


def code_layer(codes: np.ndarray, bits: int) -> LayerCode:
    """The shortest of the three codes for one layer's ``bits``-bit codes [n] (ints in ``[0, 2^bits)``).

    Example
    -------
    >>> c = code_layer(np.array([3, 3, 3, 4, 2, 3, 3, 3]), bits=8)
    >>> c.method, c.table_bits, c.data_bits          # 8 codes in one 32-bit ANS word, a 29-bit table
    ('table', 29, 32)
    """
    n = int(codes.size)
    best = LayerCode("fixed", METHOD_BITS, n * int(bits), n)
    if n == 0 or bits <= 1:
        return best
    for method in (("table", "laplace") if bits <= TABLE_MAX_BITS else ("laplace",)):
        words, table = encode_layer(codes, bits, method)
        cand = LayerCode(method, METHOD_BITS + table, WORD_BITS * int(words.size), n)
        if cand.bits < best.bits:
            best = cand
    return best


def code_layers(codes: torch.Tensor, layer_of: torch.Tensor, bits: int | torch.Tensor,
                num_layers: int) -> tuple[LayerCode, ...]:
    """:func:`code_layer` for every layer (codes [n] long, layer_of [n] long; ``bits`` one width or [L]): one
    :class:`LayerCode` per layer, in layer order (layers without weights cost nothing)."""
    c = codes.cpu().numpy()
    lay = layer_of.cpu().numpy()
    widths = torch.as_tensor(bits).expand(int(num_layers)).tolist() if num_layers else []
    out = []
    for layer in range(int(num_layers)):
        sel = c[lay == layer]
        out.append(LayerCode("fixed", 0, 0, 0) if sel.size == 0 else code_layer(sel, int(widths[layer])))
    return tuple(out)


def bits_per_weight(codes: tuple[LayerCode, ...]) -> float:
    """Bits per sent weight of a coded payload, tables included (``nan`` without weights)."""
    n = sum(c.count for c in codes)
    return sum(c.bits for c in codes) / n if n else math.nan
