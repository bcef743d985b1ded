"""Plug-ins from outside the package: a scheme and a channel registered here run through the sweep driver."""
import csv
import math
from dataclasses import dataclass

import pytest
import torch

from channels import Channel, register_channel
from airnet.config.options import OptionError, build_options
from airnet.delivery.plan import uniform_expansion_plan
from airnet.schemes import AnalogScheme, make_scheme, register_scheme
from airnet.zoo import DataSplits, model_vector, register_dataset, register_model
from conftest import compose


@register_channel("toy_phase")
class ToyPhaseChannel(Channel):
    """AWGN behind a fixed, known phase rotation: the receiver undoes it, so it behaves exactly as AWGN."""

    def __init__(self, phase: float, signal_power: float = 1.0, csi: str = "perfect", equalizer: str = "zf"):
        super().__init__(signal_power=signal_power, csi=csi, equalizer=equalizer)
        self.phase = float(phase)

    def gains(self, shape, generator, dtype, device):
        return torch.polar(torch.ones(1, 1), torch.full((1, 1), self.phase)).to(dtype)

    def capacity(self, snr_db):
        return math.log2(1 + 10 ** (snr_db / 10))


@dataclass(frozen=True)
class TopOptions:
    copies: int


@register_scheme("toy_top")
class ToyTop(AnalogScheme[TopOptions]):
    """The README's plug-in recipe: the clean model's largest weights that fit, each sent ``copies`` times (a scheme
    that prunes: its mask is side information, priced by the default unstructured pruner)."""

    Options = TopOptions

    def model(self, design):
        return self.recipes.teacher()

    def plan(self, model, design, reals):
        keep = min(self.context.num_params, reals // self.options.copies)
        if keep < 1:
            return None
        mask = self.pruner(model).select(model_vector(model), keep)
        return uniform_expansion_plan(mask, self.options.copies), {}


@register_model("toy_linear", image_input=False)
class ToyLinear(torch.nn.Module):
    """Softmax regression on the flattened input: no prunable units."""

    def __init__(self, input_shape, num_classes, scale: float = 1.0):
        super().__init__()
        self.scale = float(scale)
        self.fc = torch.nn.Linear(math.prod(input_shape), num_classes)

    def forward(self, x):
        return self.fc(x.flatten(1) * self.scale)


@register_dataset("toy_blobs")
def toy_blobs(root, seed, val_fraction):
    """Three well-separated Gaussian blobs as 1x4x4 images (540 / val / 180 samples)."""
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(3, 16, generator=g) * 2.0

    def draw(n):
        y = torch.randint(0, 3, (n,), generator=g)
        return (centers[y] + 0.5 * torch.randn(n, 16, generator=g)).reshape(n, 1, 4, 4), y

    n_val = max(1, round(val_fraction * 540))
    (x, y), (xt, yt) = draw(540), draw(180)
    return DataSplits(x[n_val:], y[n_val:], x[:n_val], y[:n_val], xt, yt, 3, "toy_blobs")


@pytest.fixture
def plugin_conf(tmp_path):
    """A researcher's own config folder: one YAML for each plug-in (scheme, model, data set)."""
    conf = tmp_path / "my_conf"
    for group, name, text in [("scheme", "toy_top", "# @package scheme.toy_top\ncopies: 2\n"),
                              ("model", "toy_linear", "name: toy_linear\nkwargs:\n  scale: 0.5\n"),
                              ("data", "toy_blobs", "name: toy_blobs\nroot: null\nval_fraction: 0.1\n")]:
        (conf / group).mkdir(parents=True, exist_ok=True)
        (conf / group / f"{name}.yaml").write_text(text)
    return conf


def _sweep(tmp_path, *overrides):
    from experiments.sweep import main
    cfg = compose("train.epochs=3", "experiment.num_realizations=8", f"cache_dir={tmp_path}/cache",
                  "progress=false", *overrides)
    return main(cfg, tmp_path / "out")


def _num(row):
    return {c: float(v) for c, v in row.items() if c in ("channel_uses", "budget_channel_uses", "acc_mean",
                                                       "params_sent", "side_info_bits")}


@pytest.mark.slow
def test_pruning_plugin_scheme_and_channel_run_through_the_sweep_driver(tmp_path, plugin_conf):
    rows = _sweep(tmp_path, f"hydra.searchpath=[file://{plugin_conf}]", "+scheme=toy_top", "channel.name=toy_phase",
                  "+channel.phase=0.7", "model=mlp", "experiment.snr_db=[0,40]", "experiment.bandwidth_ratio=[0.5]",
                  "experiment.design_snr_db=[null]", "experiment.schemes=[clean,toy_top]", "scheme.clean.structure=unstructured")
    by = {(r["scheme"], float(r["snr_db"])): _num(r) for r in rows}
    assert set(by) == {(s, v) for s in ("clean", "toy_top") for v in (0.0, 40.0)}
    stored = list(csv.DictReader(open(tmp_path / "out" / "results.csv")))
    assert len(stored) == 4 and all(r["channel"] == "toy_phase" for r in stored)
    assert all("mask" in r["side_info_parts"] for r in stored if r["scheme"] == "toy_top")
    top, clean = by[("toy_top", 40.0)], by[("clean", 40.0)]
    n = 4810
    # two copies of each weight: half as many weights as the single-copy clean model, both pruned, both in budget
    assert 0 < top["params_sent"] < clean["params_sent"] < n and top["side_info_bits"] > 32
    assert top["channel_uses"] <= top["budget_channel_uses"] and clean["channel_uses"] <= clean["budget_channel_uses"]
    assert top["acc_mean"] > 0.1 + 0.3                      # the largest weights that fit still classify at 40 dB


@pytest.mark.slow
def test_plugin_model_and_dataset_run_through_the_sweep_driver(tmp_path, plugin_conf):
    rows = _sweep(tmp_path, f"hydra.searchpath=[file://{plugin_conf}]", "model=toy_linear", "data=toy_blobs",
                  "experiment.snr_db=[30]", "experiment.design_snr_db=[null]", "experiment.schemes=[clean,noise_injection]",
                  "scheme.clean.structure=unstructured", "side_info.mode=free", "train.epochs=20")
    assert {r["scheme"] for r in rows} == {"clean", "noise_injection"}
    for r in rows:
        assert r["model"] == "toy_linear" and r["data"] == "toy_blobs" and int(r["test_size"]) == 180
        assert float(r["params_sent"]) == 16 * 3 + 3 and float(r["acc_mean"]) > 0.9   # separable blobs, 30 dB


def test_structured_options_on_a_model_without_units_fail_before_training(tmp_path, plugin_conf):
    plugin = (f"hydra.searchpath=[file://{plugin_conf}]", "model=toy_linear", "data=toy_blobs")
    with pytest.raises(OptionError, match=r"scheme\.clean\.structure needs a model that declares prunable_units"):
        _sweep(tmp_path, *plugin, "experiment.schemes=[clean]")
    with pytest.raises(OptionError, match=r"scheme\.expansion_structured\.prune\.structure needs"):
        _sweep(tmp_path, *plugin, "experiment.schemes=[expansion_structured]")
    assert not (tmp_path / "cache").exists()               # nothing was trained


def test_plugin_channel_refuses_csi_it_does_not_implement(tmp_path):
    from channels import make_channel
    with pytest.raises(ValueError, match=r"ToyPhaseChannel implements csi perfect \| none, not 'estimated'"):
        make_channel("toy_phase", phase=0.1, csi="estimated")              # it defines gains() but no pilots
    with pytest.raises(OptionError, match=r"channel: ToyPhaseChannel implements csi perfect \| none"):
        _sweep(tmp_path, "channel.name=toy_phase", "+channel.phase=0.7", "channel.csi=estimated")


def test_toy_channel_matches_awgn_statistics(gen):
    from channels import make_channel, transmit_reals
    w = torch.randn(4, 50_000, generator=gen)
    err = (transmit_reals(w, make_channel("toy_phase", phase=1.1), 10.0, gen) - w).pow(2).mean()
    assert err.item() == pytest.approx(w.pow(2).mean().item() / 10, rel=0.02)


def test_scheme_options_errors_name_the_key():
    from experiments.config import scheme_options
    with pytest.raises(OptionError, match=r"unknown option scheme\.expansion\.factr; did you mean scheme\.expansion\.factor"):
        scheme_options(compose("+scheme.expansion.factr=3"), "expansion")
    with pytest.raises(OptionError, match=r"scheme\.expansion\.factor must be an integer, got 'abc'"):
        scheme_options(compose("scheme.expansion.factor=abc"), "expansion")
    with pytest.raises(OptionError, match=r"scheme\.uep\.prune\.steps must be an integer, got 1\.5"):
        scheme_options(compose("scheme.pruning_kd.steps=1.5"), "uep")  # reaches uep through the YAML link
    with pytest.raises(OptionError, match=r"no options for scheme 'toy_top'.*\+scheme=toy_top"):
        scheme_options(compose(), "toy_top")


def test_yaml_links_between_schemes():
    from experiments.config import scheme_options
    cfg = compose("scheme.pruning_kd.steps=5", "scheme.expansion.factor=3", "scheme.digital_capacity.bits=[3]")
    assert scheme_options(cfg, "expansion").prune.steps == 5 and scheme_options(cfg, "uep").prune.steps == 5
    assert scheme_options(cfg, "uep").factor == 3
    assert scheme_options(cfg, "digital_amc").bits == (3,) and scheme_options(cfg, "digital_ldpc").prune.steps == 5


@dataclass(frozen=True)
class _Inner:
    level: int


@dataclass(frozen=True)
class _Outer:
    name: str
    rate: float
    inner: tuple[_Inner, ...]
    mode: "str | None"


def test_build_options_types_and_errors():
    o = build_options(_Outer, {"name": "a", "rate": 1, "inner": [{"level": 2}], "mode": None}, "x")
    assert o == _Outer("a", 1.0, (_Inner(2),), None) and isinstance(o.rate, float)
    for data, msg in [({"name": "a", "rate": 1, "inner": []}, "missing option x.mode"),
                      ({"name": "a", "rate": "fast", "inner": [], "mode": None}, "x.rate must be a number"),
                      ({"name": "a", "rate": 1, "inner": [{"level": True}], "mode": None}, r"x.inner\[0\].level"),
                      ({"name": "a", "rate": float("nan"), "inner": [], "mode": None}, "x.rate must be finite")]:
        with pytest.raises(OptionError, match=msg):
            build_options(_Outer, data, "x")


def test_scheme_rejects_options_of_another_scheme(digits):
    from conftest import recipes_and_options
    rec, opts = recipes_and_options("model=mlp", data=digits)
    with pytest.raises(TypeError, match="expects ExpansionOptions"):
        make_scheme("expansion", rec.context, rec, opts["pruning_kd"], 100)


def test_new_model_leaves_global_rng_alone(digits):
    from conftest import recipes_and_options
    rec, _ = recipes_and_options("model=mlp", data=digits)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a = rec.context.new_model()
    assert torch.equal(torch.rand(3), expected)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), rec.context.new_model().parameters()))
