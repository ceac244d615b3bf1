"""Training and evaluation speed: genbench's loop against the loop users write today, in one process.

For each built-in model at its default batch size on the same data (Fashion-MNIST, 28x28):

(a) the common loop, as the reports and the popular per-model scripts write it: a torchvision dataset
    with ``ToTensor()`` + ``Normalize`` per image, a shuffled ``DataLoader``, ``.item()`` on every
    logged scalar every step, float32, the same networks and PyTorch's default optimizer kernels;
(b) genbench's training loop (``genbench.running.training.train``) on the same model, with its fast
    path (fused/foreach optimizers, the run's default precision, capture where the model allows);
(c) a bare loop of the same step as (b), with no runner around it.

It prints steps/s and images/s for each, b/a and b/c and peak memory; then the seconds to prepare the
dataset (reference classifier and real-data floor), and to generate and score 10,000 samples with every
offline metric and with Inception FID (on a weights file of the right format with random values: fine
for timing). It writes ``benchmarks/results/speed-<device>.md``.

Usage: python benchmarks/speed.py [--models dcgan,vae] [--steps 200] [--device cpu|cuda]
       [--n-samples 10000] [--inception-n 10000] [--skip-eval] [--data-root DIR]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from unittest import mock

import torch
import torchvision
from torchvision import transforms

from genbench.api import Model, Split
from genbench.core.batches import DeviceBatches
from genbench.core.progress import SilentProgress
from genbench.core.registry import Registry
from genbench.core.run_spec import Budget, DivergenceSettings, TrainingSpec
from genbench.evaluation.classifier import cached_classifier
from genbench.evaluation.evaluate import evaluate, generate
from genbench.evaluation.floor import floor_record
from genbench.evaluation.inception import InceptionWeights, resolve_inception_weights
from genbench.evaluation.setup import EvaluationSetup, reference_images
from genbench.running.device import device_name
from genbench.running.fast_path import resolve_precision
from genbench.running.train_state import TrainState
from genbench.running.training import LogOnlyHooks, train

RESULTS = Path(__file__).parent / "results"
DATASET = "fashion-mnist"
OFFLINE_METRICS = ("fd_clf", "kid_clf", "prc_clf", "isc_clf", "acc_clf", "jsd_clf", "w1_critic")
WARMUP_STEPS = 5
TEST_IMAGES = 64  # (b)'s closing held-out estimate (one per round) runs on this many test images.
# The targets (issue 11).
TARGETS = {
    "cpu": [
        "every model's loop >= 1.5x its common loop (b/a)",
        "runner overhead over the bare loop <= 5% (b/c >= 0.95)",
        "preparing Fashion-MNIST (classifier + floor) <= 120 s",
        "evaluating one run's 10k samples at 28x28 (every offline metric) <= 30 s",
    ],
    "cuda": [
        "dcgan at batch 64 >= 400 steps/s and >= 12x its common loop",
        "every built-in model >= 8x its common loop",
        "10k samples scored with every offline metric <= 3 s; with Inception FID <= 5 s",
    ],
}


@dataclass
class Timing:
    steps: int
    seconds: float
    batch: int
    peak_mb: float

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.seconds

    @property
    def images_per_s(self) -> float:
        return self.steps * self.batch / self.seconds


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def _peak_mb(device: torch.device) -> float:
    """Peak device memory since the last reset (CUDA), or the process's peak RSS so far (CPU)."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _build(cls: type[Model], shape, device: torch.device) -> Model:
    torch.manual_seed(0)
    with torch.device(device):
        model = cls.build(shape)
    return model.to(device).train()


def _default_optimizers(model: Model) -> None:
    """PyTorch's default optimizer kernels, as the common scripts get them (no fused/foreach asked)."""
    for name, optimizer in model.optimizers.items():
        defaults = {**optimizer.defaults, "foreach": None}
        if "fused" in defaults:
            defaults["fused"] = None
        params = [p for group in optimizer.param_groups for p in group["params"]]
        model.optimizers[name] = type(optimizer)(params, **defaults)


