"""Training and evaluation speed: genbench's loop against the loop users write today, in one process.

For each built-in model at its default batch size on the same data (Fashion-MNIST, 28x28):

(a) the common loop, as the reports and the popular per-model scripts write it: a torchvision dataset
    with ``ToTensor()`` + ``Normalize`` per image, a shuffled ``DataLoader``, ``.item()`` on every
    logged scalar every step, float32, the same networks and PyTorch's default optimizer kernels;
(b) genbench's training loop (``genbench.running.training.train``) on the same model, with its fast
    path (fused/foreach optimizers, the precision ``--precision`` resolves to, as a run resolves it:
    for ``auto``, bf16 autocast and channels-last where the model declares them and the device runs
    bf16 in hardware; capture where the model allows), its closing held-out estimate timed apart;
(c) a bare loop of the same step as (b), in the same precision and memory layout, with no runner.

The loops are in benchmarks/training_loops.py, the evaluation timings in benchmarks/scoring_speed.py.
It prints steps/s and images/s for each, b/a and b/c
(per CPU second and per wall-clock second) and peak memory; then the seconds to prepare the dataset
(reference classifier and real-data floor), and to generate and score 10,000 samples with every
offline metric and with Inception FID (on a weights file of the right format with random values: fine
for timing). It writes ``benchmarks/results/speed-<device>.md``.

Usage: python benchmarks/speed.py [--models dcgan,vae] [--steps 200] [--device cpu|cuda]
       [--precision auto|fp32|bf16] [--n-samples 10000] [--inception-n 10000] [--skip-eval]
       [--data-root DIR]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torchvision
from scoring_speed import evaluation_section
from torchvision import transforms
from training_loops import WARMUP_STEPS, BareLoop, CommonLoop, GenbenchLoop, clock

from genbench.api import Split
from genbench.core.registry import Registry
from genbench.running.device import device_name
from genbench.running.fast_path import resolve_precision, wants_channels_last

RESULTS = Path(__file__).parent / "results"
DATASET = "fashion-mnist"
TEST_IMAGES = 64  # (b)'s closing held-out estimate (one per round, timed apart) uses this many.
# The issues' targets (issue 11; on a CPU, issue 22's).
TARGETS = {
    "cpu": [
        "b/a >= 2 for every convolutional model on a bf16-capable CPU (issue 22; issue 11 asked 1.5x)",
        "runner overhead over the bare loop <= 5% (b/c >= 0.95)",
        "preparing Fashion-MNIST with a pinned classifier (the floor included) <= 30 s",
        "one run's evaluation at 28x28 (10k samples, every offline metric) <= 15 s",
        "the README's default `genbench run` <= 30 s after install",
    ],
    "cuda": [
        "dcgan at batch 64 >= 400 steps/s and >= 12x its common loop",
        "every built-in model >= 8x its common loop",
        "10k samples scored with every offline metric <= 3 s; with Inception FID <= 5 s",
    ],
}


@dataclass
class Timing:
    """A loop's timed steps: :func:`clock` seconds (CPU seconds on a CPU) and wall-clock seconds, less
    what the loop did apart from training (for (b), its closing held-out estimates)."""

    steps: int
    seconds: float
    wall: float
    batch: int
    peak_mb: float

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.seconds

    @property
    def wall_steps_per_s(self) -> float:
        return self.steps / self.wall

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


def compare(loops: dict[str, Any], steps: int, rounds: int, device: torch.device) -> dict[str, Timing]:
    """Each loop's steps/s, measured in ``rounds`` interleaved rounds of ``steps / rounds`` steps, so
    that load from other processes falls on all of them alike (an even number of rounds balances
    the seat after the first loop). (b)'s closing held-out estimates (one per round) are timed
    apart and taken out: what is left is the loop's training."""
    chunk = max(1, steps // rounds)
    seconds, walls = dict.fromkeys(loops, 0.0), dict.fromkeys(loops, 0.0)
    peaks = dict.fromkeys(loops, 0.0)
    first, *rest = loops
    for round_ in range(rounds):
        # The loop right after (a) runs slower (dcgan: b/c 0.945 in the order a, b, c and 1.032 in
        # a, c, b, on 2026-12-07): every other round the others swap places, so both take that seat.
        for name in [first, *(rest if round_ % 2 == 0 else rest[::-1])]:
            loop = loops[name]
            _sync(device)
            _reset_peak(device)
            started, wall = clock(device), time.perf_counter()
            loop.run(chunk)
            _sync(device)
            seconds[name] += clock(device) - started
            walls[name] += time.perf_counter() - wall
            peaks[name] = max(peaks[name], _peak_mb(device))
    for name, loop in loops.items():
        seconds[name] -= getattr(loop, "estimate_seconds", 0.0)
        walls[name] -= getattr(loop, "estimate_wall", 0.0)
    return {
        name: Timing(chunk * rounds, seconds[name], walls[name], loop.batch, peaks[name])
        for name, loop in loops.items()
    }


def parse_args() -> argparse.Namespace:
    """The command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="vae,gan,dcgan,wgan,wgan-gp,acgan,cgan,lsgan")
    parser.add_argument("--steps", type=int, default=200, help="timed steps per loop and model")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument(
        "--precision",
        default="auto",
        choices=("auto", "fp32", "bf16"),
        help="(b) and (c)'s precision, resolved per model as `genbench run --precision` does [auto]",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="interleaved rounds the steps are cut into [4 on a CPU; 1 on CUDA, where each round of (b) "
        "would capture its step again]",
    )
    parser.add_argument("--data-root", type=Path, default=Path.home() / ".cache" / "genbench" / "data")
    parser.add_argument("--n-samples", type=int, default=10_000, help="samples generated and scored")
    parser.add_argument(
        "--inception-n", type=int, default=10_000, help="samples (and reference) for FID; 0: none"
    )
    parser.add_argument("--skip-eval", action="store_true", help="only the training loops")
    parser.add_argument(
        "--out", type=Path, default=None, help="results file [benchmarks/results/speed-<device>.md]"
    )
    parser.add_argument(
        "--cache", type=Path, default=None, help="cache folder (a trained classifier is reused)"
    )
    parser.add_argument("--note", default="", help="a line for the results file (e.g. the machine's load)")
    args = parser.parse_args()
    if args.rounds is None:
        args.rounds = 1 if args.device == "cuda" else 4
    return args


def main() -> None:
    args = parse_args()
    device = torch.device(args.device)
    path = args.out or RESULTS / f"speed-{device.type}.md"
    registry = Registry.discover()
    dataset_cls = registry.dataset(DATASET).cls
    dataset = dataset_cls(args.data_root, download=False)
    train_split, test_split = dataset.load("train"), dataset.load("test")
    shape = dataset_cls.shape
    lines = header(args, device, f"{DATASET} {shape.resolution}x{shape.resolution}, {len(train_split)}")
    lines += ["", "## Training steps", ""]
    write(path, lines)
    lines += training_section(args, device, registry, train_split, test_split, path, lines)
    if not args.skip_eval:
        lines += evaluation_section(args, device, shape, train_split, test_split)
    lines += ["", "## Targets", ""] + [f"- {t}" for t in TARGETS[device.type]]
    write(path, lines)
    print(f"wrote {path}")


def header(args: argparse.Namespace, device: torch.device, data: str) -> list[str]:
    """The results file's title and how it was measured."""
    lines = [f"# Speed on {device_name(device)}", ""]
    lines += [
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"- versions: python {platform.python_version()}, torch {torch.__version__}, "
        f"torchvision {torchvision.__version__}",
        f"- torch threads: {torch.get_num_threads()}; command: `python {' '.join(sys.argv)}`",
        f"- load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
        f"({os.cpu_count()} CPUs)",
        "- seconds: "
        + (
            "wall-clock"
            if device.type == "cuda"
            else "process CPU seconds (robust to other processes' load; with one torch thread, what an "
            "idle core takes); the wall-clock ratios beside them, and the per-metric split of an "
            "evaluation, are wall-clock"
        ),
        f"- data: {data} train images; {args.steps} timed steps per loop after {WARMUP_STEPS} warm-up "
        f"steps, in {args.rounds} rounds interleaving (a), (b) and (c)",
    ]
    return lines + ([f"- note: {args.note}"] if args.note else [])


def training_section(
    args: argparse.Namespace,
    device: torch.device,
    registry: Registry,
    train_split: Split,
    test_split: Split,
    path: Path,
    above: list[str],
) -> list[str]:
    """The three loops' table, one row per model; the file is rewritten after every row, so that a
    long run stopped halfway keeps what it measured."""
    per_image = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    torchvision_set = torchvision.datasets.FashionMNIST(args.data_root, train=True, transform=per_image)
    small_test = Split(test_split.images[:TEST_IMAGES], test_split.labels[:TEST_IMAGES])
    shape = registry.dataset(DATASET).cls.shape
    memory = "peak GPU memory (MiB)" if device.type == "cuda" else "process peak RSS so far (MiB)"
    lines = [
        "| model | batch | (b), (c) precision | (a) common steps/s | (b) genbench steps/s | (c) bare steps/s "
        "| (b) images/s | b/a | b/c | b/a wall | b/c wall | closing estimate s (b) | "
        f"{memory} a / b / c |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in [m for m in args.models.split(",") if m]:
        cls = registry.model(name).cls
        loops = {
            "a": CommonLoop(cls, shape, device, torchvision_set),
            "b": GenbenchLoop(cls, shape, device, train_split, small_test, args.precision),
            "c": BareLoop(cls, shape, device, train_split, args.precision),
        }
        timings = compare(loops, args.steps, args.rounds, device)
        a, b, c = timings["a"], timings["b"], timings["c"]
        precision = resolve_precision(args.precision, device, cls)
        layout = ", channels-last" if wants_channels_last(cls, device, precision) else ""
        estimate = loops["b"].estimate_seconds / max(1, loops["b"].estimates)
        lines.append(
            f"| {name} | {b.batch} | {precision}{layout} | {a.steps_per_s:.2f} | {b.steps_per_s:.2f} | "
            f"{c.steps_per_s:.2f} | {b.images_per_s:.0f} | {b.steps_per_s / a.steps_per_s:.2f} | "
            f"{b.steps_per_s / c.steps_per_s:.3f} | {b.wall_steps_per_s / a.wall_steps_per_s:.2f} | "
            f"{b.wall_steps_per_s / c.wall_steps_per_s:.3f} | {estimate:.3f} | "
            f"{a.peak_mb:.0f} / {b.peak_mb:.0f} / {c.peak_mb:.0f} |"
        )
        print(lines[-1], f"(load {os.getloadavg()[0]:.2f})", flush=True)
        write(path, above + lines)
    return lines


def write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
