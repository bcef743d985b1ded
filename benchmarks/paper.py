"""Paper scale: ResNet-20 on CIFAR-shaped data (no CIFAR ships; random images with a class-dependent mean), each
figure against its floor measured in this run, and the projected time of the full paper sweep on this machine.

    python -m benchmarks paper [--quick]

Figures (one torch thread; on CUDA, when present, the same code runs on the GPU):
- one training epoch (50,000 images, batch 64), clean and with noise injection; floor: the network's conv and
  linear layers alone, each timed in isolation on its own batch-64 input, forward + backward (``layer_floor``),
  and for the noise, one ``normal_`` per weight per step. The forward FLOPs at this process's matmul rate are
  shown too, but they are no floor here: oneDNN's 3x3 convolutions run faster than the dense matmul rate;
- scoring K=32 draws (different models) on 10,000 test images with the measured scoring plan, and with the fixed
  rule it replaced (1,024-image batches); floor: the layers alone, forward;
- the side-information chain at 272k weights: an unstructured pruning mask of ResNet-20 (272,474 weights, half
  kept: about 272k bits) through 5G NR LDPC + QPSK at rate ~1/2 and back over AWGN; floor: one fused add per
  decoder edge message per iteration at this process's memory-bound add rate;
- peak resident memory of this process;
- the projected sweep: 17 SNRs x 10 schemes x 32 draws x 3 seeds. The trainings (count and sample passes per
  scheme) and the deliveries come from a dry pass (``airnet.run.plan``) of that sweep on the built-in digits, the
  same schemes, SNRs and seeds; each kind of training's epochs (clean, noise injection, masked with QAT or
  channel noise, nested views) are then priced at ResNet-20's measured epoch time for that kind, the
  scoring at its measured per-draw time on 10,000 images, and the delivery scaled by the weight count
  (272,474 / 6,090). Measured parts are scaled from shorter runs (fewer steps, images, draws): the costs are linear
  in them. Rows add the changes one at a time: the measured scoring plan, ResNet-20's channels_last batches
  (the rows before it price the contiguous epoch and scoring, measured here too), the screened digital candidates
  (``screen_epochs``), and the sequential-draw rule, whose draws per point are those of a real run of the same
  sweep on the digits for one seed (a 359-image test set: per-draw accuracies vary more than on 10,000 images,
  so the rule stops later there than it would on CIFAR, and the figure errs high), and the identical received
  models scored once, as many per point as that run scored.
"""
from __future__ import annotations

import contextlib
import resource
import time
from typing import Any, Iterator

import torch

from airnet.run.plan import TEACHER_PASS_SHARE, SweepPlan
from airnet.zoo.precision import Precision, native_bf16
from benchmarks.common import Figure, best_of, cifar_like, forward_flops, layer_floor, matmul_peak

TRAIN_IMAGES, TEST_IMAGES, DRAWS, BATCH = 50_000, 10_000, 32, 64
SEQUENTIAL_FIRST, SEQUENTIAL_HALF_WIDTH = 8, 0.01      # the sequential-draw rule the projection also prices
PAPER_SNRS = [-10.0, -7.5, -5.0, -2.5, 0.0, 2.5, 5.0, 7.5, 10.0, 12.5, 15.0, 17.5, 20.0, 22.5, 25.0, 27.5, 30.0]
PAPER_SCHEMES = ["clean", "noise_injection", "pruning_kd", "expansion", "uep", "spectrum", "digital_capacity",
                 "digital_ldpc", "digital_amc", "digital_layered"]
PAPER_SEEDS = [0, 1, 2]