class CommonLoop:
    """(a): per-image transforms, a shuffled DataLoader, ``.item()`` every step, float32."""

    def __init__(self, cls, shape, device, torchvision_set) -> None:
        self.model, self.device = _build(cls, shape, device), device
        _default_optimizers(self.model)
        self.batch = self.model.hparams.batch_size
        loader = torch.utils.data.DataLoader(
            torchvision_set, batch_size=self.batch, shuffle=True, drop_last=True
        )
        self.stream = (batch for _ in iter(int, 1) for batch in loader)  # Epoch after epoch.
        self.run(WARMUP_STEPS)

    def run(self, steps: int) -> None:
        for _ in range(steps):
            images, labels = next(self.stream)
            logs = self.model.train_step(images.to(self.device), labels.to(self.device))
            _ = {key: value.item() for key, value in logs.items()}  # What the scripts print or log.


class GenbenchLoop:
    """(b): genbench's training loop, with the fast path a run gets; each call continues the last."""

    def __init__(self, cls, shape, device, train_split: Split, test: Split) -> None:
        self.model, self.device = _build(cls, shape, device), device
        self.batch = self.model.hparams.batch_size
        self.precision = resolve_precision("auto", device, cls)
        self.batches = DeviceBatches(train_split, device, seed=0)
        self.test, self.state = test, TrainState()
        for _ in range(WARMUP_STEPS):
            self.model.train_step(*self.batches.next(self.batch))

    def run(self, steps: int) -> None:
        # A budget of steps, its kimg out of reach: no estimate points inside; one closing estimate.
        self.state.stopped_by = None
        train(
            self.model,
            self.batches,
            self.test,
            TrainingSpec(Budget(kimg=1e6, steps=self.state.steps + steps), precision=self.precision),
            LogOnlyHooks(lambda row: None, announce=print),
            SilentProgress(),
            self.state,
        )


class BareLoop:
    """(c): the plain step on the same device-resident batches, nothing around it."""

    def __init__(self, cls, shape, device, train_split: Split) -> None:
        self.model, self.device = _build(cls, shape, device), device
        self.batch = self.model.hparams.batch_size
        self.batches = DeviceBatches(train_split, device, seed=0)
        self.run(WARMUP_STEPS)

    def run(self, steps: int) -> None:
        for _ in range(steps):
            self.model.train_step(*self.batches.next(self.batch))


