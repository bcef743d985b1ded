import gzip
import json
import pickle

import numpy as np
import pytest
import torch

from channels import make_channel
from airnet.zoo.data import load_data
from airnet.delivery.evaluation import accuracy_of_vectors, accuracy_of_vectors_loop, evaluate_over_channel
from airnet.zoo.models import build_model, num_parameters
from airnet.training.noise import ChannelNoise
from airnet.zoo.params import ParamLayout, load_vector, model_vector
from airnet.training.loop import TrainSettings, View, train_model
from conftest import train_settings
from airnet.delivery.plan import TransmissionPlan
from airnet.delivery.transmit import transmit_vector


def test_param_vector_roundtrip():
    torch.manual_seed(0)
    m = build_model("cnn", (1, 8, 8), 10)
    w = model_vector(m)
    assert w.numel() == num_parameters(m) == ParamLayout.of(m).total
    m2 = build_model("cnn", (1, 8, 8), 10)
    load_vector(m2, w)
    assert torch.equal(model_vector(m2), w)


@pytest.mark.parametrize("name,shape", [("mlp", (1, 8, 8)), ("cnn", (1, 28, 28)), ("resnet20", (3, 32, 32))])
def test_models_forward(name, shape):
    m = build_model(name, shape, 10)
    assert m(torch.zeros(2, *shape)).shape == (2, 10)
    if name == "resnet20":
        assert 265_000 < num_parameters(m) < 280_000  # ResNet-20 has ~0.27M parameters


def test_transmit_vector_noise_and_plan(gen):
    w = torch.randn(2001, generator=gen)
    rx = transmit_vector(w, make_channel("awgn"), 10.0, 64, generator=gen)
    assert rx.shape == (64, 2001)
    err = (rx - w).pow(2).mean().item()
    assert err == pytest.approx(w.pow(2).mean().item() / 10, rel=0.03)
    assert TransmissionPlan.full(2001).channel_uses == 1001
    hi = transmit_vector(w, make_channel("awgn"), 90.0, 2, generator=gen)
    assert torch.allclose(hi, w.expand(2, -1), atol=1e-3)


def test_vmap_evaluation_matches_loop(digits, gen):
    torch.manual_seed(0)
    m = build_model("cnn", digits.input_shape, 10)
    rx = transmit_vector(model_vector(m), make_channel("rayleigh"), 5.0, 6, generator=gen)
    a = accuracy_of_vectors(m, rx, digits.x_test, digits.y_test, batch_size=100, realization_chunk=4,
                            strategy="vmap")
    b = accuracy_of_vectors_loop(m, rx, digits.x_test, digits.y_test)
    assert torch.equal(a, b)
    assert torch.equal(accuracy_of_vectors(m, rx, digits.x_test, digits.y_test), b)
    assert a.std() > 0  # realizations differ


def scored_rows(monkeypatch) -> list[int]:
    """Rows each scoring pass of ``accuracy_of_vectors`` runs, recorded from here on."""
    import airnet.delivery.evaluation as ev
    rows, score = [], ev._score

    def counting(model, vecs, *args):
        rows.append(vecs.shape[0])
        return score(model, vecs, *args)

    monkeypatch.setattr(ev, "_score", counting)
    return rows


def test_identical_received_models_are_scored_once_with_the_same_accuracies(digits, gen, monkeypatch):
    from airnet.delivery.evaluation import distinct_rows
    torch.manual_seed(0)
    m = build_model("mlp", digits.input_shape, 10)
    rx = transmit_vector(model_vector(m), make_channel("awgn"), 0.0, 3, generator=gen)
    w = model_vector(m)
    near = w.clone()
    near[-1] = torch.nextafter(near[-1], torch.tensor(float("inf")))       # one bit apart: a different model
    # a decoded payload (w) on four draws, the fallback (zeros) on two, -0.0 apart from 0.0 in one entry
    zero, negzero = torch.zeros_like(w), torch.zeros_like(w)
    negzero[7] = -0.0
    vecs = torch.stack([w, rx[0], w, zero, near, w, rx[1], zero, negzero, w, rx[2]])
    distinct, index = distinct_rows(vecs)
    assert distinct.shape[0] == 7 and index.tolist() == [0, 1, 0, 2, 3, 0, 4, 2, 5, 0, 6]
    assert torch.equal(distinct[index].view(torch.int32), vecs.view(torch.int32))
    accuracy_of_vectors(m, vecs[:1], digits.x_test, digits.y_test)          # the scoring plan, measured first
    scored = scored_rows(monkeypatch)
    accs = accuracy_of_vectors(m, vecs, digits.x_test, digits.y_test)
    assert (len(accs), scored) == (11, [7])
    assert torch.equal(accs, accuracy_of_vectors_loop(m, vecs, digits.x_test, digits.y_test))
    assert distinct_rows(rx)[0] is rx                                      # all different: nothing copied


