from pathlib import Path

import pytest
import torch

torch.set_num_threads(2)
CONF = str(Path(__file__).resolve().parents[1] / "conf")


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(1234)


@pytest.fixture(scope="session")
def digits():
    from airnet.zoo.data import load_data
    return load_data("digits", seed=0)


def compose(*overrides: str):
    """The sweep config with ``overrides``, as the driver would see it (no Hydra run)."""
    from hydra import compose as hydra_compose, initialize_config_dir
    import experiments.config  # noqa: F401  (registers the library defaults conf/channel and conf/model use)
    with initialize_config_dir(config_dir=CONF, version_base="1.3"):
        return hydra_compose(config_name="sweep", overrides=list(overrides))


def train_settings(**changes):
    """TrainSettings from conf/train/base.yaml with ``changes``."""
    from omegaconf import OmegaConf
    from airnet.config.options import build_options
    from airnet.training.loop import TrainSettings
    return build_options(TrainSettings, {**OmegaConf.to_container(OmegaConf.load(f"{CONF}/train/base.yaml")),
                                         **changes}, "train")


def recipes_and_options(*overrides: str, data=None):
    """(Recipes, {scheme: typed options}) for the composed config; ``recipes.context`` is the run's context;
    ``data`` replaces the loaded data set."""
    import dataclasses
    from experiments.config import build_context, experiment_options, run_options, scheme_options, train_settings
    from airnet.training.recipes import Recipes
    cfg = compose("cache_dir=null", "progress=false", *overrides)
    context = build_context(cfg, run_options(cfg), experiment_options(cfg))
    if data is not None:
        context = dataclasses.replace(context, data=data)
    return Recipes(context, train_settings(cfg)), {n: scheme_options(cfg, n) for n in cfg.scheme}


def make(name, recipes, opts, budget):
    """The scheme ``name`` (a registered scheme or a config variant of one) at ``budget`` channel uses."""
    from experiments.config import scheme_kind
    from airnet.schemes import make_scheme
    return make_scheme(scheme_kind(compose(), name), recipes.context, recipes, opts[name], budget)
