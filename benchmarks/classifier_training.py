"""Training the reference classifier on first use, as a dataset without a pinned one does (issue 22).

Trains Fashion-MNIST's classifier through ``cached_classifier`` exactly as a run on unpinned data
does (a fresh cache, no pinned classifier to copy: deterministic, one torch thread, on the CPU), and
prints its CPU and wall seconds, the load average, its test accuracy, and whether its weights are
bitwise those genbench ships pinned for this data: trained on another machine, the same data, recipe
and genbench must give the same weights.

Usage: python benchmarks/classifier_training.py [--data fashion-mnist] [--data-root DIR]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch

from genbench.core.files import read_json
from genbench.core.registry import Registry
from genbench.evaluation.classifier import cached_classifier
from genbench.evaluation.pinned_classifiers import pinned_entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="fashion-mnist")
    parser.add_argument("--data-root", type=Path, default=Path("~/.cache/genbench/data").expanduser())
    args = parser.parse_args()
    dataset = Registry.discover().dataset(args.data).cls(args.data_root, download=False)
    train, test = dataset.load("train"), dataset.load("test")
    print(f"{args.data}: {len(train)} train images; {os.cpu_count()} CPUs, load average {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as no_pins:
        cpu, wall = time.process_time(), time.perf_counter()
        found = cached_classifier(
            args.data,
            dataset.shape,
            train,
            test,
            Path(cache),
            torch.device("cpu"),
            pinned_folder=Path(no_pins),
        )
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        pinned = pinned_entry(found.path.name)
    print(
        f"trained on first use: {cpu:.1f} s CPU, {wall:.1f} s wall; test accuracy {found.test_accuracy:.4f}"
    )
    if pinned is None:
        print("genbench pins no classifier for this data")
    else:
        shipped = read_json(pinned.with_suffix(".json"))["weights_sha256"]
        print(f"weights sha256: trained {found.weights_sha256}, pinned {shipped}")
        print(f"bitwise the pinned weights: {found.weights_sha256 == shipped}")
    print(f"load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