@contextlib.contextmanager
def contiguous_layout() -> Iterator[None]:
    """ResNet-20 as before channels_last (contiguous batches in training and scoring): the "before" rows."""
    from airnet.zoo.models import ResNet20

    was = ResNet20.channels_last_on_cpu
    ResNet20.channels_last_on_cpu = False
    try:
        yield
    finally:
        ResNet20.channels_last_on_cpu = was


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def epoch_times(steps: int, device: torch.device, clean_only: bool = False,
                precision: Precision = "float32") -> dict[str, float]:
    """Seconds of one 50,000-image epoch (from ``steps`` steps after a warm-up), clean, noise injection with the
    default (auto) and the fresh stream (``clean_only``: clean), training in ``precision``."""
    from channels import make_channel
    from airnet.training.loop import TrainSettings, train_model
    from airnet.training.noise import ChannelNoise
    from airnet.zoo.models import build_model

    x, y = cifar_like(BATCH * steps)
    x, y = x.to(device), y.to(device)
    out = {}
    variants = (("clean", None), ("noise (auto)", "auto"), ("noise (fresh)", "fresh"))
    for label, stream in variants[:1 if clean_only else 3]:
        def train(n_steps: int) -> None:
            torch.manual_seed(0)
            model = build_model("resnet20", (3, 32, 32), 10).to(device)
            g = torch.Generator(device=device).manual_seed(0)
            noise = None if stream is None else ChannelNoise(make_channel("awgn"), 5.0, generator=g, stream=stream)
            train_model(model, x[:BATCH * n_steps], y[:BATCH * n_steps],
                        TrainSettings(1, BATCH, 1e-3, 0.0, "auto", 0, 1e-3, precision),
                        g, weight_noise=noise)
            _sync(device)

        train(1)
        t = min(_timed(lambda: train(steps)) for _ in range(2))
        out[label] = t / (BATCH * steps) * TRAIN_IMAGES
    return out


def kind_epochs(device: torch.device, precision: Precision = "float32") -> dict[str, float]:
    """Seconds of one 50,000-image ResNet-20 epoch for the masked and multi-view kinds of training the paper sweep
    runs (:func:`airnet.training.loop.training_probe`: the fastest 2-epoch minus the fastest 1-epoch run on 8
    batches, the teacher's logits cancelled; a view counts as a pass): half the weights masked with QAT at 4 bits
    and KD (the digital candidates), masked with channel noise by a transmission plan and KD (the analog pruned
    fine-tunes), and 3 nested views with channel noise and KD (spectrum, on the flat-vector path; the layered
    model's nested widths are priced at it)."""
    from channels import make_channel
    from airnet.delivery.plan import uniform_expansion_plan
    from airnet.digital.quantization import QuantizationNoise
    from airnet.training.loop import Distillation, TrainSettings, View, training_probe
    from airnet.training.noise import ChannelNoise
    from airnet.zoo.models import build_model
    from airnet.zoo.params import ParamLayout

    x, y = cifar_like(BATCH * 8)
    x, y = x.to(device), y.to(device)
    torch.manual_seed(0)
    teacher = build_model("resnet20", (3, 32, 32), 10).to(device).eval()
    model = build_model("resnet20", (3, 32, 32), 10).to(device)
    layout = ParamLayout.of(model)
    g = torch.Generator(device=device).manual_seed(0)
    keep = torch.rand(layout.total, generator=g, device=device)
    masks = [keep < share for share in (1.0, 0.5, 0.25)]
    noise = ChannelNoise(make_channel("awgn"), 5.0, generator=g)
    planned = ChannelNoise(make_channel("awgn"), 5.0, plan=uniform_expansion_plan(masks[1], 1), generator=g)
    kd = Distillation(teacher, 4.0, 0.7)
    settings = TrainSettings(1, BATCH, 1e-3, 0.0, "auto", 0, 1e-3, precision)
    probes = {
        "mask, QAT 4 bits, KD": (1, dict(mask=masks[1], distill=kd,
                                         weight_noise=QuantizationNoise(4, layout.layer_of().to(device), masks[1]))),
        "mask, channel noise, KD": (1, dict(mask=masks[1], distill=kd, weight_noise=planned)),
        "mask, QAT 4 bits, KD, flat-vector path (before)": (1, dict(mask=masks[1], distill=kd, views=[View(
            masks[1], QuantizationNoise(4, layout.layer_of().to(device), masks[1]))])),
        "3 nested views, channel noise, KD": (3, dict(distill=kd, views=[View(m, noise) for m in masks]))}
    return {name: training_probe(model, x, y, settings, device, views, **kw)() * TRAIN_IMAGES
            for name, (views, kw) in probes.items()}