def compare(loops: dict[str, object], steps: int, rounds: int, device: torch.device) -> dict[str, Timing]:
    """Each loop's steps/s, measured in ``rounds`` interleaved rounds of ``steps / rounds`` steps, so
    that load from other processes falls on all of them alike. Seconds are :func:`clock` seconds."""
    chunk = max(1, steps // rounds)
    seconds = dict.fromkeys(loops, 0.0)
    peaks = dict.fromkeys(loops, 0.0)
    for _ in range(rounds):
        for name, loop in loops.items():
            _sync(device)
            _reset_peak(device)
            started = clock(device)
            loop.run(chunk)
            _sync(device)
            seconds[name] += clock(device) - started
            peaks[name] = max(peaks[name], _peak_mb(device))
    return {
        name: Timing(chunk * rounds, seconds[name], loop.batch, peaks[name]) for name, loop in loops.items()
    }


def clock(device: torch.device) -> float:
    """Wall-clock seconds on CUDA (the device's time is what counts); on a CPU, the process's CPU
    seconds: robust to other processes' load on a shared machine, and the wall-clock time of an idle
    machine when torch runs one thread (the results file gives the thread count)."""
    return time.perf_counter() if device.type == "cuda" else time.process_time()


def random_inception_weights(folder: Path) -> Path:
    """torch-fidelity's InceptionV3 state dict with random He-normal weights, saved like the real file
    (as tests/evaluation/test_inception.py makes it): the same network and cost, meaningless values."""
    import torch_fidelity.feature_extractor_inceptionv3 as tf_inception

    with (
        mock.patch.object(tf_inception, "load_state_dict_from_url", lambda *args, **kwargs: {}),
        mock.patch.object(tf_inception.FeatureExtractorInceptionV3, "load_state_dict", lambda *a, **k: None),
    ):
        network = tf_inception.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    generator = torch.Generator().manual_seed(0)
    state = network.state_dict()
    for name, value in state.items():
        if name.endswith("weight") and value.ndim > 1:
            state[name] = torch.randn(value.shape, generator=generator) * (2 / value[0].numel()) ** 0.5
    path = folder / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(state, path)
    return path


def timed(what: Callable[[], object], device: torch.device) -> tuple[object, float]:
    """``what()`` and its :func:`clock` seconds."""
    started = clock(device)
    value = what()
    return value, clock(device) - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="vae,gan,dcgan,wgan,wgan-gp,acgan,cgan,lsgan")
    parser.add_argument("--steps", type=int, default=200, help="timed steps per loop and model")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="interleaved rounds the steps are cut into [4 on a CPU; 1 on CUDA, where each round of (b) "
        "would capture its step again]",
    )
    parser.add_argument("--data-root", type=Path, default=Path.home() / ".cache" / "genbench" / "data")
    parser.add_argument("--n-samples", type=int, default=10_000, help="samples generated and scored")
    parser.add_argument("--inception-n", type=int, default=10_000, help="samples (and reference) for FID")
    parser.add_argument("--skip-eval", action="store_true", help="only the training loops")
    parser.add_argument(
        "--out", type=Path, default=None, help="results file [benchmarks/results/speed-<device>.md]"
    )
    parser.add_argument(
        "--cache", type=Path, default=None, help="cache folder (a trained classifier is reused)"
    )
    parser.add_argument("--note", default="", help="a line for the results file (e.g. the machine's load)")
    args = parser.parse_args()
    device = torch.device(args.device)
    path = args.out or RESULTS / f"speed-{device.type}.md"
    if args.rounds is None:
        args.rounds = 1 if device.type == "cuda" else 4
    registry = Registry.discover()
    dataset_cls = registry.dataset(DATASET).cls
    dataset = dataset_cls(args.data_root, download=False)
    train_split, test_split = dataset.load("train"), dataset.load("test")
    shape = dataset_cls.shape
    per_image = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    torchvision_set = torchvision.datasets.FashionMNIST(args.data_root, train=True, transform=per_image)
    small_test = Split(test_split.images[:TEST_IMAGES], test_split.labels[:TEST_IMAGES])

    lines = [f"# Speed on {device_name(device)}", ""]
    lines += [
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"- versions: python {platform.python_version()}, torch {torch.__version__}, "
        f"torchvision {torchvision.__version__}",
        f"- torch threads: {torch.get_num_threads()}; command: `python {' '.join(sys.argv)}`",
        "- seconds: "
        + (
            "wall-clock"
            if device.type == "cuda"
            else "process CPU seconds (robust to other processes' load; with one torch thread, what an "
            "idle core takes), except the per-metric split of an evaluation, which is wall-clock"
        ),
        f"- data: {DATASET} {shape.resolution}x{shape.resolution}, {len(train_split)} train images; "
        f"{args.steps} timed steps per loop after {WARMUP_STEPS} warm-up steps, in {args.rounds} rounds "
        "interleaving (a), (b) and (c)",
    ]
    if args.note:
        lines.append(f"- note: {args.note}")
    lines += ["", "## Training steps", ""]
    memory = "peak GPU memory (MiB)" if device.type == "cuda" else "process peak RSS so far (MiB)"
    lines += [
        f"| model | batch | precision | (a) common steps/s | (b) genbench steps/s | (c) bare steps/s "
        f"| (b) images/s | b/a | b/c | {memory} a / b / c |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in [m for m in args.models.split(",") if m]:
        cls = registry.model(name).cls
        loops = {
            "a": CommonLoop(cls, shape, device, torchvision_set),
            "b": GenbenchLoop(cls, shape, device, train_split, small_test),
            "c": BareLoop(cls, shape, device, train_split),
        }
        timings = compare(loops, args.steps, args.rounds, device)
        a, b, c = timings["a"], timings["b"], timings["c"]
        precision = resolve_precision("auto", device, cls)
        row = (
            f"| {name} | {b.batch} | {precision} | {a.steps_per_s:.1f} | {b.steps_per_s:.1f} | "
            f"{c.steps_per_s:.1f} | {b.images_per_s:.0f} | {b.steps_per_s / a.steps_per_s:.2f} | "
            f"{b.steps_per_s / c.steps_per_s:.3f} | {a.peak_mb:.0f} / {b.peak_mb:.0f} / {c.peak_mb:.0f} |"
        )
        print(row, flush=True)
        lines.append(row)
        write(path, lines)  # After every model: a long run stopped halfway keeps what it measured.

    if not args.skip_eval:
        lines += evaluation_section(args, device, shape, train_split, test_split)
    lines += ["", "## Targets (issue 11)", ""] + [f"- {t}" for t in TARGETS[device.type]]
    write(path, lines)
    print(f"wrote {path}")


def write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def evaluation_section(args, device, shape, train_split: Split, test_split: Split) -> list[str]:
    """Seconds to prepare the dataset, and to generate and score samples of a trained-for-a-bit dcgan."""
    cache = args.cache or Path(tempfile.mkdtemp(prefix="genbench-speed-"))
    lines = ["", "## Evaluation", ""]
    progress = SilentProgress()
    how = "loaded from the cache (--cache)" if any((cache / "classifiers").glob("*.pt")) else "trained"
    classifier, seconds = timed(
        lambda: cached_classifier(
            DATASET, shape, train_split, test_split, cache / "classifiers", device, progress=progress
        ),
        device,
    )
    lines.append(
        f"- reference classifier {how} in {seconds:.1f} s (test accuracy {classifier.test_accuracy:.3f})"
    )
    print(lines[-1], flush=True)
    setup = EvaluationSetup(
        dataset=DATASET,
        reference_split="test",
        reference=reference_images(test_split, None),
        classifier=classifier,
        inception=InceptionWeights(None, reason="offline metrics only"),
        metrics=OFFLINE_METRICS,
        divergence=DivergenceSettings(),
        device=device,
        cache_root=cache / "fidelity",
    )
    floors_before = set((cache / "floors").glob("*.json"))  # A new file: computed, not read back.
    _, seconds = timed(lambda: floor_record(setup, train_split, "train", args.n_samples, cache), device)
    floor_how = (
        "computed" if set((cache / "floors").glob("*.json")) - floors_before else "read from the cache"
    )
    lines.append(
        f"- real-data floor ({args.n_samples} train images vs the test split, every offline metric) "
        f"{floor_how} in {seconds:.1f} s"
    )
    print(lines[-1], flush=True)

    registry = Registry.discover()
    model = _build(registry.model("acgan").cls, shape, device)  # Conditional: acc_clf is computed too.
    samples, sample_seconds = timed(lambda: generate(model, args.n_samples, seed=0, device=device), device)
    labels = torch.arange(args.n_samples) % shape.num_classes
    evaluation, seconds = timed(lambda: evaluate(samples, setup, labels), device)
    lines.append(
        f"- {args.n_samples} acgan samples generated in {sample_seconds:.2f} s and scored with every offline "
        f"metric in {seconds:.1f} s (reference statistics cached by the floor): "
        + ", ".join(f"{k} {v:.1f} s" for k, v in evaluation.seconds.items())
        + " (wall-clock)"
    )
    print(lines[-1], flush=True)

    weights = resolve_inception_weights(random_inception_weights(cache), download=False)
    n = min(args.inception_n, args.n_samples)
    inception_setup = replace(
        setup, metrics=("fid",), inception=weights, reference=reference_images(test_split, n)
    )
    _, first_seconds = timed(lambda: evaluate(samples[:n], inception_setup), device)
    _, seconds = timed(lambda: evaluate(samples[:n], inception_setup), device)
    lines.append(
        f"- Inception FID of {n} samples against {n} test images (random weights of the real format): "
        f"{first_seconds:.1f} s with the reference features extracted, {seconds:.1f} s with them cached"
    )
    print(lines[-1], flush=True)
    return lines


if __name__ == "__main__":
    main()
