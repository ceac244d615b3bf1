"""One run's whole evaluation on the CPU, wall-clock and CPU seconds, with and without this stop's
savings, alternated in one process (issue 22).

Scores ``--n-samples`` "generated" images (train images with a little noise, as
benchmarks/evaluation_cost.py) against the test split with every default offline metric and its
intervals, through ``genbench.evaluation.evaluate`` as a run calls it, with ``--threads`` torch threads
(a 2-core machine's default is 2). Two variants, alternated for ``--rounds`` rounds after a warm call
that prepares what a dataset computes once:

- baseline: the divergence estimators one after the other and the precision/recall radii selected
  with ``kthvalue`` (what genbench did before);
- now: the estimators side by side (genbench.evaluation.estimates) and the radii by ``topk``.

Both must give the same metrics, bit for bit (checked). It prints each round's seconds, the per-group
wall seconds the evaluation records, the ratios baseline/now and the load average.

Usage: python benchmarks/evaluation_wall.py [--data fashion-mnist|digits] [--n-samples 10000]
       [--threads 2] [--rounds 2] [--cache DIR] [--data-root DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import torch
from evaluation_cost import offline_setup

from genbench.core.metrics import DEFAULT_METRICS, metric
from genbench.evaluation import estimates, precision_recall
from genbench.evaluation.evaluate import Evaluation, evaluate
from genbench.evaluation.setup import EvaluationSetup

CPU = torch.device("cpu")


def _kthvalue_radii(features: torch.Tensor, neighbourhood: int, batch_size: int) -> torch.Tensor:
    """The radii as torch-fidelity selects them (the baseline)."""
    return torch.cat(
        [
            precision_recall._distances(batch, features, batch_size).kthvalue(neighbourhood + 1).values
            for batch in features.split(batch_size)
        ]
    )


@contextlib.contextmanager
def _baseline() -> Iterator[None]:
    side_by_side, radii = estimates.side_by_side, precision_recall._radii
    estimates.side_by_side = lambda device, n: False  # type: ignore[assignment]
    precision_recall._radii = _kthvalue_radii
    try:
        yield
    finally:
        estimates.side_by_side, precision_recall._radii = side_by_side, radii  # type: ignore[assignment]


def _samples(train: torch.Tensor, n: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    picked = train[torch.randint(len(train), (n,), generator=generator)]
    noise = torch.randint(-8, 9, picked.shape, generator=generator)
    return (picked.int() + noise).clamp(0, 255).to(torch.uint8)


def _timed(samples: torch.Tensor, setup: EvaluationSetup) -> tuple[Evaluation, float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    found = evaluate(samples, setup)
    return found, time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="fashion-mnist")
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "genbench-wall-cache")
    parser.add_argument("--data-root", type=Path, default=Path("~/.cache/genbench/data").expanduser())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    names = tuple(name for name in DEFAULT_METRICS if metric(name).extractor != "inception")
    setup, train = offline_setup(args.data, args.data_root, args.cache, names)
    samples = _samples(train.images, args.n_samples)
    print(f"{args.data}, {args.n_samples} samples, every default offline metric with intervals")
    print(f"{os.cpu_count()} CPUs, {args.threads} torch threads; load average before {os.getloadavg()}")
    _, cpu, wall = _timed(samples[:50], setup)  # What a dataset prepares once, as a run finds it.
    print(f"warm call (once per dataset, 50 samples): {cpu:.1f} s CPU, {wall:.1f} s wall")

    seconds: dict[str, list[tuple[float, float]]] = {"baseline": [], "now": []}
    values: dict[str, dict[str, object]] = {}
    for round_ in range(args.rounds):
        order = ("baseline", "now") if round_ % 2 == 0 else ("now", "baseline")
        for variant in order:
            with _baseline() if variant == "baseline" else contextlib.nullcontext():
                found, cpu, wall = _timed(samples, setup)
            seconds[variant].append((cpu, wall))
            values[variant] = {"metrics": found.metrics, "protocol": found.protocol}
            groups = ", ".join(f"{k.removeprefix('metric/')} {v:.1f}" for k, v in found.seconds.items())
            print(
                f"round {round_ + 1} {variant}: {cpu:.1f} s CPU, {wall:.1f} s wall; wall s by group: {groups}"
            )
    assert values["baseline"] == values["now"], "the savings changed a metric"
    cpu_ratio, wall_ratio = (
        statistics.median(b[i] for b in seconds["baseline"]) / statistics.median(n[i] for n in seconds["now"])
        for i in (0, 1)
    )
    print("every metric and protocol (intervals included) bitwise equal")
    print(f"baseline/now: CPU {cpu_ratio:.2f}x, wall {wall_ratio:.2f}x")
    print(f"load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