def kind_epoch(kind: str, clean: float, noisy: float, vector: dict[str, float]) -> float:
    """ResNet-20 epoch seconds for a kind of training named by :func:`airnet.training.loop.training_kind`."""
    if "views" in kind:
        return vector["3 nested views, channel noise, KD"]
    if "QuantizationNoise" in kind:
        return vector["mask, QAT 4 bits, KD"]
    if "mask" in kind:
        return vector["mask, channel noise, KD"]
    return clean if kind == "module" else noisy


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def scoring_times(images: int, k: int, device: torch.device, precision: Precision = "float32") -> dict[str, Any]:
    """Seconds to score 32 draws on 10,000 images (from ``k`` draws on ``images`` images), with the measured plan
    and with the fixed rule it replaced (copy, 1,024-image batches), in ``precision``."""
    from airnet.delivery.evaluation import accuracy_of_vectors, tune_scoring
    from airnet.zoo.models import build_model
    from airnet.zoo.params import model_vector

    torch.manual_seed(0)
    model = build_model("resnet20", (3, 32, 32), 10).to(device).eval()
    x, y = cifar_like(images, seed=1)
    x, y = x.to(device), y.to(device)
    w = model_vector(model)
    # k different received models (equal rows would be scored once)
    vecs = w + 1e-3 * torch.randn(k, w.numel(), generator=torch.Generator().manual_seed(2)).to(device)
    plan = tune_scoring(model, x, precision=precision)
    scale = DRAWS / k * TEST_IMAGES / images
    tuned = best_of(lambda: accuracy_of_vectors(model, vecs, x, y, precision=precision), 1) * scale
    old = best_of(lambda: accuracy_of_vectors(model, vecs, x, y, strategy="copy", batch_size=1024,
                                              precision=precision), 1) * scale
    return dict(tuned=tuned, old=old, plan=plan, flops=forward_flops(model, x[:1]))


def side_info_chain(device: torch.device, early_stop: bool) -> tuple[float, float, int]:
    """(seconds, floor seconds, bits) of ~272k mask bits through NR LDPC + QPSK over AWGN at 5 dB, one draw, 20
    iterations at most (``early_stop``: as the sweeps decode, stopping once every block checks; else all 20)."""
    from channels import make_channel
    from airnet.side_info.transports import LDPCTransport, nr_mcs_table, segment_bits

    bits = 272_474
    mcs = min(nr_mcs_table(), key=lambda m: abs(m.bits_per_symbol * m.rate - 1.0))     # QPSK near rate 1/2
    t = LDPCTransport(segment_bits(mcs, bits, 8448), 20, early_stop=early_stop)
    g = torch.Generator(device=device).manual_seed(0)
    payload = torch.randint(0, 2, (1, t.payload_bits), generator=g, device=device).float()
    ch = make_channel("awgn")
    t.send(payload, ch, 5.0, g)                                           # builds the codec once
    seconds = best_of(lambda: t.send(payload, ch, 5.0, g), 1)
    # floor: every Tanner-graph edge carries two messages per iteration, each at least one memory-bound op; NR
    # base graph 1 has 316 edges per 68 columns (lifted by Z): ~4.6 edges per coded bit
    coded = t.seg.codewords * t.seg.n
    per_edge_ops = 2 * 20 * round(316 / 68 * coded)
    buf = torch.empty(4_000_000, device=device)
    add = best_of(lambda: torch.add(buf, buf, out=buf)) / buf.numel()
    return seconds, per_edge_ops * add, bits


def paper_config(quick: bool, seeds: list[int], *overrides: str) -> Any:
    """The paper sweep's config on the built-in digits (``quick``: every 4th SNR)."""
    from hydra import compose, initialize_config_dir

    import experiments.config  # noqa: F401
    from experiments.sweep import conf_dir

    snrs = PAPER_SNRS[::4] if quick else PAPER_SNRS
    with initialize_config_dir(config_dir=conf_dir(), version_base="1.3"):
        return compose(config_name="sweep", overrides=[
            "cache_dir=null", "progress=false", f"experiment.schemes=[{','.join(PAPER_SCHEMES)}]",
            f"experiment.snr_db=[{','.join(map(str, snrs))}]", f"experiment.seeds=[{','.join(map(str, seeds))}]",
            f"experiment.num_realizations={DRAWS}", *overrides])