def test_noise_injection_matches_channel_and_passes_gradient():
    w = torch.randn(300, requires_grad=True)
    ch = make_channel("awgn")
    noisy = ChannelNoise(ch, 5.0, generator=torch.Generator().manual_seed(3))(w)
    ref = transmit_vector(w.detach(), ch, 5.0, 1, generator=torch.Generator().manual_seed(3))[0]
    assert torch.allclose(noisy.detach(), ref, atol=1e-6)
    noisy.sum().backward()
    assert torch.equal(w.grad, torch.ones(300))


def _train(digits, snr, seed=0, epochs=20):
    torch.manual_seed(seed)
    m = build_model("cnn", digits.input_shape, 10)
    g = torch.Generator().manual_seed(seed)
    noise = ChannelNoise(make_channel("awgn"), snr, generator=g) if snr is not None else None
    train_model(m, digits.x_train, digits.y_train, train_settings(epochs=epochs), g, weight_noise=noise)
    return m


def test_training_is_bit_identical_for_same_seed(digits):
    a = model_vector(_train(digits, 5.0, epochs=2))
    b = model_vector(_train(digits, 5.0, epochs=2))
    assert torch.equal(a, b)


@pytest.mark.parametrize("name,channel", [("cnn", "rayleigh"), ("mlp", "rayleigh"), ("mlp", "awgn")])
def test_in_place_noise_and_direct_clean_steps_equal_the_functional_path_bit_for_bit(digits, name, channel):
    # the fast paths (module called directly; straight-through noise added in place and undone) must give the
    # weights of the generic path: a functional call on the perturbed flat vector (forced by a noise without
    # `perturbation`, and by a view with an all-ones mask of its own for clean training)
    def train(noisy: bool, fast: bool) -> torch.Tensor:
        torch.manual_seed(0)
        m = build_model(name, digits.input_shape, 10)
        g = torch.Generator().manual_seed(1)
        kwargs = {"block_length": 4} if channel == "rayleigh" else {}
        noise = ChannelNoise(make_channel(channel, **kwargs), 5.0, generator=g) if noisy else None
        if noise is not None and not fast:
            noise = (lambda f: (lambda w: f(w)))(noise)            # a plain callable: the generic path
        ones = None if fast or noisy else [View(torch.ones(ParamLayout.of(m).total, dtype=torch.bool))]
        train_model(m, digits.x_train[:256], digits.y_train[:256], train_settings(epochs=2), g,
                    weight_noise=noise, views=ones)
        assert len({p.untyped_storage().data_ptr() for p in m.parameters()}) == len(list(m.parameters()))
        return model_vector(m)

    for noisy in (False, True):
        assert torch.equal(train(noisy, fast=True), train(noisy, fast=False)), noisy


