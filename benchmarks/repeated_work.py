"""What issue 22's removal of repeated work saves one run's evaluation, in CPU seconds, at 28x28.

Scores 10,000 "generated" images (Fashion-MNIST train images with a little noise, as
benchmarks/evaluation_cost.py does) against the 10,000 test images, with one torch thread, and times
in the same process, alternately, so that the machine's load weighs on both alike:

- the ``prc_clf`` group as before (the reference's k-NN radii computed every run) and as now (read
  from the cache; genbench.evaluation.reference_radii), torch-fidelity's reference features cached in
  both, as a run finds them;
- the pass ``acc_clf`` made before (the samples classified again, in batches of 1024) and what
  ``acc_clf`` costs now after the feature metrics' pass (genbench.evaluation.classifier_features).

Prints CPU and wall seconds of each round beside the load average (/proc/loadavg).

Usage: python benchmarks/repeated_work.py [--data-root DIR] [--cache DIR] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from evaluation_cost import offline_setup, timed

import genbench.evaluation.precision_recall as precision_recall
from genbench.api import Split
from genbench.core.metrics import metric
from genbench.evaluation.accuracy import accuracy
from genbench.evaluation.classifier import classifier_correct, load_classifier
from genbench.evaluation.computation import Request, compute_function
from genbench.evaluation.feature_metrics import feature_metrics

DATASET = "fashion-mnist"
CPU = torch.device("cpu")


def _load() -> str:
    return Path("/proc/loadavg").read_text().split(" ")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", type=Path, default=Path("~/.cache/genbench/data").expanduser())
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "genbench-repeated-work")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    setup, train = offline_setup(DATASET, args.data_root, args.cache, ("prc_clf", "fd_inf_clf", "acc_clf"))
    generator = torch.Generator().manual_seed(0)
    order = torch.randperm(len(train), generator=generator)[:10_000]
    picked, labels = train.images[order], train.labels[order]
    samples = (picked.int() + torch.randint(-8, 9, picked.shape, generator=generator)).clamp(0, 255).byte()
    prc = metric("prc_clf")
    compute = compute_function(prc)
    compute([prc], Request(samples[:20], setup))  # Warm: the reference's features and radii cached.
    cached = precision_recall.cached_radii
    uncached: Callable[..., torch.Tensor] = lambda *arguments: arguments[-1]()  # noqa: E731
    print(f"load before: {_load()}; {os.cpu_count()} CPUs; one torch thread")
    for round_ in range(args.rounds):
        for name, radii in (("before (radii computed)", uncached), ("now (radii cached)", cached)):
            precision_recall.cached_radii = radii
            cpu, wall = timed(lambda: compute([prc], Request(samples, setup)))
            print(f"round {round_}: prc_clf {name}: {cpu:.2f} s CPU, {wall:.2f} s wall, load {_load()}")
    precision_recall.cached_radii = cached
    features = [metric("fd_inf_clf")]  # The feature metrics' pass (the others add the train split's).
    acc = [metric("acc_clf")]
    network = load_classifier(setup.classifier.path)
    for round_ in range(args.rounds):
        before = timed(lambda: classifier_correct(network, Split(samples, labels), CPU))
        request = Request(samples.clone(), setup, labels)  # Another tensor: a fresh pass, as a new run.
        feature_metrics(features, request)
        now = timed(lambda: accuracy(acc, request))  # noqa: B023
        print(
            f"round {round_}: acc_clf's own pass before: {before[0]:.2f} s CPU, {before[1]:.2f} s wall; "
            f"acc_clf now after the feature metrics: {now[0]:.3f} s CPU; load {_load()}"
        )


if __name__ == "__main__":
    main()
