"""Every file under conf/ composes into typed options; each default has one home; variants follow their parents.

The rule (README, "Defaults"): the channel layer and the zoo (models, data sets) are libraries, so their signatures
hold their defaults and conf/channel, conf/model, conf/data restate none of them; every other group has its values
in conf/ only and its option dataclasses declare types, no defaults.
"""
import dataclasses
import inspect
import typing
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from conftest import CONF, compose

GROUPS = ("channel", "model", "data", "train", "link", "experiment", "baseline", "scheme", "hydra/launcher")
LIBRARY_GROUPS = ("channel", "model", "data")


def _options(group):
    return sorted(p.stem for p in (Path(CONF) / group).glob("*.yaml"))


def test_every_conf_file_is_covered_here():
    files = {str(p.relative_to(CONF)) for p in Path(CONF).rglob("*.yaml")}
    covered = {"sweep.yaml"} | {f"{g}/{n}.yaml" for g in GROUPS for n in _options(g)}
    assert files == covered, f"add the new group to GROUPS: {sorted(files - covered)}"


@pytest.mark.parametrize("name", _options("channel"))
def test_channel_files_build_channels(name):
    from channels import make_channel
    from experiments.config import container
    cfg = compose(f"channel={name}")
    ch = make_channel(**container(cfg.channel))
    assert ch.csi == cfg.channel.csi and ch.signal_power == cfg.channel.signal_power


@pytest.mark.parametrize("name", _options("model"))
def test_model_files_build_models(name):
    from airnet.zoo.models import ModelSpec
    from experiments.config import container
    cfg = compose(f"model={name}")
    shape = (3, 32, 32) if name == "resnet20" else (1, 8, 8)
    model = ModelSpec(cfg.model.name, container(cfg.model.kwargs)).build(shape, 10)
    assert model(torch.zeros(2, *shape)).shape == (2, 10)


@pytest.mark.parametrize("name", _options("data"))
def test_data_files_compose_and_name_their_root(name):
    from airnet.config.options import OptionError
    from experiments.config import build_context, experiment_options, run_options
    cfg = compose(f"data={name}", "cache_dir=null")
    assert cfg.data.name == name and 0 < cfg.data.val_fraction < 1
    if OmegaConf.is_missing(cfg.data, "root"):
        with pytest.raises(OptionError, match=rf"{name}.*data.root"):
            build_context(compose(f"data={name}", "cache_dir=null", "data.root=null"), run_options(cfg),
                          experiment_options(cfg))


@pytest.mark.parametrize("name", _options("experiment"))
def test_experiment_files_build_runs(name):
    from experiments.config import experiment_options, run_options, scheme_runs, train_settings
    from airnet.side_info.protection import LinkOptions
    from airnet.config.options import build_options
    cfg = compose(f"experiment={name}")
    exp = experiment_options(cfg)
    runs = scheme_runs(cfg, exp)                     # every scheme's options, typed
    assert [r.name for r in runs][:len(exp.schemes)] == list(exp.schemes)
    run_options(cfg), train_settings(cfg), build_options(LinkOptions, OmegaConf.to_container(cfg.link), "link")


@pytest.mark.parametrize("name", _options("baseline"))
def test_baseline_files_name_registered_schemes(name):
    from experiments.config import experiment_options, scheme_kind, scheme_names
    from airnet.schemes import SCHEMES
    cfg = compose(f"baseline={name}")
    assert all(scheme_kind(cfg, s) in SCHEMES for s in scheme_names(cfg, experiment_options(cfg)))


@pytest.mark.parametrize("name", _options("train") + _options("link"))
def test_train_and_link_files_build(name):
    from airnet.config.options import build_options
    from airnet.side_info.protection import LinkOptions
    from airnet.training.loop import TrainSettings
    group = "train" if name in _options("train") else "link"
    cfg = compose(f"{group}={name}")
    cls = TrainSettings if group == "train" else LinkOptions
    build_options(cls, OmegaConf.to_container(cfg[group]), group)


def test_launcher_files_compose():
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="the slurm launcher config needs submitit")
    for name in _options("hydra/launcher"):
        compose(f"hydra/launcher={name}")


def _library_factory(group, name):
    from channels import channel_factory
    from airnet.zoo.data import DATASETS
    from airnet.zoo.models import MODELS
    return {"channel": lambda: channel_factory(name), "model": lambda: MODELS[name].factory,
            "data": lambda: DATASETS[name][0]}[group]()


