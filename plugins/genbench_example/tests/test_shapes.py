"""The shapes dataset: fixed seeded splits, balanced classes, shapes that differ by class."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from genbench_example import Shapes
from genbench_example.shapes import CLASSES, SIZES, generate

from genbench import UserError


def test_splits_have_the_declared_shape_sizes_and_balanced_classes(tmp_path: Path) -> None:
    dataset = Shapes(tmp_path, download=False)
    for split, size in SIZES.items():
        loaded = dataset.load(split)
        loaded.validate(Shapes.shape, f"shapes, {split}")
        assert len(loaded) == size
        assert torch.bincount(loaded.labels).tolist() == [size // len(CLASSES)] * len(CLASSES)
    assert list(tmp_path.iterdir()) == []  # Generated: nothing written to the data folder.


def test_splits_are_fixed_and_differ_from_each_other(tmp_path: Path) -> None:
    first, second = Shapes(tmp_path).load("test"), Shapes(tmp_path / "other").load("test")
    assert torch.equal(first.images, second.images) and torch.equal(first.labels, second.labels)
    train = Shapes(tmp_path).load("train")
    assert not torch.equal(train.images[: len(first)], first.images)
    # Pinned: changing the generator or its seeds silently changes every shapes score.
    digest = hashlib.sha256(first.images.numpy().tobytes()).hexdigest()[:12]
    assert digest == PINNED_TEST_DIGEST


def test_each_class_has_its_own_geometry() -> None:
    # Mean image per class, centred shapes: the classes' foreground fractions differ.
    images, labels = generate(400, seed=1)
    fractions = [(images[labels == c] > 90).mean() for c in range(len(CLASSES))]
    assert len({round(f, 2) for f in fractions}) == len(CLASSES)
    assert all(0.05 < f < 0.6 for f in fractions)  # Every shape is visible and none fills the image.
    assert images.dtype == np.uint8 and images.min() >= 0


def test_unknown_split_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no split 'valid'"):
        Shapes(tmp_path).load("valid")  # type: ignore[arg-type]


PINNED_TEST_DIGEST = "71c6a17f7adb"
