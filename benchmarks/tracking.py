"""What ``--track tensorboard`` costs a CPU run: training with the TensorBoard tracker against the same
training without it, as a ratio in one process.

The tracker adds calls, never work to the training: one per log row (every ``--log-every`` steps), one
per snapshot of the fixed latents (every tenth of the budget: a PNG each), one per checkpoint (a flush),
and its start and end (opening the event file; HParams and closing). Both sides train the same model
on the same data with the same snapshots and checkpoints; rounds alternate which goes first, so the
machine's other load falls on both alike, and the median of the rounds' ratios is the result. The
load average is printed with it. With no ``--track`` the loop's tracker calls return at once: the
per-call cost of that empty fan-out is printed too.

Usage: python benchmarks/tracking.py [--model dcgan] [--data digits] [--kimg 10] [--log-every 50]
       [--rounds 5] [--threads N] [--write results/tracking-cpu.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import torch

from genbench.api import DataShape, Model, Split
from genbench.core.batches import DeviceBatches
from genbench.core.progress import SilentProgress
from genbench.core.registry import Registry
from genbench.core.run_spec import Budget, Schedule, TrainingSpec
from genbench.figures import pictures
from genbench.options.config import default_data_root
from genbench.running.trackers import Trackers, build_trackers
from genbench.running.training import SNAPSHOT_POINTS, LogOnlyHooks, train
from genbench.tracking import RunEnd, TrackedRun, Tracker

CPU = torch.device("cpu")
EMPTY_CALLS = 100_000  # Calls of the empty fan-out timed for its per-call cost.


class SnapshotHooks(LogOnlyHooks):
    """A run's hooks, less the files: real snapshots of the fixed latents (what the tracker shows)."""

    def __init__(self, classes: int) -> None:
        super().__init__(lambda row: None)
        self.classes = classes

    def snapshot(self, model: Model) -> torch.Tensor:
        return pictures.snapshot(model, 1_000_003, self.classes)


class Timed(Tracker):
    """A tracker's calls, timed: the seconds the run spends inside them, whatever else loads the machine
    (its background writer thread aside, which the wall-clock ratio covers)."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker, self.name, self.seconds = tracker, tracker.name, 0.0

    def _timed(self, method: str, *args: Any) -> None:
        started = time.perf_counter()
        try:
            getattr(self.tracker, method)(*args)
        finally:
            self.seconds += time.perf_counter() - started

    def start(self, run: TrackedRun) -> None:
        self._timed("start", run)

    def log_row(self, step: int, row: Mapping[str, float]) -> None:
        self._timed("log_row", step, row)

    def log_images(self, step: int, images: Mapping[str, torch.Tensor]) -> None:
        self._timed("log_images", step, images)

    def checkpointed(self, step: int) -> None:
        self._timed("checkpointed", step)

    def end(self, end: RunEnd) -> None:
        self._timed("end", end)


def _seconds(
    model_cls: type[Model],
    data: tuple[Split, Split],
    shape: DataShape,
    args: argparse.Namespace,
    trackers: Trackers,
) -> float:
    """Wall-clock seconds of one training, the trackers' start and end included."""
    train_split, test_split = data
    torch.manual_seed(0)
    model = model_cls.build(shape)
    batches = DeviceBatches(train_split, CPU, seed=0)
    schedule = Schedule(args.log_every, checkpoint_every_kimg=args.kimg / 10)
    hooks = SnapshotHooks(model.shape.num_classes)
    with tempfile.TemporaryDirectory() as folder:
        run = TrackedRun("bench", "bench", Path(folder), args.data, args.model, 0, {"kimg": args.kimg})
        started = time.perf_counter()
        trackers.start(run)
        spec = TrainingSpec(Budget(args.kimg), schedule)  # float32: the precision is not what is measured.
        result = train(model, batches, test_split, spec, hooks, SilentProgress(), trackers=trackers)
        trackers.end(RunEnd("finished", result.images_seen, {"fd_clf_1k": 1.0}))
        seconds = time.perf_counter() - started
    if trackers.failures:
        raise SystemExit(f"the tracker failed: {trackers.failures}")
    return seconds


