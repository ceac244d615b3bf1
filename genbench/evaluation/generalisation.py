"""The metric table's generalisation metrics, in the reference classifier's features: whether samples
copy the training split (``copying_clf``: C_T and the authentic fraction, genbench.evaluation.copying)
and the train/test gap (``fd_gap_clf``: the Fréchet distance to training images beside the distance to
as many held-out ones; a model that reproduces its training images is the nearer to the first).

Each compares with the dataset's splits as the sweep loaded them (``EvaluationSetup.train_images`` and
``test_images``). The test split is cut once, by a fixed seeded shuffle, into two halves: the second is
the held-out set every model is compared with, the first stands in for a model's samples in the
real-data floor, so the floor row reads what real images that no model trained on read (the floor's
own images, train images where the reference is the test split, would read as perfect copies).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from genbench.core.metrics import Metric
from genbench.evaluation.classifier_features import classifier_features, dataset_features
from genbench.evaluation.computation import Computed, Request
from genbench.evaluation.copying import (
    MIN_SAMPLES_IN_CELL,
    TrainingSet,
    authenticity,
    cell_count,
    data_copying,
)
from genbench.evaluation.frechet import Statistics, frechet_distance, statistics
from genbench.evaluation.setup import REFERENCE_SEED, EvaluationSetup

# What each computation argument computes, as its protocol says.
METHODS = {
    "copying": "C_T: Meehan et al. 2020 (Mann-Whitney U per k-means cell of the training features); "
    "authenticity: Alaa et al. 2022",
    "gap": "Frechet distance (torch-fidelity's) to a seeded subset of the train split and to the "
    "held-out half of the test split, of equal size",
}


@dataclass(frozen=True)
class Reference:
    """What a dataset's runs are compared with, prepared once per dataset."""

    training: TrainingSet
    held_out: tuple[np.ndarray, np.ndarray]  # The held-out half's k-means cells and training distances.
    floor_samples: torch.Tensor  # The other half of the test split: the floor's "samples".
    train_statistics: Statistics  # Of as many training images as the held-out half holds.
    held_out_statistics: Statistics
    n_train: int
    n_held_out: int


def held_out_halves(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of a test split of ``n`` images cut by a fixed seeded shuffle: (the floor's samples, the
    held-out reference)."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(REFERENCE_SEED))
    return order[: n // 2], order[n // 2 :]


def _reference(setup: EvaluationSetup) -> Reference:
    assert setup.train_images is not None and setup.test_images is not None
    floor_half, held_out_half = held_out_halves(len(setup.test_images))
    floor_samples, held_out = setup.test_images[floor_half], setup.test_images[held_out_half]
    train = dataset_features(setup, "train", setup.train_images)
    held = dataset_features(setup, "test-held-out", held_out)
    training = TrainingSet.of(train, cell_count(len(held)))
    order = np.random.default_rng(REFERENCE_SEED).permutation(len(train))[: len(held)]
    return Reference(
        training,
        training.cell_distances(held),
        floor_samples,
        statistics(train[order]),
        statistics(held),
        len(train),
        len(held),
    )


def generalisation(metrics: list[Metric], request: Request) -> dict[str, Computed]:
    """``copying_clf`` and ``fd_gap_clf`` of the request's samples (of the test split's other half for
    the floor), empty where the setup has no splits."""
    setup = request.setup
    if setup.train_images is None or setup.test_images is None:
        missing = {"unavailable": "the evaluation setup holds no train and test splits"}
        return {m.name: Computed((None,) * len(m.columns), missing) for m in metrics}
    reference = setup.once("generalisation", lambda: _reference(setup))
    samples = reference.floor_samples if request.floor else request.samples
    features = classifier_features(setup, samples)
    shared = {
        **setup.classifier.protocol(),
        "n_train": reference.n_train,
        "n_held_out": reference.n_held_out,
        "held_out": f"half of the test split (seeded shuffle, seed {REFERENCE_SEED})",
        **(
            {"samples": "the test split's other half (real images no model trained on)"}
            if request.floor
            else {}
        ),
    }
    computed = {}
    for metric in metrics:
        argument = metric.computation.argument
        values, protocol = (
            _copying(reference, features) if argument == "copying" else _gap(reference, features)
        )
        computed[metric.name] = Computed(values, {**shared, "method": METHODS[argument], **protocol})
    return computed


def _copying(reference: Reference, features: np.ndarray) -> tuple[tuple[float | None, ...], dict[str, int]]:
    """C_T and the authentic fraction, with the cells C_T used."""
    test = data_copying(reference.training, features, reference.held_out)
    protocol = {
        "cells": test.cells,
        "cells_used": test.cells_used,
        "min_samples_in_cell": MIN_SAMPLES_IN_CELL,
    }
    return (test.c_t, authenticity(reference.training, features)), protocol


def _gap(reference: Reference, features: np.ndarray) -> tuple[tuple[float | None, ...], dict[str, int]]:
    """FD to the training images and to the held-out ones."""
    sample_statistics = statistics(features)
    train = frechet_distance(sample_statistics, reference.train_statistics)
    return (train, frechet_distance(sample_statistics, reference.held_out_statistics)), {}
