"""Plug-ins from outside the package: a scheme and a channel registered here run through the sweep driver."""
import csv
import math
from dataclasses import dataclass

import pytest
import torch

from channels import Channel, register_channel
from airnet.options import OptionError, build_options
from airnet.schemes import make_scheme, register_scheme
from airnet.schemes.single import SingleModelScheme
from airnet.transmission import TransmissionPlan
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
class RepeatOptions:
    copies: int


@register_scheme("toy_repeat")
class ToyRepeat(SingleModelScheme):
    """The clean model with every weight sent ``copies`` times (needs a budget of ``copies`` x the model)."""

    Options = RepeatOptions

    def model(self, design):
        return self.setup.teacher()

    def plan(self, model, design, reals):
        n = self.setup.num_params
        if self.options.copies * n > reals:
            return None
        return TransmissionPlan.from_repeats(torch.full((n,), self.options.copies)), {}


@pytest.fixture
def plugin_conf(tmp_path):
    """A researcher's own config folder holding the toy scheme's YAML."""
    folder = tmp_path / "my_conf" / "scheme"
    folder.mkdir(parents=True)
    (folder / "toy_repeat.yaml").write_text("# @package scheme.toy_repeat\ncopies: 2\n")
    return tmp_path / "my_conf"


def test_toy_scheme_and_channel_run_through_the_sweep_driver(tmp_path, plugin_conf):
    from experiments.sweep import main
    cfg = compose(f"hydra.searchpath=[file://{plugin_conf}]", "+scheme=toy_repeat", "channel.name=toy_phase",
                  "+channel.phase=0.7", "model=mlp", "train.epochs=3", "experiment.snr_db=[0,40]",
                  "experiment.bandwidth_ratio=[2.0]", "experiment.num_realizations=8",
                  "experiment.schemes=[clean,toy_repeat]", "side_info.mode=free", f"cache_dir={tmp_path}/cache",
                  "progress=false")
    rows = main(cfg, tmp_path / "out")
    by = {(r["scheme"], float(r["snr_db"])): r for r in rows}
    assert set(by) == {(s, v) for s in ("clean", "toy_repeat") for v in (0.0, 40.0)}
    stored = list(csv.DictReader(open(tmp_path / "out" / "results.csv")))
    assert len(stored) == 4 and all(r["channel"] == "toy_phase" for r in stored)
    num = {k: {c: float(v) for c, v in r.items() if c in ("channel_uses", "budget_channel_uses", "acc_mean")}
           for k, r in by.items()}                       # rows may come back from the CSV as text
    rep = num[("toy_repeat", 0.0)]
    assert rep["channel_uses"] == 2 * num[("clean", 0.0)]["channel_uses"] <= rep["budget_channel_uses"]
    # the same model at 40 dB is received almost exactly; at 0 dB two combined copies beat one copy
    assert abs(num[("toy_repeat", 40.0)]["acc_mean"] - num[("clean", 40.0)]["acc_mean"]) < 0.01
    assert rep["acc_mean"] > num[("clean", 0.0)]["acc_mean"] + 0.05


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
    with pytest.raises(OptionError, match=r"no options for scheme 'toy_repeat'.*\+scheme=toy_repeat"):
        scheme_options(compose(), "toy_repeat")


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
    from conftest import setup_and_options
    setup, opts = setup_and_options("model=mlp", data=digits)
    with pytest.raises(TypeError, match="expects ExpansionOptions"):
        make_scheme("expansion", setup, opts["pruning_kd"], 100)


def test_new_model_leaves_global_rng_alone(digits):
    from conftest import setup_and_options
    setup, _ = setup_and_options("model=mlp", data=digits)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a = setup.new_model()
    assert torch.equal(torch.rand(3), expected)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), setup.new_model().parameters()))