def counted_sweep(quick: bool, *overrides: str) -> tuple[SweepPlan, int, float]:
    """The dry-run plan of the paper sweep on the built-in digits (trainings, sample passes, deliveries), with the
    config ``overrides`` (e.g. ``scheme.digital_capacity.screen_epochs=0``: the digital candidates without
    screening)."""
    from experiments.config import (build_context, experiment_options, run_options, scheme_runs, train_settings)
    from airnet.run.plan import plan_sweep

    cfg = paper_config(quick, PAPER_SEEDS, *overrides)
    snrs = PAPER_SNRS[::4] if quick else PAPER_SNRS
    run, exp = run_options(cfg), experiment_options(cfg)
    context = build_context(cfg, run, exp)
    plan = plan_sweep(context, train_settings(cfg), scheme_runs(cfg, exp), exp.snr_db, exp.bandwidth_ratio,
                      exp.num_realizations, seeds=exp.seeds, design_snr_db=exp.design_snr_db)
    return plan, len(context.data.y_train), len(PAPER_SNRS) / len(snrs)


def sequential_draws(quick: bool) -> tuple[dict[str, float], dict[str, float]]:
    """Mean channel draws per point, and mean distinct models scored per point (``models_scored``: draws that
    deliver the same model bit for bit are scored once), by scheme, of the paper sweep run for real on the built-in
    digits (seed 0) with the sequential rule (a first batch of ``SEQUENTIAL_FIRST`` draws, doubled until the 95 %
    half-width of the point's accuracy is at most ``SEQUENTIAL_HALF_WIDTH``, at most ``DRAWS``)."""
    import tempfile
    from pathlib import Path

    from experiments.sweep import main

    with tempfile.TemporaryDirectory() as tmp:
        cfg = paper_config(quick, [0], f"experiment.num_realizations={SEQUENTIAL_FIRST}",
                           f"experiment.draws_until={{half_width: {SEQUENTIAL_HALF_WIDTH}, max: {DRAWS}}}",
                           f"cache_dir={tmp}/cache")
        rows = main(cfg, Path(tmp) / "run")

    def means(column: str) -> dict[str, float]:
        by: dict[str, list[int]] = {}
        for r in rows:
            by.setdefault(str(r["scheme"]), []).append(int(r[column]))
        out = {k: sum(v) / len(v) for k, v in by.items()}
        out["all"] = sum(sum(v) for v in by.values()) / sum(len(v) for v in by.values())
        return out

    return means("num_realizations"), means("models_scored")


