"""Packs of seeds: K seeds of one model stepped in turn in one process (``--pack K``, as
genbench.running.packing does it: each under its own generators and, on CUDA, its own stream) against
the same K seeds trained one after another, in the same process, on the same data.

Both arms run genbench's own training loop (``genbench.running.training.train_stepwise``, with the
fast path a run gets: its resolved precision, capture on CUDA) for the same number of steps per seed,
on Fashion-MNIST when its files are found (``--data-root``, else Debian's
/usr/share/datasets/fashion-mnist) or on digits. It prints total steps/s of each arm and their ratio,
and writes ``benchmarks/results/pack-<device>.md``. Seconds are wall-clock on CUDA (the device's time
is what counts) and process CPU seconds on a CPU (robust to other processes' load; with one torch
thread, what an idle core takes).

Usage: python benchmarks/pack.py [--model dcgan] [--seeds 8] [--steps 100] [--device cpu|cuda]
       [--data fashion-mnist|digits] [--data-root DIR] [--note TEXT]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
import time
from pathlib import Path

import torch

from genbench.api import Model, Split
from genbench.core.batches import DeviceBatches
from genbench.core.progress import SilentProgress
from genbench.core.registry import Registry
from genbench.core.run_spec import Budget, TrainingSpec
from genbench.running.device import device_name
from genbench.running.fast_path import resolve_precision
from genbench.running.packing import Member, member_stream, step_in_turn
from genbench.running.single_run import seed_everything
from genbench.running.stages import drive
from genbench.running.training import LogOnlyHooks, train_stepwise

RESULTS = Path(__file__).resolve().parent / "results"
TEST_IMAGES = 64  # The loop's closing held-out estimate, on as few images: the steps are what is timed.
WARMUP_STEPS = 5


def _clock(device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        return time.perf_counter()
    return time.process_time()


class Seed:
    """One seed's model and data order, built as a run builds them (seeded, on the device)."""

    def __init__(self, cls: type[Model], shape, train: Split, device: torch.device, seed: int) -> None:
        seed_everything(seed)
        with torch.device(device):
            self.model = cls.build(shape)
        self.model.to(device)
        self.batches = DeviceBatches(train, device, seed=seed)
        batch = self.model.hparams.batch_size
        for _ in range(WARMUP_STEPS):  # Optimizer states and kernels exist before timing.
            self.model.train_step(*self.batches.next(batch))

    def loop(self, test: Split, steps: int, precision: str):
        spec = TrainingSpec(Budget(kimg=1e6, steps=steps), precision=precision)
        return train_stepwise(
            self.model, self.batches, test, spec, LogOnlyHooks(lambda row: None), SilentProgress()
        )


def one_after_another(seeds: list[Seed], test: Split, steps: int, precision: str, device) -> float:
    """Seconds for every seed's ``steps``, each seed's loop run to its end before the next."""
    started = _clock(device)
    for seed in seeds:
        drive(seed.loop(test, steps, precision))
    return _clock(device) - started


def packed(seeds: list[Seed], test: Split, steps: int, precision: str, device) -> float:
    """Seconds for the same, the seeds' loops stepped in turn as a pack steps its runs."""
    members = [Member(seed.loop(test, steps, precision), member_stream(device)) for seed in seeds]
    started = _clock(device)
    step_in_turn(members)
    return _clock(device) - started


def load(name: str, data_root: Path | None) -> tuple[object, Split, Split]:
    """The dataset's class and its train and (small) test splits."""
    registry = Registry.discover()
    cls = registry.dataset(name).cls
    roots = [data_root] if data_root else [Path("/usr/share/datasets"), Path.home() / ".cache/genbench/data"]
    for root in roots:
        try:
            dataset = cls(root, download=False)
            train, test = dataset.load("train"), dataset.load("test")
            return cls, train, Split(test.images[:TEST_IMAGES], test.labels[:TEST_IMAGES])
        except Exception as error:  # Not there: try the next root.
            problem = error
    raise SystemExit(f"{name}: not found under {', '.join(map(str, roots))} ({problem})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="dcgan")
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=100, help="timed steps per seed")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--data", default="fashion-mnist")
    parser.add_argument("--data-root", type=Path)
    parser.add_argument("--note", default="", help="a line for the results file (e.g. the machine's load)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    device = torch.device(args.device)
    dataset_cls, train, test = load(args.data, args.data_root)
    model_cls = Registry.discover().model(args.model).cls
    precision = resolve_precision("auto", device, model_cls)
    seeds = [Seed(model_cls, dataset_cls.shape, train, device, seed) for seed in range(args.seeds)]

    # Each arm twice, alternating, so that load from other processes falls on both alike.
    alone = pack = 0.0
    for _ in range(2):
        alone += one_after_another(seeds, test, args.steps // 2, precision, device)
        pack += packed(seeds, test, args.steps // 2, precision, device)
    total = 2 * (args.steps // 2) * args.seeds
    seconds = "wall-clock" if device.type == "cuda" else "process CPU seconds"
    row = (
        f"| {args.model} | {args.seeds} | {precision} | {total / alone:.1f} | {total / pack:.1f} "
        f"| {alone / pack:.2f} |"
    )
    lines = [
        f"# Packs of seeds on {device_name(device)}",
        "",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"- versions: python {platform.python_version()}, torch {torch.__version__}",
        f"- torch threads: {torch.get_num_threads()}; command: `python {' '.join(sys.argv)}`",
        f"- seconds: {seconds}; data: {args.data}, {len(train)} train images; {args.steps} steps per seed",
        *([f"- note: {args.note}"] if args.note else []),
        "",
        "| model | seeds | precision | one after another: steps/s (all seeds) | packed: steps/s | packed / "
        "one after another |",
        "|---|---|---|---|---|---|",
        row,
    ]
    print(row)
    path = args.out or RESULTS / f"pack-{device.type}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