@pytest.mark.parametrize("name", ["cnn", "mlp"])
def test_masked_training_on_the_module_path_equals_the_flat_vector_path_bit_for_bit(digits, name):
    # a hard mask (pruned fine-tunes) with QAT, with channel noise by a transmission plan, or alone, distilled:
    # the module's own forward on the already-masked parameters, its gradient masked, must give the weights, the
    # zero signs and the losses of the flat-vector path (forced here by the same mask passed as an explicit view)
    from airnet.delivery.plan import uniform_expansion_plan
    from airnet.digital.quantization import QuantizationNoise
    from airnet.training.loop import Distillation, training_kind
    torch.manual_seed(0)
    teacher = build_model(name, digits.input_shape, 10).eval()

    def train(kind: str, flat_path: bool) -> tuple[torch.Tensor, list[float]]:
        torch.manual_seed(1)
        m = build_model(name, digits.input_shape, 10)
        layout = ParamLayout.of(m)
        g = torch.Generator().manual_seed(2)
        mask = torch.rand(layout.total, generator=torch.Generator().manual_seed(3)) < 0.4
        noise = {"mask": None, "qat": QuantizationNoise(3, layout.layer_of(), mask),
                 "channel": ChannelNoise(make_channel("awgn"), 5.0, plan=uniform_expansion_plan(mask, 2),
                                         generator=g)}[kind]
        kd = Distillation(teacher, 4.0, 0.7)
        kw = dict(views=[View(mask, noise)]) if flat_path else dict(weight_noise=noise)
        path = training_kind(kw.get("weight_noise"), mask, kd, kw.get("views"), None).split(":")[0]
        assert path == ("vector" if flat_path else "module")
        losses = train_model(m, digits.x_train[:256], digits.y_train[:256],
                             train_settings(epochs=2, batch_size=32, weight_decay=1e-4), g, mask=mask, distill=kd, **kw)
        w = model_vector(m)
        assert not bool(w[~mask].any())                      # pruned weights stay zero
        return w.view(torch.int32), losses

    for kind in ("mask", "qat", "channel"):
        (a, la), (b, lb) = train(kind, flat_path=True), train(kind, flat_path=False)
        assert torch.equal(a, b) and la == lb, kind          # int32 views: -0.0 and 0.0 count as different


@pytest.mark.slow
def test_noise_injection_beats_clean_at_low_snr(digits):
    ch = make_channel("awgn")
    clean, robust = _train(digits, None), _train(digits, 5.0)
    res = {}
    for name, m in (("clean", clean), ("robust", robust)):
        res[name] = evaluate_over_channel(m, model_vector(m), ch, 0.0, 32, digits.x_test, digits.y_test,
                                          torch.Generator().manual_seed(9))
    # measured: clean ~0.45, noise-injected ~0.68 at 0 dB (32 realizations)
    assert res["robust"].mean > res["clean"].mean + 0.1
    high = evaluate_over_channel(clean, model_vector(clean), ch, 40.0, 4, digits.x_test, digits.y_test)
    assert high.mean > 0.95


def test_digits_splits_are_disjoint_and_seeded(digits):
    assert digits.input_shape == (1, 8, 8)
    n = len(digits.x_train) + len(digits.x_val) + len(digits.x_test)
    assert n == 1797
    again = load_data("digits", seed=0)
    assert torch.equal(again.x_test, digits.x_test)
    assert float(digits.x_train.max()) <= 1.0


def test_digits_read_from_the_package_file_equal_sklearns_loader():
    from sklearn.datasets import load_digits

    from airnet.zoo.data import digits_arrays

    images, labels = digits_arrays()
    ref = load_digits()
    assert images.dtype == ref.images.dtype and np.array_equal(images, ref.images)
    assert np.array_equal(labels, ref.target)


def _write_idx(path, arr):
    arr = np.asarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + arr.tobytes())


def test_mnist_loader_reads_local_idx_files(tmp_path):
    rng = np.random.default_rng(0)
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (50, 28, 28)))
    _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", rng.integers(0, 10, 50))
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (20, 28, 28)))
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", rng.integers(0, 10, 20))
    d = load_data("mnist", str(tmp_path), val_fraction=0.2)
    assert d.x_train.shape == (40, 1, 28, 28) and d.x_val.shape == (10, 1, 28, 28) and d.x_test.shape[0] == 20
    assert 0.0 <= float(d.x_train.min()) and float(d.x_train.max()) <= 1.0


def test_cifar_loader_reads_local_pickles(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ["data_batch_1", "test_batch"]:
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": rng.integers(0, 256, (10, 3072), dtype=np.uint8),
                         b"labels": list(rng.integers(0, 10, 10))}, f)
    d = load_data("cifar10", str(tmp_path), val_fraction=0.2)
    assert d.x_train.shape == (8, 3, 32, 32) and d.x_test.shape == (10, 3, 32, 32)


@pytest.mark.parametrize("call,msg", [
    (lambda: load_data("imagenet"), "imagenet"),
    (lambda: load_data("mnist"), "data.root"),
    (lambda: load_data("mnist", "/nonexistent/mnist"), "/nonexistent/mnist"),
    (lambda: build_model("vgg", (1, 8, 8), 10), "vgg"),
    (lambda: transmit_vector(torch.ones(3, 2), make_channel("awgn"), 1.0), "1-D"),
    (lambda: transmit_vector(torch.ones(4), make_channel("awgn"), 1.0, plan=TransmissionPlan.full(5)), "5"),
    (lambda: TrainSettings(epochs=-1, batch_size=64, lr=1e-3, weight_decay=0.0, noise_stream="auto",
                           noise_finetune_epochs=0, noise_finetune_lr=1e-3, precision="float32"), "epochs must be in [0, inf), got -1"),
])
def test_bad_inputs(call, msg):
    with pytest.raises((ValueError, FileNotFoundError)) as exc:
        call()
    assert msg in str(exc.value)