def run(quick: bool = False) -> list[Figure]:
    device = _device()
    peak = matmul_peak()
    figs = [Figure("float32 matmul rate (1024^3)", peak / 1e9, 1.0, "GF/s", "1 GFLOP/s", f"on {device.type}")]
    from airnet.zoo.models import build_model, num_parameters
    n = num_parameters(build_model("resnet20", (3, 32, 32), 10))

    sc = scoring_times(128 if quick else 512, 2 if quick else 4, device)
    with contiguous_layout():
        sc_contiguous = scoring_times(128 if quick else 512, 2 if quick else 4, device)
        ep_contiguous = epoch_times(3 if quick else 12, device, clean_only=True)
    flops = int(sc["flops"])
    xb = cifar_like(BATCH, seed=3)[0].to(device)
    probe = build_model("resnet20", (3, 32, 32), 10).to(device)
    train_floor = layer_floor(probe, xb, backward=True) * TRAIN_IMAGES / BATCH
    score_floor = layer_floor(probe, xb, backward=False) / BATCH * DRAWS * TEST_IMAGES
    ep = epoch_times(3 if quick else 12, device)
    vector = kind_epochs(device)
    g = torch.Generator(device=device).manual_seed(0)
    buf = torch.empty(n, device=device)
    randn = best_of(lambda: buf.normal_(generator=g)) * (TRAIN_IMAGES // BATCH)
    figs += [Figure(f"resnet20 ({n:,} w): one epoch, clean (50k images)", ep["clean"], train_floor, "s",
                    "its layers alone, fwd+bwd", "kernel floor"),
             Figure("resnet20: one epoch, clean, contiguous batches (before)", ep_contiguous["clean"], ep["clean"],
                    "s", "channels_last (now)", "channels_last speed-up"),
             Figure("resnet20: one epoch, clean, vs its FLOPs", ep["clean"], 3 * flops * TRAIN_IMAGES / peak, "s",
                    "3x fwd FLOPs at matmul", "no floor: 3x3 convs beat the matmul rate"),
             Figure("resnet20: one epoch, noise injection (auto)", ep["noise (auto)"], ep["clean"] + randn, "s",
                    "clean + randn per weight", "target <= 1.2x clean"),
             Figure("resnet20: noise injection (auto) / clean epoch", ep["noise (auto)"], ep["clean"], "s", "clean",
                    "target <= 1.2"),
             Figure("resnet20: noise injection (fresh) / clean epoch", ep["noise (fresh)"], ep["clean"], "s",
                    "clean", "")]
    figs += [Figure(f"resnet20: one epoch, {name}", seconds, ep["clean"], "s", "clean epoch",
                    "the projection prices these passes at it") for name, seconds in vector.items()]
    plan = sc["plan"]
    figs += [Figure(f"resnet20: scoring K=32 on 10k images, tuned ({plan.strategy}, batch {plan.batch_size})",
                    float(sc["tuned"]), score_floor, "s", "its layers alone, fwd", "kernel floor"),
             Figure("resnet20: scoring, fixed rule (batch 1024)", float(sc["old"]), score_floor, "s",
                    "its layers alone, fwd", "before"),
             Figure(f"resnet20: scoring, tuned, contiguous ({sc_contiguous['plan'].strategy}, batch "
                    f"{sc_contiguous['plan'].batch_size}; before)", float(sc_contiguous["tuned"]), float(sc["tuned"]),
                    "s", "channels_last (now)", "channels_last speed-up"),
             Figure("resnet20: scoring, tuned, vs its FLOPs", float(sc["tuned"]), DRAWS * TEST_IMAGES * flops / peak,
                    "s", "fwd FLOPs at matmul", "no floor (above)")]
    for early in (True, False):
        seconds, floor, bits = side_info_chain(device, early)
        figs.append(Figure(f"side-information chain: {bits:,} mask bits, LDPC+QPSK at 5 dB, 1 draw, "
                           f"{'early stop' if early else 'all 20 iterations'}", seconds, floor, "s",
                           "1 add per edge message (20 it.)", ""))
    # bfloat16 where the hardware computes it (a GPU, an AVX512-BF16/AMX CPU): training under autocast, scoring
    # with bfloat16 weights at its own measured batch; both change the numbers, so they are rows, not the default
    half = native_bf16(device)
    if half:
        ep16 = epoch_times(3 if quick else 12, device, precision="bfloat16")
        vector16 = kind_epochs(device, "bfloat16")
        sc16 = scoring_times(128 if quick else 512, 2 if quick else 4, device, "bfloat16")
        figs += [Figure(f"resnet20: one epoch, {name}, bfloat16 autocast", ep16[name], ep[name], "s",
                        "float32", "speed-up; changes results") for name in ("clean", "noise (auto)")]
        figs += [Figure(f"resnet20: one epoch, {name}, bfloat16 autocast", seconds, vector[name], "s", "float32",
                        "speed-up; changes results") for name, seconds in vector16.items()]
        figs.append(Figure(f"resnet20: scoring K=32 on 10k images, bfloat16 (copy, batch {sc16['plan'].batch_size})",
                           float(sc16["tuned"]), float(sc["tuned"]), "s",
                           f"float32 tuned (batch {plan.batch_size})", "speed-up; changes results"))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figs.append(Figure("peak resident memory of this process", rss, 1024.0, "MiB", "1 GiB", ""))

    sweep, digits_train, snr_scale = counted_sweep(quick)
    unscreened = counted_sweep(quick, "scheme.digital_capacity.screen_epochs=0")[0]
    one_finalist = counted_sweep(quick, "scheme.digital_capacity.finalists=1")[0]
    draws, scored = sequential_draws(quick)
    points = sweep.todo * snr_scale
    deliver = sweep.deliver_s[0] * snr_scale * n / 6_090
    # each kind of training's passes at its ResNet-20 epoch (measured above), a distillation teacher's forward
    # epoch at a third of the clean one; the contiguous rows scale them all by the contiguous clean epoch
    def train_hours(passes_by_kind: dict[str, int], other: float, teacher: float, layout: float,
                    epochs: dict[str, float] = ep, kinds: dict[str, float] = vector) -> float:
        seconds = sum(n_ * kind_epoch(kind, epochs["clean"], epochs["noise (auto)"], kinds)
                      for kind, n_ in passes_by_kind.items())
        # a teacher's logits are computed in float32 (outside autocast): its passes at the float32 epoch
        seconds += other * epochs["clean"] + TEACHER_PASS_SHARE * teacher * ep["clean"]
        return seconds / digits_train * snr_scale * layout / 3600

    def plan_hours(plan_: SweepPlan, layout: float, teacher: int | None = None, **measured: Any) -> float:
        """Training hours of ``plan_``, its teacher passes counted as ``teacher`` (default: the plan's own), at
        the ``measured`` epochs (default: float32's)."""
        kinds = {k: passes for k, (passes, _) in plan_.kinds.items()}
        return train_hours(kinds, plan_.sample_passes - sum(kinds.values()),
                           plan_.teacher_passes if teacher is None else teacher, layout, **measured)

    now, before = 1.0, ep_contiguous["clean"] / ep["clean"]
    tuned = float(sc["tuned"])
    # the last field: a teacher's logits once per teacher and data (True) or once per distilling training (before)
    rows: list[tuple[Any, ...]]
    rows = [("before (d7d83ae rules: contiguous batches, batch-1024 scoring, every digital candidate fully "
             "fine-tuned)", unscreened, float(sc_contiguous["old"]), 1.0, before, False),
            ("scoring plan (item 2)", unscreened, float(sc_contiguous["tuned"]), 1.0, before, False),
            ("+ channels_last batches (training and scoring)", unscreened, tuned, 1.0, now, False),
            ("+ digital candidates screened (successive halving)", sweep, tuned, 1.0, now, False),
            (f"+ sequential draws ({SEQUENTIAL_FIRST} first, doubled to half-width {SEQUENTIAL_HALF_WIDTH}, "
             f"<= {DRAWS}; mean {draws['all']:.1f} per point on digits)", sweep, tuned, draws["all"] / DRAWS, now,
             False),
            (f"+ identical received models scored once (mean {scored['all']:.1f} scored per point on digits)", sweep,
             tuned, scored["all"] / DRAWS, now, False),
            ("+ a teacher's logits once per teacher and data set, not once per distilling fine-tune", sweep,
             tuned, scored["all"] / DRAWS, now, True),
            ("  the same with finalists: 1 (not the default: it agrees less often with the full search)", one_finalist,
             tuned, scored["all"] / DRAWS, now, True)]
    if half:
        rows.append(("  the defaults with train.precision=bfloat16 and eval_precision=bfloat16 (not the default: "
                     "hardware with bfloat16 only, changes results)", sweep, float(sc16["tuned"]), scored["all"] / DRAWS,
                     now, True, dict(epochs=ep16, kinds=vector16)))
    for label, plan_, score_s, draw_share, layout, teacher_once, *measured in rows:
        # quick: trainings grow with the SNRs (digital)
        teacher = plan_.teacher_passes if teacher_once else plan_.distilling_samples
        epochs = (plan_.sample_passes + TEACHER_PASS_SHARE * teacher) / digits_train * snr_scale
        train_h = plan_hours(plan_, layout, teacher, **(measured[0] if measured else {}))
        score_h = points * score_s * draw_share / 3600
        total = train_h + score_h + deliver / 3600
        figs.append(Figure(f"paper sweep projected, {label}: train {train_h:.0f} h + score {score_h:.0f} h + "
                           f"deliver {deliver / 3600:.1f} h (scaled from digits)", total, 100.0, "h", "100 CPU-hour goal",
                           f"{plan_.trainings * snr_scale:.0f} trainings, {epochs:.0f} epochs, {points:.0f} points"))
    all_h = plan_hours(sweep, now)
    for name, (calls, passes, teacher) in sweep.by_scheme.items():
        if calls:
            split = sweep.scheme_kinds.get(name, {})
            figs.append(Figure(f"  training by scheme: {name} ({calls} trainings)",
                               train_hours(split, passes - sum(split.values()), teacher, now), all_h, "h",
                               "all training", "share"))
    for name, mean in draws.items():
        figs.append(Figure(f"  sequential draws per point on digits: {name} ({scored[name]:.1f} models scored)", mean,
                           DRAWS, "draws", f"{DRAWS} fixed", "share of the fixed draws"))
    return figs
