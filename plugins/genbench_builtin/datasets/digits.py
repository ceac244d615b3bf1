"""``digits``: scikit-learn's bundled 8x8 handwritten digits, the embedded default dataset.

1,797 real images (UCI "Optical Recognition of Handwritten Digits", 4x4 blocks counted into 0..16)
ship inside scikit-learn, so this needs no download and no data folder: the default ``genbench run``
and the fast tests use it.

The split is fixed: a permutation drawn from ``numpy.random.default_rng(SPLIT_SEED)``, whose last
``TEST_SIZE`` (360) indices are the test split and the other 1,437 the train split. Permuting first
makes the test split a random sample rather than the tail of the file, so both splits mix images of
all writers. The seed is part of the benchmark's definition: changing it changes every score.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import torch

from genbench.api import DataShape, Split, SplitName
from genbench_builtin.datasets.cached import CachedDataset

SPLIT_SEED = 20_240_601
TEST_SIZE = 360
NUM_IMAGES = 1_797
MAX_COUNT = 16  # Each pixel counts the set pixels in a 4x4 block: 0..16.

# Count v -> round(v * 255 / 16) as uint8, exact: a table, not float arithmetic per pixel.
_TO_UINT8 = np.array([round(v * 255 / MAX_COUNT) for v in range(MAX_COUNT + 1)], dtype=np.uint8)


def split_indices(n: int = NUM_IMAGES) -> dict[SplitName, np.ndarray]:
    """Indices into scikit-learn's order of the train and test images: disjoint, covering all ``n``."""
    order = np.random.default_rng(SPLIT_SEED).permutation(n)
    return {"train": order[:-TEST_SIZE], "test": order[-TEST_SIZE:]}


def to_uint8(counts: np.ndarray) -> np.ndarray:
    """Map block counts 0..16 (any numeric dtype holding integers) to uint8 0..255."""
    as_int = counts.astype(np.int64)
    if as_int.min() < 0 or as_int.max() > MAX_COUNT or not np.array_equal(as_int, counts):
        raise ValueError(f"digit pixels must be integers in 0..{MAX_COUNT}")
    return _TO_UINT8[as_int]


class Digits(CachedDataset):
    """scikit-learn's 1,797 real 8x8 handwritten digits: 1,437 train / 360 test, no download."""

    name = "digits"
    shape = DataShape(channels=1, resolution=8, num_classes=10)
    description = "scikit-learn's bundled 8x8 handwritten digits (1,437 train / 360 test), no download"

    @cached_property
    def _both_splits(self) -> dict[SplitName, Split]:
        # Imported here: scikit-learn's datasets module costs about half a second, which commands that
        # only list plugins should not pay.
        from sklearn.datasets import load_digits

        bunch = load_digits()
        images = torch.from_numpy(to_uint8(bunch.images)).unsqueeze(1)  # (N, 8, 8) -> (N, 1, 8, 8)
        labels = torch.from_numpy(bunch.target.astype(np.int64))
        if len(images) != NUM_IMAGES:
            raise RuntimeError(f"scikit-learn's digits have {len(images)} images, expected {NUM_IMAGES}")
        return {
            split: Split(images[torch.from_numpy(idx)].contiguous(), labels[torch.from_numpy(idx)])
            for split, idx in split_indices().items()
        }

    def _load_split(self, split: SplitName) -> Split:
        return self._both_splits[split]