@pytest.mark.parametrize("group,name", [(g, n) for g in LIBRARY_GROUPS for n in _options(g)])
def test_library_defaults_live_in_signatures_only(group, name):
    from experiments.defaults import signature_defaults
    defaults = signature_defaults(_library_factory(group, name))
    own = OmegaConf.to_container(OmegaConf.load(Path(CONF) / group / f"{name}.yaml"))
    own.pop("defaults", None)
    own_options = own.get("kwargs", {}) if group == "model" else own
    restated = [k for k, v in own_options.items() if k in defaults and v == defaults[k]]
    assert not restated, f"conf/{group}/{name}.yaml restates the signature defaults of {restated}"
    composed = compose(f"{group}={name}")[group]
    options = composed.kwargs if group == "model" else composed
    params = set(inspect.signature(_library_factory(group, name)).parameters)
    assert set(options) - {"name"} <= params                                  # every key is a real option
    for k, v in defaults.items():                                            # and takes the signature's value
        if k not in own_options:
            assert OmegaConf.to_container(options)[k] == v


def _dataclasses_of(cls, seen):
    if cls in seen:
        return
    seen.add(cls)
    for f in dataclasses.fields(cls):
        for tp in [typing.get_type_hints(cls)[f.name], *typing.get_args(typing.get_type_hints(cls)[f.name])]:
            for inner in [tp, *typing.get_args(tp)]:
                if isinstance(inner, type) and dataclasses.is_dataclass(inner):
                    _dataclasses_of(inner, seen)


def test_configured_option_dataclasses_declare_no_defaults():
    from airnet.config.run import ExperimentOptions, RunOptions
    from airnet.schemes import SCHEMES
    from airnet.side_info.protection import LinkOptions
    from airnet.training.distillation import distillation_loss
    from airnet.training.loop import TrainSettings
    seen = set()
    for cls in (TrainSettings, LinkOptions, RunOptions, ExperimentOptions, *(s.Options for s in SCHEMES.values())):
        _dataclasses_of(cls, seen)
    with_default = [f"{c.__name__}.{f.name}" for c in seen for f in dataclasses.fields(c)
                    if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING]
    assert len(seen) > 10 and not with_default
    params = inspect.signature(distillation_loss).parameters     # the KD weights come from the scheme YAML
    assert params["temperature"].default is params["alpha"].default is inspect.Parameter.empty


# restated on purpose: a variant pins what it is whatever its parent becomes (structured pruning is never RigL, so
# scheme.pruning_kd.method=rigl must not break the structured variants; the RigL variant stays unstructured)
PINNED = {"expansion_structured": ["prune.method"], "uep_structured": ["prune.method"],
          "pruning_kd_structured": ["method"], "pruning_kd_assistants": ["method"], "pruning_kd_rigl": ["structure"]}


def _variants():
    out = []
    for name in _options("scheme"):
        raw = OmegaConf.to_container(OmegaConf.load(Path(CONF) / "scheme" / f"{name}.yaml"))
        if "extends" in raw:
            out.append((name, raw))
    return out


@pytest.mark.parametrize("name,raw", _variants(), ids=[n for n, _ in _variants()])
def test_variants_state_only_what_differs_from_their_parent(name, raw):
    from experiments.config import scheme_values
    cfg = compose()
    parent = scheme_values(cfg, raw["extends"])

    def restated(own, base, path=""):
        out = []
        for k, v in own.items():
            if isinstance(v, dict) and isinstance(base.get(k), dict):
                out += restated(v, base[k], f"{path}{k}.")
            elif k in base and base[k] == v:
                out.append(path + k)
        return out

    own = {k: v for k, v in raw.items() if k != "extends"}
    assert restated(own, parent) == PINNED.get(name, []), f"conf/scheme/{name}.yaml restates its parent's keys"


def test_pinned_keys_hold_when_the_parent_changes():
    from experiments.config import scheme_options
    cfg = compose("scheme.pruning_kd.method=rigl", "scheme.pruning_kd.structure=unstructured")
    for name in ("pruning_kd_structured", "pruning_kd_assistants"):
        assert scheme_options(cfg, name).method == "iterative_magnitude"
    assert scheme_options(cfg, "expansion_structured").prune.method == "iterative_magnitude"
    assert scheme_options(cfg, "pruning_kd_rigl").method == "rigl"


