"""LDPC + QAM chain cost per weight at 10k, 100k, 1M weights (8-bit codes, 16-QAM rate 1/2, blocks <= 8448 bits),
and what early termination saves over always running 20 BP iterations."""
from __future__ import annotations

import torch

from benchmarks.common import Figure, best_of


def run(quick: bool = False) -> list[Figure]:
    from channels import make_channel
    from airnet.side_info.transports import MCS, LDPCTransport, segment_bits

    ch = make_channel("awgn")
    sizes = (10_000, 100_000) if quick else (10_000, 100_000, 1_000_000)
    per_weight = {}
    for weights in sizes:
        t = LDPCTransport(segment_bits(MCS(-1, 4, 0.5), weights * 8, 8448), num_iter=20)
        bits = torch.randint(0, 2, (1, weights * 8), generator=torch.Generator().manual_seed(0)).float()
        g = torch.Generator().manual_seed(1)
        repeats = 1 if weights >= 1_000_000 else 2
        per_weight[weights] = best_of(lambda: t.send(bits, ch, 12.0, g), repeats=repeats) / weights
    ref = per_weight[sizes[0]]
    figs = [Figure(f"LDPC chain time per weight, {w:,} weights", per_weight[w] * 1e6, ref * 1e6, "us",
                   f"per weight at {sizes[0]:,}", "target 0.8-1.2") for w in sizes[1:]]
    seg = segment_bits(MCS(-1, 4, 0.5), 10_000 * 8, 8448)
    bits = torch.randint(0, 2, (1, 10_000 * 8), generator=torch.Generator().manual_seed(0)).float()
    for snr in (12.0, 8.0):                            # far above and near the waterfall of 16-QAM rate 1/2
        t = {}
        for early in (False, True):
            link, g = LDPCTransport(seg, num_iter=20, early_stop=early), torch.Generator().manual_seed(1)
            t[early] = best_of(lambda: link.send(bits, ch, snr, g), repeats=2)
        figs.append(Figure(f"LDPC chain, 10k weights at {snr:g} dB: 20 iterations", t[False], t[True], "s",
                           "early termination", "speed-up"))
    return figs
