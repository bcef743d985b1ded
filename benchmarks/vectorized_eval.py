"""Vectorized K-realization evaluation vs a naive per-realization loop, stage by stage.

1. channel draws: one batched ``transmit_vector`` call for K realizations vs K separate calls;
2. scoring: ``vmap`` over the K received weight vectors vs a Python loop of forward passes;
3. end to end, with the strategy ``accuracy_of_vectors`` picks by default (``auto``).

Usage: python benchmarks/vectorized_eval.py [--model cnn|mlp] [--channel rayleigh] [-k 64] [--repeats 3]
"""
from __future__ import annotations

import argparse
import time

import torch

from channels import make_channel
from airnet.data import load_data
from airnet.evaluation import accuracy_of_vectors, accuracy_of_vectors_loop, pick_strategy
from airnet.models import build_model
from airnet.params import model_vector
from airnet.transmission import transmit_vector


def best_of(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def report(stage: str, t_vec: float, t_loop: float, k: int) -> None:
    print(f"{stage:<13} vectorized {t_vec * 1e3:8.1f} ms | loop {t_loop * 1e3:8.1f} ms | "
          f"loop/vectorized = {t_loop / t_vec:5.1f}x   ({t_vec / k * 1e3:.3f} vs {t_loop / k * 1e3:.3f} ms/realization)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="cnn")
    ap.add_argument("--channel", default="rayleigh")
    ap.add_argument("-k", "--realizations", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--snr", type=float, default=5.0)
    args = ap.parse_args()
    torch.manual_seed(0)
    data = load_data("digits")
    model = build_model(args.model, data.input_shape, data.num_classes).eval()
    w, ch, k = model_vector(model), make_channel(args.channel), args.realizations
    x, y = data.x_test, data.y_test

    def draw_batched() -> torch.Tensor:
        return transmit_vector(w, ch, args.snr, k, generator=torch.Generator().manual_seed(0))

    def draw_loop() -> torch.Tensor:
        g = torch.Generator().manual_seed(0)
        return torch.cat([transmit_vector(w, ch, args.snr, 1, generator=g) for _ in range(k)])

    rx = draw_batched()
    print(f"model={args.model} params={w.numel()} channel={args.channel} K={k} test={len(y)} "
          f"threads={torch.get_num_threads()} auto strategy={pick_strategy(model, rx.device)}")
    report("channel draws", best_of(draw_batched, args.repeats), best_of(draw_loop, args.repeats), k)
    report("scoring vmap", best_of(lambda: accuracy_of_vectors(model, rx, x, y, strategy="vmap"), args.repeats),
           best_of(lambda: accuracy_of_vectors_loop(model, rx, x, y), args.repeats), k)
    t_vec = best_of(lambda: accuracy_of_vectors(model, draw_batched(), x, y), args.repeats)
    t_loop = best_of(lambda: accuracy_of_vectors_loop(model, draw_loop(), x, y), args.repeats)
    report("end to end", t_vec, t_loop, k)
    print(f"speed-up (naive / vectorized, end to end): {t_loop / t_vec:.1f}x")


if __name__ == "__main__":
    main()
