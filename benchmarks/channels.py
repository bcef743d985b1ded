"""Channel throughput, like for like: ours vs Sionna's blocks with the same fading law, and vs the physical floor
(drawing the noise alone), at the size a sweep sends ([32, 1536] complex: 32 draws of a 3,072-weight model) and
on a large tensor ([64, 1M]).

- AWGN: ours vs Sionna's ``AWGN``; and ours vs ``torch.randn`` of the same noise (the floor).
- Rayleigh, one gain per symbol, MMSE: ours with ``block_length=1`` vs Sionna's ``FlatFadingChannel`` (which draws
  a gain per symbol) and an elementwise MMSE equalizer.
- Rayleigh, one gain per 64 symbols, MMSE (what the sweeps use): ours vs the same law written in bare torch.
"""
from __future__ import annotations

import math

import torch

from benchmarks.common import Figure, interleaved


def _size(b: int, n: int, calls: int, tag: str) -> list[Figure]:
    import channels as C
    from sionna.phy.channel import AWGN, FlatFadingChannel

    x = C.complex_normal((b, n), torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(1)
    n0 = 0.1

    def repeat(fn):
        def run():
            for _ in range(calls):
                fn()
        return run

    ours_awgn, sionna_awgn = C.make_channel("awgn"), AWGN()
    t = interleaved({"ours": repeat(lambda: ours_awgn(x, 10.0, g)), "sionna": repeat(lambda: sionna_awgn(x, n0)),
                     "floor": repeat(lambda: torch.randn(b, n, 2, generator=g))})
    figs = [Figure(f"AWGN {tag}: Sionna's time / ours", t["sionna"], t["ours"], "s", "ours", ">= 1: we are faster"),
            Figure(f"AWGN {tag}: ours / randn floor", t["ours"], t["floor"], "s", "randn of the noise", "floor 1")]

    ours_sym = C.make_channel("rayleigh", block_length=1, equalizer="mmse")
    sionna_flat = FlatFadingChannel(1, 1, add_awgn=True, return_channel=True)

    def sionna_rayleigh():
        y, h = sionna_flat(x.reshape(-1, 1), n0)             # a gain per symbol, its AWGN
        h = h.reshape(-1, 1)
        return h.conj() * y / (h.abs() ** 2 + n0)            # the same MMSE equalizer

    t = interleaved({"ours": repeat(lambda: ours_sym(x, 10.0, g)), "sionna": repeat(sionna_rayleigh),
                     "floor": repeat(lambda: torch.randn(b, n, 2, 2, generator=g))})    # a gain and a noise
    figs += [Figure(f"Rayleigh per symbol {tag}: Sionna's time / ours", t["sionna"], t["ours"], "s", "ours",
                    ">= 1: we are faster"),
             Figure(f"Rayleigh per symbol {tag}: ours / randn floor", t["ours"], t["floor"], "s",
                    "randn of gains+noise", "floor 1")]

    block = 64
    ours_block = C.make_channel("rayleigh", block_length=block, equalizer="mmse")
    nb = math.ceil(n / block)

    def bare_block():
        h = torch.view_as_complex(torch.randn(b, nb, 1, 2, generator=g).mul_(math.sqrt(0.5)))
        xb = torch.nn.functional.pad(x, (0, nb * block - n)).view(b, nb, block)
        noise = torch.view_as_complex(torch.randn(b, nb, block, 2, generator=g).mul_(math.sqrt(n0 / 2)))
        y = noise.addcmul_(h, xb)
        return ((h.conj() / (h.abs() ** 2 + n0)) * y).reshape(b, -1)[:, :n]

    t = interleaved({"ours": repeat(lambda: ours_block(x, 10.0, g)), "bare": repeat(bare_block)})
    figs.append(Figure(f"Rayleigh block 64 {tag}: ours / bare torch", t["ours"], t["bare"], "s", "bare torch",
                       "same law; target <= 1.2"))
    return figs


def run(quick: bool = False) -> list[Figure]:
    figs = _size(32, 1536, 20 if quick else 200, "[32, 1536]")
    figs += _size(64, 262_144 if quick else 1_048_576, 1, "[64, 1M]" if not quick else "[64, 256k]")
    return figs
