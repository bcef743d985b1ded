"""Time of the digital LDPC + QAM chain (encode, map, channel, demap, BP decode) per million weights.

Usage: python benchmarks/ldpc_chain.py [--weights 20000] [--bits 8] [--k 512] [--rate 0.5] [--m 4] [--iter 20]
"""
from __future__ import annotations

import argparse
import math
import time

import torch

from channels import make_channel
from airnet.digital import LDPCQAMChain


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=int, default=20_000)
    ap.add_argument("--bits", type=int, default=8, help="quantization bits per weight")
    ap.add_argument("--k", type=int, default=512)
    ap.add_argument("--rate", type=float, default=0.5)
    ap.add_argument("--m", type=int, default=4, help="bits per QAM symbol")
    ap.add_argument("--iter", type=int, default=20)
    ap.add_argument("--snr", type=float, default=12.0)
    ap.add_argument("--channel", default="awgn")
    args = ap.parse_args()
    chain = LDPCQAMChain(args.k, args.rate, args.m, args.iter)
    g = torch.Generator().manual_seed(0)
    codewords = math.ceil(args.weights * args.bits / chain.k)
    bits = torch.randint(0, 2, (1, codewords * chain.k), generator=g).float()
    ch = make_channel(args.channel)
    chain.transmit(bits[:, : 4 * chain.k], ch, args.snr, g)  # warm-up
    t = time.perf_counter()
    rx = chain.transmit(bits, ch, args.snr, g)
    dt = time.perf_counter() - t
    per_million = dt * 1e6 / args.weights
    print(f"{args.weights} weights x {args.bits} bits = {bits.numel()} info bits in {codewords} codewords "
          f"(k={chain.k}, n={chain.n}, {2 ** chain.m}-QAM, {args.iter} BP iterations), {args.channel} at {args.snr} dB, "
          f"threads={torch.get_num_threads()}")
    print(f"chain time {dt:.2f} s -> {per_million:.1f} s per million weights "
          f"({bits.numel() / dt / 1e6:.3f} Mbit/s), BER {(rx != bits).float().mean().item():.2e}")


if __name__ == "__main__":
    main()
