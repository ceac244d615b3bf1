"""Generalisation metrics of the metric table, in the reference classifier's features
(genbench.evaluation.feature_metrics computes the features once for them and FD∞): whether samples
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
from typing import TYPE_CHECKING

import numpy as np
import torch

from genbench.core.copying_gallery import CopyingGallery
from genbench.evaluation.classifier_features import dataset_features
from genbench.evaluation.computation import Computed, Interval, Request
from genbench.evaluation.copying import (
    MIN_SAMPLES_IN_CELL,
    TrainingSet,
    authentic,
    c_t_of,
    cell_count,
    gallery,
)
from genbench.evaluation.feature_intervals import fd_interval
from genbench.evaluation.frechet import Statistics, frechet_distance, statistics
from genbench.evaluation.generalisation_intervals import (
    COPYING_METHOD,
    GAP_METHOD,
    authentic_interval,
    c_t_interval,
)
from genbench.evaluation.setup import REFERENCE_SEED, EvaluationSetup

if TYPE_CHECKING:  # Evaluation gathers what this module computes: imported for the hint alone.
    from genbench.evaluation.evaluate import Evaluation

GALLERY = "gallery"  # copying's Computed.details: the copying gallery (genbench.core.copying_gallery).

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
    held_out_nearest: np.ndarray  # The held-out half's distances to the nearest training image (any cell).
    floor_samples: torch.Tensor  # The other half of the test split: the floor's "samples".
    train_features: np.ndarray  # As many training images as the held-out half holds (seeded subset).
    held_out_features: np.ndarray
    train_statistics: Statistics
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
        training.nearest(held)[0],
        floor_samples,
        train[order],
        held,
        statistics(train[order]),
        statistics(held),
        len(train),
        len(held),
    )


def _unavailable(request: Request) -> str | None:
    """Why the request cannot be scored against the splits (None: it can)."""
    setup = request.setup
    return (
        "the evaluation setup holds no train and test splits"
        if setup.train_images is None or setup.test_images is None
        else None
    )


def _prepared(request: Request, features: np.ndarray) -> tuple[Reference, np.ndarray, dict[str, object]]:
    """The dataset's reference, the features scored (for the floor: of the test split's other half) and
    the protocol fields both metrics share."""
    setup = request.setup
    reference = setup.once("generalisation", lambda: _reference(setup))
    if request.floor:
        features = dataset_features(setup, "test-floor-half", reference.floor_samples)
    shared = {
        **setup.classifier.protocol(),
        "n_train": reference.n_train,
        "n_held_out": reference.n_held_out,
        "held_out": f"half of the test split (seeded shuffle, seed {REFERENCE_SEED})",
    }
    if request.floor:
        shared["samples"] = "the test split's other half (real images no model trained on)"
    return reference, features, shared


def copying(request: Request, features: np.ndarray) -> Computed:
    """``copying_clf`` of samples with these classifier ``features``: C_T and the authentic fraction,
    with the cells C_T used (empty where the setup holds no splits)."""
    if (missing := _unavailable(request)) is not None:
        return Computed((None, None), {"unavailable": missing})
    reference, features, shared = _prepared(request, features)
    training, cells = reference.training, len(reference.training.cells)
    in_cells = training.cell_distances(features)
    c_t, used = c_t_of(in_cells, reference.held_out, cells)
    protocol: dict[str, object] = {
        **shared,
        "method": METHODS["copying"],
        "cells": cells,
        "cells_used": used,
        "min_samples_in_cell": MIN_SAMPLES_IN_CELL,
    }
    nearest = training.nearest(features)
    terms = authentic(training, features, nearest)
    values = (c_t, float(np.mean(terms)))
    intervals: tuple[Interval | None, ...] = ()
    if request.wants_intervals:
        settings = request.setup.intervals
        intervals = (
            c_t_interval(in_cells, reference.held_out, cells, c_t, settings),
            authentic_interval(terms, settings),
        )
        protocol["interval"] = settings.protocol(COPYING_METHOD)
    if request.floor:  # The floor's "samples" are not the request's images: no gallery of them.
        return Computed(values, protocol, intervals)
    found = gallery(nearest, reference.held_out_nearest, str(shared["extractor"]))
    return Computed(values, protocol, intervals, details={GALLERY: found})


def gap(request: Request, features: np.ndarray) -> Computed:
    """``fd_gap_clf`` of samples with these classifier ``features``: FD to the training images and to
    as many held-out ones (empty where the setup holds no splits)."""
    if (missing := _unavailable(request)) is not None:
        return Computed((None, None), {"unavailable": missing})
    reference, features, shared = _prepared(request, features)
    sample_statistics = statistics(features)
    train = frechet_distance(sample_statistics, reference.train_statistics)
    held_out = frechet_distance(sample_statistics, reference.held_out_statistics)
    protocol: dict[str, object] = {**shared, "method": METHODS["gap"]}
    if not request.wants_intervals:
        return Computed((train, held_out), protocol)
    setup = request.setup
    intervals = tuple(
        fd_interval(
            torch.from_numpy(features), torch.from_numpy(against), value, setup.intervals, setup.device
        )
        for value, against in ((train, reference.train_features), (held_out, reference.held_out_features))
    )
    protocol["interval"] = setup.intervals.protocol(GAP_METHOD)
    return Computed((train, held_out), protocol, intervals)


def copying_gallery(evaluation: Evaluation) -> CopyingGallery | None:
    """The copying gallery ``evaluation`` found (None: ``copying_clf`` was not asked for, the setup
    holds no splits, or the samples were the floor's)."""
    found = (details[GALLERY] for details in evaluation.details.values() if GALLERY in details)
    return next(found, None)
