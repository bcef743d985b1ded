"""Channel throughput on one [64, 1M] complex64 tensor: ours vs Sionna's blocks vs a bare torch version."""
from __future__ import annotations

import math

import torch

from benchmarks.common import Figure, interleaved


def run(quick: bool = False) -> list[Figure]:
    import channels as C
    from sionna.phy.channel import AWGN, FlatFadingChannel

    b, n, block = 64, (262_144 if quick else 1_048_576), 64          # multiples of the block length
    x = C.complex_normal((b, n), torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(1)
    n0 = 0.1
    ours_awgn = C.make_channel("awgn")
    sionna_awgn = AWGN()

    def bare_awgn():
        return x + torch.view_as_complex(torch.randn(b, n, 2, generator=g).mul_(math.sqrt(n0 / 2)))

    t = interleaved({"ours": lambda: ours_awgn(x, 10.0, g), "sionna": lambda: sionna_awgn(x, n0),
                     "bare": bare_awgn})
    figs = [Figure("AWGN throughput: Sionna's time / ours", t["sionna"], t["ours"], "s", "ours (time)",
                   "target >= 1"),
            Figure("AWGN: ours / bare torch (time)", t["ours"], t["bare"], "s", "bare torch", "target <= 2")]

    ours_ray = C.make_channel("rayleigh", block_length=block, equalizer="mmse")
    sionna_ray = FlatFadingChannel(1, 1, add_awgn=True, return_channel=True)

    def sionna_rayleigh():
        # Sionna's flat-fading block (its gain generation, application and AWGN) + an elementwise MMSE equalizer
        y, h = sionna_ray(x.reshape(-1, 1), n0)
        h = h.reshape(-1, 1)
        return h.conj() * y / (h.abs() ** 2 + n0)

    def bare_rayleigh():
        nb = n // block
        h = torch.view_as_complex(torch.randn(b, nb, 1, 2, generator=g).mul_(math.sqrt(0.5)))
        noise = torch.view_as_complex(torch.randn(b, nb, block, 2, generator=g).mul_(math.sqrt(n0 / 2)))
        y = noise.addcmul_(h, x.view(b, nb, block))
        return ((h.conj() / (h.abs() ** 2 + n0)) * y).view(b, n)

    t = interleaved({"ours": lambda: ours_ray(x, 10.0, g), "sionna": sionna_rayleigh, "bare": bare_rayleigh})
    figs += [Figure("Rayleigh+MMSE throughput: Sionna's time / ours", t["sionna"], t["ours"], "s", "ours (time)",
                    "target >= 1"),
             Figure("Rayleigh+MMSE: ours / bare torch (time)", t["ours"], t["bare"], "s", "bare torch",
                    "target <= 2")]
    return figs
