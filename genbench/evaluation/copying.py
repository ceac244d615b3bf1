"""Tests for copying the training set, on features: the C_T data-copying statistic (Meehan, Chaudhuri
and Dasgupta, "A Non-Parametric Test to Detect Data-Copying in Generative Models", AISTATS 2020) and
the authenticity fraction (Alaa, van Breugel, Saveliev and van der Schaar, "How Faithful is your
Synthetic Data?", ICML 2022; as dgm-eval's ``AuthPct``, Stein et al. 2023).

Both compare distances to the nearest training point. A model that copies puts its samples closer to
the training set than new real images are: C_T goes well below 0 (it is a z-score: about N(0, 1)
when samples are as far from the training set as held-out images) and the authentic fraction falls
towards 0. Neither is a quality score: blurred or noisy images lie far from the training set and read
as "not copying". Stein et al. found that neither detects memorisation reliably alone on large image
sets; on the small datasets here, exact and near copies are what they catch (tests/evaluation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata, tiecorrect
from sklearn.cluster import KMeans
from sklearn.neighbors import NearestNeighbors

from genbench.core.copying_gallery import CopyingGallery, NearestPair

SEED = 0  # k-means' initialisation: part of the protocol.
MIN_SAMPLES_IN_CELL = 20  # Meehan et al.'s tau = 20 / m: a cell counts with more generated samples.
HELD_OUT_PER_CELL = 50  # Cells: about this many held-out points each, so every in-cell test has power,
MAX_CELLS = 20  # and at most this many (Meehan et al. use 3 to 75 on MNIST-like data).
GALLERY_PAIRS = 8  # The copying gallery's samples: a copier's show at once, and the picture stays small.


def cell_count(n_held_out: int) -> int:
    """How many k-means cells the training set is cut into for ``n_held_out`` held-out points."""
    return int(np.clip(n_held_out // HELD_OUT_PER_CELL, 1, MAX_CELLS))


@dataclass(frozen=True)
class TrainingSet:
    """The training split's features, prepared once per dataset: a k-means partition with a
    nearest-neighbour index per cell (C_T), an index over all of them and each point's distance to
    its nearest other training point (authenticity)."""

    kmeans: KMeans
    cells: tuple[NearestNeighbors, ...]
    index: NearestNeighbors
    nearest_other: np.ndarray  # (N,): distance from each training point to its nearest other one.

    @classmethod
    def of(cls, features: np.ndarray, n_cells: int) -> TrainingSet:
        """Partition ``features`` (N, D) into ``n_cells`` k-means cells and index them."""
        kmeans = KMeans(n_clusters=n_cells, n_init=3, random_state=SEED).fit(features)
        cells = tuple(
            NearestNeighbors(n_neighbors=1).fit(features[kmeans.labels_ == c]) for c in range(n_cells)
        )
        index = NearestNeighbors(n_neighbors=2).fit(features)
        # The nearest point to a training point is itself, at 0: its nearest *other* point is the second.
        nearest_other = index.kneighbors(features, n_neighbors=2)[0][:, 1]
        return cls(kmeans, cells, index, nearest_other)

    def nearest(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each point's distance to its nearest training point, and that point's index (N,) each."""
        distance, index = self.index.kneighbors(features, n_neighbors=1)
        return distance[:, 0], index[:, 0]

    def cell_distances(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each point's k-means cell and its distance to the nearest training point of that cell."""
        labels = self.kmeans.predict(features)
        distances = np.zeros(len(features))
        for cell, index in enumerate(self.cells):
            inside = labels == cell
            if inside.any():
                distances[inside] = index.kneighbors(features[inside], n_neighbors=1)[0][:, 0]
        return labels, distances


@dataclass(frozen=True)
class CopyingTest:
    """C_T with what it was computed from: the per-cell z-scores of the cells that counted."""

    c_t: float | None  # None: no cell had enough generated samples.
    cells_used: int
    cells: int


def z_u(generated: np.ndarray, held_out: np.ndarray) -> float:
    """The Mann–Whitney U of the generated points' distances to the training set against the held-out
    points', z-scored under the null that both come from one distribution: below 0 when the
    generated points are the closer. The z-score is written out (normal approximation with
    continuity and tie corrections, as scipy's asymptotic test uses) because scipy returns only a
    p-value, which underflows to 0 for the strong copying we must still rank. U is scipy's U of the
    generated points (``mannwhitneyu(...).statistic``), from one ranking (scipy's midranks) shared with
    the tie correction: the intervals recompute it hundreds of times."""
    m, n = len(generated), len(held_out)
    ranks = rankdata(np.concatenate([generated, held_out]))
    u = ranks[:m].sum() - m * (m + 1) / 2
    variance = m * n * (m + n + 1) / 12 * tiecorrect(ranks)
    if variance == 0:  # Every distance equal: no evidence either way.
        return 0.0
    return float((u - m * n / 2 + 0.5) / np.sqrt(variance))


def data_copying(
    train: TrainingSet, generated: np.ndarray, held_out: tuple[np.ndarray, np.ndarray]
) -> CopyingTest:
    """Meehan et al.'s C_T of ``generated`` features against ``held_out`` (its cells and distances, from
    :meth:`TrainingSet.cell_distances`): the held-out-weighted mean of the per-cell z-scores over the
    cells holding more than MIN_SAMPLES_IN_CELL generated points (and some held-out ones)."""
    c_t, used = c_t_of(train.cell_distances(generated), held_out, len(train.cells))
    return CopyingTest(c_t, used, len(train.cells))


def c_t_of(
    generated: tuple[np.ndarray, np.ndarray], held_out: tuple[np.ndarray, np.ndarray], cells: int
) -> tuple[float | None, int]:
    """C_T from the generated and held-out points' cells and distances (each as
    :meth:`TrainingSet.cell_distances` gives them), and how many of the ``cells`` counted."""
    (gen_cells, gen_distances), (held_cells, held_distances) = generated, held_out
    scores, weights = [], []
    for cell in range(cells):
        in_gen, in_held = gen_cells == cell, held_cells == cell
        if in_gen.sum() > MIN_SAMPLES_IN_CELL and in_held.any():
            scores.append(z_u(gen_distances[in_gen], held_distances[in_held]))
            weights.append(in_held.mean())
    return (float(np.average(scores, weights=weights)) if scores else None), len(scores)


def authenticity(
    train: TrainingSet, generated: np.ndarray, nearest: tuple[np.ndarray, np.ndarray] | None = None
) -> float:
    """The fraction of ``generated`` points farther from their nearest training point than that
    training point is from its own nearest other training point (Alaa et al.'s authenticity; copies
    are closer, and read as not authentic). ``nearest``: :meth:`TrainingSet.nearest` of ``generated``
    where the caller has it (the gallery shares the search)."""
    return float(np.mean(authentic(train, generated, nearest)))


def authentic(
    train: TrainingSet, generated: np.ndarray, nearest: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Whether each of the ``generated`` points is authentic (:func:`authenticity`'s terms)."""
    distance, index = nearest if nearest is not None else train.nearest(generated)
    return distance > train.nearest_other[index]


def gallery(
    nearest: tuple[np.ndarray, np.ndarray], held_out: np.ndarray, features: str, pairs: int = GALLERY_PAIRS
) -> CopyingGallery:
    """The ``pairs`` samples nearest to a training point (``nearest``: :meth:`TrainingSet.nearest` of
    the samples), nearest first, with the distances of the ``held_out`` points (at least one) to their
    own nearest training point to read them against. One pair per training image (its nearest
    sample): a model that repeats one image shows it once, and a copier shows as many images as it
    copies. Ties keep the samples' order (a stable sort): the same samples give the same gallery."""
    distance, index = nearest
    order = np.argsort(distance, kind="stable")
    first = np.unique(index[order], return_index=True)[1]  # Each training image's nearest sample.
    chosen = order[np.sort(first)[:pairs]]
    return CopyingGallery(
        pairs=tuple(NearestPair(int(i), int(index[i]), float(distance[i])) for i in chosen),
        n_samples=len(distance),
        n_held_out=len(held_out),
        held_out_median=float(np.median(held_out)),
        held_out_nearest=float(np.min(held_out)),
        nearer_than_held_out=float(np.mean(distance < np.min(held_out))),
        features=features,
    )
