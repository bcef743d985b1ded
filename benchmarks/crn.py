"""Common random numbers: how much sharing a point's channel draws between schemes shrinks the variance of a
paired difference (noise injection vs clean, digits CNN, 10 dB, 1,024 draws) on AWGN and on Rayleigh block fading.

The ratio is variance with common draws / variance with independent draws of the per-draw accuracy difference;
below 1 means a paired comparison over draws needs fewer draws (or resolves smaller differences).
"""
from __future__ import annotations

import statistics

import torch

from benchmarks.common import Figure


def _ratio(channel: str, draws: int, epochs: int) -> tuple[float, float]:
    from hydra import compose, initialize_config_dir

    from airnet.delivery.evaluation import accuracy_of_vectors
    from airnet.schemes import make_scheme
    from airnet.training.recipes import Recipes
    from experiments.config import build_context, experiment_options, run_options, scheme_runs, train_settings
    from experiments.sweep import CONF_DIR

    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose("sweep", overrides=[f"channel={channel}", f"train.epochs={epochs}", "cache_dir=null",
                                          "progress=false", "side_info.mode=free"])
    run, exp = run_options(cfg), experiment_options(cfg)
    context = build_context(cfg, run, exp)
    recipes = Recipes(context.for_seed(0), train_settings(cfg))
    runs = {r.name: r for r in scheme_runs(cfg, exp)}
    budget = context.full_channel_uses
    made = {n: make_scheme(runs[n].kind, recipes.context, recipes, runs[n].options, budget)
            for n in ("clean", "noise_injection")}
    data = context.data

    def accs(name: str, seed: int) -> list[float]:
        d = made[name].deliver(10.0, draws, torch.Generator().manual_seed(seed), 5.0)
        return accuracy_of_vectors(d.model, d.vectors, data.x_test, data.y_test).tolist()

    a = accs("noise_injection", 1)
    common = statistics.variance([x - y for x, y in zip(a, accs("clean", 1))])
    independent = statistics.variance([x - y for x, y in zip(a, accs("clean", 2))])
    return common, independent


def run(quick: bool = False) -> list[Figure]:
    draws, epochs = (128, 5) if quick else (1024, 30)
    figs = []
    for channel in ("awgn", "rayleigh"):
        common, independent = _ratio(channel, draws, epochs)
        figs.append(Figure(f"{channel}: var(NI - clean) per draw, common draws", common * 1e4, independent * 1e4,
                           "1e-4", "independent draws", f"{draws} draws; < 1: CRN helps"))
    return figs