def _empty_call_seconds() -> float:
    """Seconds per call of the loop's tracker calls when no tracker is asked for."""
    trackers, row = Trackers(), {"kimg": 1.0, "loss": 0.5}
    started = time.perf_counter()
    for _ in range(EMPTY_CALLS):
        trackers.log_row(row)
    return (time.perf_counter() - started) / EMPTY_CALLS


def _registry() -> Registry:
    """Every installed plugin, and the built-in tracker where its entry point is not installed yet."""
    registry = Registry.discover()
    if "tensorboard" not in registry.trackers:
        import genbench_builtin.trackers

        registry = Registry.discover([genbench_builtin.trackers])
    return registry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="dcgan")
    parser.add_argument("--data", default="digits")
    parser.add_argument("--kimg", type=float, default=10)
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--write", type=Path, help="also write the result as Markdown here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    registry = _registry()
    dataset = registry.dataset(args.data).cls
    data = tuple(dataset(default_data_root(), download=False).load(split) for split in ("train", "test"))
    model_cls, shape = registry.model(args.model).cls, dataset.shape
    tensorboard = Timed(build_trackers(registry, ["tensorboard"])[0])
    say = print

    load_before = os.getloadavg()
    warm_up = argparse.Namespace(**{**vars(args), "kimg": 1})
    _seconds(model_cls, data, shape, warm_up, Trackers([tensorboard], say))  # Kernels, allocator, imports.
    rounds = []
    for index in range(args.rounds):
        sides = {"untracked": Trackers((), say), "tensorboard": Trackers([tensorboard], say)}
        tensorboard.seconds = 0.0
        order = list(sides) if index % 2 == 0 else list(reversed(sides))
        timed = {name: _seconds(model_cls, data, shape, args, sides[name]) for name in order}
        timed["inside"] = tensorboard.seconds
        rounds.append(timed)
        print(
            f"round {index + 1}: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in timed.items())
        )
    load_after = os.getloadavg()
    ratios = [r["tensorboard"] / r["untracked"] for r in rounds]
    empty = _empty_call_seconds()
    report = _report(args, rounds, ratios, empty, (load_before, load_after))
    print(report)
    if args.write:
        args.write.write_text(report)


def _report(
    args: argparse.Namespace,
    rounds: list[dict[str, float]],
    ratios: list[float],
    empty: float,
    loads: tuple[tuple[float, ...], ...],
) -> str:
    # The loop's tracker calls: log rows (at the default batch size), snapshots and checkpoints.
    calls = args.kimg * 1000 / 64 / args.log_every + 2 * (SNAPSHOT_POINTS + 1)
    untracked = statistics.median(r["untracked"] for r in rounds)
    inside = statistics.median(r["inside"] for r in rounds)
    lines = [
        f"# --track tensorboard on the CPU ({Path(__file__).name})",
        "",
        f"{date.today()}, {platform.node()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, torch {torch.__version__} on {args.threads} thread(s); "
        f"load average (1, 5, 15 min) {_load(loads[0])} before, {_load(loads[1])} after.",
        "",
        f"{args.model} on {args.data}, {args.kimg:g} kimg, --log-every {args.log_every}, checkpoints every "
        f"tenth of the budget, {len(rounds)} alternating rounds.",
        "",
        "| round | untracked (s) | tensorboard (s) | ratio | inside the tracker's calls (s) |",
        "|---|---|---|---|---|",
        *(
            f"| {i + 1} | {r['untracked']:.2f} | {r['tensorboard']:.2f} | {q:.3f} | {r['inside']:.3f} |"
            for i, (r, q) in enumerate(zip(rounds, ratios, strict=True))
        ),
        "",
        f"Median ratio: **{statistics.median(ratios):.3f}** (min {min(ratios):.3f}, max {max(ratios):.3f}); "
        f"goal < 1.02. Time inside the tracker's calls: median {inside:.3f} s, "
        f"{inside / untracked:.2%} of the untracked run.",
        f"No tracker: {empty * 1e9:.0f} ns per loop call, about {calls:.0f} calls a run: "
        f"{empty * calls / untracked:.1e} of its time.",
        "",
    ]
    return "\n".join(lines)


def _load(load: tuple[float, ...]) -> str:
    return ", ".join(f"{value:.1f}" for value in load)


if __name__ == "__main__":
    main()