def test_variants_follow_command_line_overrides_of_their_parents():
    from experiments.config import scheme_kind, scheme_options
    cfg = compose("scheme.pruning_kd.steps=5", "scheme.expansion.factor=3", "scheme.spectrum.epochs=7",
                  "scheme.digital_capacity.bits=[3]", "+scheme.pruning_kd_rigl.steps=2")
    assert scheme_options(cfg, "pruning_kd_structured").steps == 5
    assert scheme_options(cfg, "pruning_kd_structured").structure == "structured"
    assert scheme_options(cfg, "expansion_structured").prune.steps == 5
    assert scheme_options(cfg, "expansion_structured").prune.structure == "structured"
    assert scheme_options(cfg, "uep_structured").factor == 3 and scheme_options(cfg, "uep_structured").prune.steps == 5
    assert scheme_options(cfg, "spectrum_ordered").epochs == 7
    assert scheme_options(cfg, "digital_amc").bits == (3,) and scheme_options(cfg, "digital_ldpc").bits == (3,)
    assert scheme_options(cfg, "pruning_kd_rigl").steps == 2                 # a variant's own override wins
    assert [scheme_kind(cfg, n) for n in ("pruning_kd_rigl", "uep_structured", "digital_ldpc", "spectrum_ordered")] \
        == ["pruning_kd", "uep", "digital_ldpc", "spectrum"]


def test_circular_and_unknown_parents_are_named(tmp_path):
    from airnet.config.options import OptionError
    from experiments.config import scheme_options
    with pytest.raises(OptionError, match=r"scheme\.uep\.extends must name another scheme's options"):
        scheme_options(compose("scheme.uep.extends=nosuch"), "uep")
    with pytest.raises(OptionError, match="circular chain"):
        scheme_options(compose("+scheme.expansion.extends=uep"), "uep")


def test_variants_may_pin_their_design_snr_and_the_sweep_runs_them_only_there():
    from airnet.config.options import OptionError
    from airnet.run.sweep import Point
    from experiments.config import experiment_options, pinned_design, scheme_kind, scheme_runs
    cfg = compose("experiment=broadcast")
    runs = {r.name: r for r in scheme_runs(cfg, experiment_options(cfg))}
    assert [runs[f"digital_amc_at_{d}"].design_snr_db for d in (0, 10, 20)] == [0.0, 10.0, 20.0]
    assert runs["noise_injection"].design_snr_db is None and runs["digital_layered"].design_snr_db is None
    assert scheme_kind(cfg, "digital_amc_at_20") == "digital_amc"
    assert runs["digital_amc_at_0"].config_id == runs["digital_amc_at_20"].config_id   # same options; the key differs
    assert Point(0, 20.0, 1.0, 5.0, runs["digital_amc_at_20"]).key()["design_snr_db"] == 20.0
    with pytest.raises(OptionError, match=r"scheme\.digital_amc_at_0\.design_snr_db must be a finite number"):
        pinned_design(compose("scheme.digital_amc_at_0.design_snr_db=high"), "digital_amc_at_0")


def test_a_run_folder_name_is_capped_and_stays_distinct():
    from experiments.sweep import RUN_NAME_MAX, run_name

    assert run_name("") == "default" and run_name("model=mlp") == "model=mlp"
    a, b = (run_name(f"experiment.snr_db=[{','.join(map(str, range(k, k + 60)))}]") for k in (0, 1))
    assert len(a) == len(b) == RUN_NAME_MAX and a != b and a.startswith("experiment.snr_db=[0,1,2,")


def test_the_misspelt_key_check_composes_only_for_keys_it_cannot_vouch_for(monkeypatch):
    import hydra
    from experiments import sweep

    assert sweep.unknown_key(["cache_dri=x"]).startswith("unknown option cache_dri; did you mean cache_dir?")
    assert sweep.unknown_key(["modle=mlp"]).startswith("unknown option modle; did you mean model?")

    def no_compose(*a, **k):
        raise AssertionError("composed")
    monkeypatch.setattr(hydra, "compose", no_compose)
    # config groups and sweep.yaml's own keys exist: the main job's experiment=snr_sweep costs no composition
    assert sweep.unknown_key(["experiment=snr_sweep", "model=mlp", "cache_dir=x", "progress=false"]) is None
    # and so do Hydra's own keys (its schema): a job run into a chosen folder
    assert sweep.unknown_key(["hydra.run.dir=out/x", "hydra.job.chdir=false", "cache_dir=x"]) is None
    monkeypatch.undo()
    assert sweep.unknown_key(["hydra.run.dirr=out/x"]) == "unknown option hydra.run.dirr"
    assert not sweep._known_top_level("hydra.launcher.n_jobs")     # an unset node (???): left to the composition