@pytest.mark.parametrize("name, kwargs", [("mlp", dict(hidden=())), ("mlp", dict(hidden=(64,))),
                                          ("mlp", dict(hidden=(32, 16))), ("cnn", dict(channels=(16, 8)))])
def test_grouped_forward_equals_each_parameter_set_alone(digits, name, kwargs):
    from airnet.zoo.params import ParamLayout, call_with_vector

    torch.manual_seed(0)
    m = build_model(name, digits.input_shape, 10, **kwargs)
    layout = ParamLayout.of(m)
    vecs = model_vector(m) + 0.1 * torch.randn(5, layout.total)
    x = digits.x_test[:300].clone()            # cnn: 2 groups of sets (4 + 1) x 3 blocks of images (128, 128, 44)
    grouped = m.forward_grouped(layout.unflatten(vecs), x)
    assert grouped.shape == (5, 300, 10) and torch.equal(x, digits.x_test[:300])   # the input is left alone
    for k in range(5):
        torch.testing.assert_close(grouped[k], call_with_vector(m, vecs[k], x, layout), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_all_evaluation_strategies_agree_and_bfloat16_flips_few_predictions(digits, name):
    torch.manual_seed(0)
    m = build_model(name, digits.input_shape, 10)
    train_model(m, digits.x_train, digits.y_train, train_settings(epochs=3), torch.Generator().manual_seed(0))
    rx = transmit_vector(model_vector(m), make_channel("awgn"), 15.0, 8, generator=torch.Generator().manual_seed(1))
    ref = accuracy_of_vectors(m, rx, digits.x_test, digits.y_test, strategy="loop")
    for strategy in ("copy", "vmap", "auto", "grouped"):
        assert torch.equal(accuracy_of_vectors(m, rx, digits.x_test, digits.y_test, strategy=strategy), ref)
    bf16 = accuracy_of_vectors(m, rx, digits.x_test, digits.y_test, precision="bfloat16")
    assert (bf16 - ref).abs().max().item() <= 3 / len(digits.y_test)       # at most 3 of 359 images flip
    assert torch.equal(model_vector(m), model_vector(m))                   # the model itself is untouched


def test_scoring_plan_is_measured_once_and_reused_from_its_file(digits, tmp_path, monkeypatch):
    import airnet.delivery.evaluation as ev
    m = build_model("cnn", digits.input_shape, 10)
    calls = []
    real = ev._measure
    monkeypatch.setattr(ev, "_measure", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(ev, "_PLANS", {})
    monkeypatch.setenv("AIRNET_CACHE_HOME", str(tmp_path / "user"))
    path = tmp_path / "plans.json"
    plan = ev.tune_scoring(m, digits.x_test, path)
    assert plan.strategy in ev.strategies_for(m) and 1 <= plan.batch_size <= len(digits.x_test)
    assert ev.tune_scoring(m, digits.x_test, path) == plan and len(calls) == 1         # remembered in-process
    monkeypatch.setattr(ev, "_PLANS", {})
    assert ev.tune_scoring(m, digits.x_test, path) == plan and len(calls) == 1         # read back from the file
    monkeypatch.setattr(ev, "_PLANS", {})
    wider = build_model("cnn", digits.input_shape, 10, channels=(8, 16))              # another architecture
    ev.tune_scoring(wider, digits.x_test, path)
    assert len(calls) == 2 and len(json.loads(path.read_text())) == 2
    assert json.loads((tmp_path / "user" / "scoring-plans.json").read_text()) == json.loads(path.read_text())
    monkeypatch.setattr(ev, "_PLANS", {})
    assert ev.tune_scoring(m, digits.x_test) == plan and len(calls) == 2              # the machine's own file
    monkeypatch.setenv("AIRNET_CACHE_HOME", "none")
    assert ev.user_plan_file() is None


@pytest.mark.parametrize("name", ["cnn", "resnet20"])
def test_scoring_batch_size_does_not_change_accuracies(digits, name):
    # the tuned batch size changes speed only: every candidate gives the loop's accuracies
    torch.manual_seed(0)
    if name == "resnet20":
        x = torch.randn(96, 3, 32, 32)
        m = build_model("resnet20", (3, 32, 32), 10, width=8, blocks=1).eval()
        y = m(x).argmax(-1)                       # labels the model gets right: a flip would show
    else:
        x, y = digits.x_test, digits.y_test
        m = build_model(name, digits.input_shape, 10)
    rx = transmit_vector(model_vector(m), make_channel("awgn"), 10.0, 3, generator=torch.Generator().manual_seed(1))
    ref = accuracy_of_vectors(m, rx, x, y, strategy="loop", batch_size=len(x))
    for b in (16, 32, 64, 256):
        assert torch.equal(accuracy_of_vectors(m, rx, x, y, strategy="copy", batch_size=b), ref), b


def test_resnet_runs_channels_last_on_cpu_with_its_own_keys_and_the_same_predictions(digits):
    from airnet.zoo.models import runs_channels_last
    from conftest import recipes_and_options
    cpu = torch.device("cpu")
    torch.manual_seed(0)
    net = build_model("resnet20", (3, 32, 32), 10, width=8, blocks=1)
    assert runs_channels_last(net, cpu) and not runs_channels_last(net, torch.device("cuda"))
    assert not any(runs_channels_last(build_model(n, digits.input_shape, 10), cpu) for n in ("mlp", "cnn"))
    seen = []
    net.register_forward_pre_hook(lambda m, a: seen.append(a[0].is_contiguous(memory_format=torch.channels_last)))
    x = torch.randn(96, 3, 32, 32)
    y = torch.randint(0, 10, (96,), generator=torch.Generator().manual_seed(0))
    train_model(net, x, y, train_settings(epochs=1, batch_size=32), torch.Generator().manual_seed(0))
    assert seen == [True] * 3                                       # every training step
    net.eval()
    with torch.no_grad():
        labels = net(x).argmax(-1)                                  # the contiguous layout's predictions
    seen.clear()
    assert accuracy_of_vectors(net, model_vector(net)[None], x, labels).item() == 1.0 and all(seen) and seen
    resnet, _ = recipes_and_options("model=resnet20", "model.kwargs={width: 4, blocks: 1}")
    cnn, _ = recipes_and_options()
    assert resnet.key(label="x")["memory_format"] == "channels_last" and "memory_format" not in cnn.key(label="x")


def test_a_teachers_logits_are_computed_once_per_teacher_data_and_batch_size(digits):
    from airnet.training import loop
    from airnet.training.loop import Distillation, teacher_logits, tally_training

    teacher = build_model("cnn", digits.input_shape, 10)
    x, y = digits.x_train[:200], digits.y_train[:200]
    first = teacher_logits(teacher, x, 64)
    with torch.no_grad():
        direct = torch.cat([teacher.eval()(x[i:i + 64]) for i in range(0, 200, 64)])
    assert torch.equal(first, direct) and teacher_logits(teacher, x, 64) is first            # kept
    assert teacher_logits(teacher, x, 50) is not first                                       # other batches
    assert teacher_logits(teacher, x.clone(), 64) is not first                               # other data
    with torch.no_grad():
        next(teacher.parameters()).add_(0.1)                                                 # changed teacher
    assert not torch.equal(teacher_logits(teacher, x, 64), first)

    def student() -> torch.Tensor:
        torch.manual_seed(1)
        m = build_model("cnn", digits.input_shape, 10)
        train_model(m, x, y, train_settings(epochs=2, batch_size=32), torch.Generator().manual_seed(2),
                    distill=Distillation(teacher, 4.0, 0.7))
        return model_vector(m)

    loop._LOGITS.clear()
    cold = student()                          # computes the logits
    assert torch.equal(student(), cold)       # the kept logits: the same training bit for bit
    with tally_training() as tally:           # a dry run counts the teacher's passes as a real run spends them
        for _ in range(3):
            train_model(build_model("cnn", digits.input_shape, 10), x, y, train_settings(epochs=1, batch_size=32),
                        torch.Generator().manual_seed(2), distill=Distillation(teacher, 4.0, 0.7))
    assert (tally.calls, tally.teacher_passes) == (3, 200)
