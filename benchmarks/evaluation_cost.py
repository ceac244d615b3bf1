"""What each metric of the table costs one run's evaluation, in CPU seconds, at 28x28.

Scores 10,000 "generated" images (Fashion-MNIST train images with a little noise: a stand-in for a
model, the cost does not depend on what the images show) against the test split, one computation of
the metric table at a time, with one torch thread as the runs use on a shared CPU, and prints the
process CPU seconds and wall seconds of each beside the machine's load average. The reference
statistics of torch-fidelity are computed before timing, as a run finds them cached, by a first call
on 20 images; that call also does what a computation prepares once per dataset (the training split's
features, its PCA) and is printed apart, as "once per dataset": the sweep does it once for all runs.
The metrics that were there before are timed in the same process: the baseline for the new ones.
Each computation is timed without and with its 95% intervals (``--bootstrap`` resamples, as a run's
default), in the same process: what the intervals add is the difference (``--skip-baseline``: with
them only, as a run computes them; the "without" figures are then those with).

Usage: python benchmarks/evaluation_cost.py [--metrics fd_clf,copying_clf] [--n-samples 10000]
       [--cache DIR] [--data-root DIR] [--bootstrap 200] [--skip-baseline]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

from genbench.api import Split
from genbench.core.metrics import METRICS
from genbench.core.registry import Registry
from genbench.core.run_spec import DEFAULT_RESAMPLES, IntervalSettings
from genbench.evaluation.classifier import cached_classifier
from genbench.evaluation.computation import Request, compute_function
from genbench.evaluation.inception import InceptionWeights
from genbench.evaluation.setup import EvaluationSetup
from genbench.options.config import DivergenceSettings

DATASET = "fashion-mnist"
CPU = torch.device("cpu")


def timed(work: Callable[[], object]) -> tuple[float, float]:
    """Process CPU seconds and wall seconds of ``work()``."""
    cpu, wall = time.process_time(), time.perf_counter()
    work()
    return time.process_time() - cpu, time.perf_counter() - wall


def offline_setup(
    data: str, data_root: Path, cache: Path, names: tuple[str, ...], resamples: int = DEFAULT_RESAMPLES
) -> tuple[EvaluationSetup, Split]:
    """An evaluation of ``names`` against ``data``'s test split on the CPU, its classifier and
    statistics kept under ``cache``, with ``resamples`` for the intervals; and the train split."""
    dataset = Registry.discover().dataset(data).cls(data_root, download=False)
    train, test = dataset.load("train"), dataset.load("test")
    classifier = cached_classifier(data, dataset.shape, train, test, cache / "classifiers", CPU)
    setup = EvaluationSetup(
        data,
        "test",
        test.images,
        classifier,
        InceptionWeights(None, reason="timing"),
        names,
        DivergenceSettings(),
        CPU,
        cache / "fidelity",
        train_images=train.images,
        test_images=test.images,
        intervals=IntervalSettings(resamples=resamples),
    )
    return setup, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--metrics", default=",".join(m.name for m in METRICS if m.extractor != "inception"))
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "genbench-cost-cache")
    parser.add_argument("--data-root", type=Path, default=Path("~/.cache/genbench/data").expanduser())
    parser.add_argument("--bootstrap", type=int, default=DEFAULT_RESAMPLES)
    parser.add_argument(
        "--skip-baseline",
        action="store_true",
        help="time each computation only as a run makes it (intervals included), not without them too",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    names = tuple(args.metrics.split(","))
    setup, train = offline_setup(DATASET, args.data_root, args.cache, names, args.bootstrap)
    generator = torch.Generator().manual_seed(0)
    picked = train.images[torch.randperm(len(train), generator=generator)[: args.n_samples]]
    noise = torch.randint(-8, 9, picked.shape, generator=generator)
    samples = (picked.int() + noise).clamp(0, 255).to(torch.uint8)
    request, with_intervals = Request(samples, setup), Request(samples, setup, intervals=True)
    print(f"load average before: {os.getloadavg()}; {os.cpu_count()} CPUs; one torch thread")
    totals = [0.0, 0.0]
    seen: set[str] = set()
    for metric in METRICS:
        if metric.name not in names or metric.name in seen or metric.models == "conditional":
            continue
        # Computed together as evaluation computes them: one call per computation function and extractor.
        group = [
            m
            for m in METRICS
            if m.name in names
            and m.models == "all"
            and m.extractor == metric.extractor
            and m.computation.function == metric.computation.function
        ]
        seen |= {m.name for m in group}
        compute = compute_function(metric)
        # Warm: the reference statistics and what is prepared once per dataset, as a run finds them.
        warm = timed(lambda compute=compute, group=group: compute(group, Request(samples[:20], setup)))
        cpu_intervals, wall = timed(lambda compute=compute, group=group: compute(group, with_intervals))
        cpu = cpu_intervals
        if not args.skip_baseline:
            cpu, wall = timed(lambda compute=compute, group=group: compute(group, request))
        totals[0], totals[1] = totals[0] + cpu, totals[1] + cpu_intervals
        label = ",".join(m.name for m in group)
        print(
            f"{label}: {cpu:.1f} s CPU, {wall:.1f} s wall per run (load {os.getloadavg()[0]:.1f}); "
            f"with intervals {cpu_intervals:.1f} s CPU; once per dataset: {warm[0]:.1f} s CPU"
        )
    print(f"all: {totals[0]:.1f} s CPU, with intervals {totals[1]:.1f} s ({totals[1] / totals[0]:.2f}x)")


if __name__ == "__main__":
    main()
