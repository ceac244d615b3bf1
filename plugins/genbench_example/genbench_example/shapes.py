"""``shapes``: seeded synthetic 16x16 grey images of four shapes, generated on the fly (no files).

Each image holds one filled shape: a disc, a square, an upward triangle or a plus sign (the class
label, 0..3 in that order), with a random centre, size and brightness on a dark background with mild
Gaussian noise. The classes differ in geometry, not in brightness or size, so a generator that mixes
them up shows in the class-aware metrics.

The split is fixed: the train split is drawn from ``numpy.random.default_rng(TRAIN_SEED)``, the test
split from ``default_rng(TEST_SEED)``, each with an equal number of images per class. The seeds and
sizes are part of the dataset's definition: changing them changes every score.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import torch

from genbench import Dataset, DataShape, Split, UserError

CLASSES = ("disc", "square", "triangle", "plus")
RESOLUTION = 16
SIZES = {"train": 1_200, "test": 400}  # Small: genbench's reference classifier trains 50 epochs of it.
SEEDS = {"train": 16_000, "test": 16_001}
TRAIN_SEED, TEST_SEED = SEEDS["train"], SEEDS["test"]
NOISE_STD = 8.0  # Grey levels of background and shape noise.


def shape_masks(labels: np.ndarray, cx: np.ndarray, cy: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Boolean masks ``(N, R, R)`` of the shapes ``labels`` (indices into :data:`CLASSES`) centred at
    ``(cx, cy)`` with half-size ``r``, in pixel units, sampled at pixel centres."""
    grid = np.arange(RESOLUTION) + 0.5
    x = grid[None, None, :] - cx[:, None, None]  # (N, 1, R): offset from the centre.
    y = grid[None, :, None] - cy[:, None, None]  # (N, R, 1)
    r = r[:, None, None]
    arm = np.maximum(r / 3, 1.0)
    masks = {
        "disc": x**2 + y**2 <= r**2,
        "square": np.maximum(np.abs(x), np.abs(y)) <= 0.8 * r,
        # Apex at (0, -r), base at y = 0.8 r spanning x in [-r, r].
        "triangle": (y <= 0.8 * r) & (np.abs(x) <= (y + r) / 1.8),
        "plus": ((np.abs(x) <= arm) & (np.abs(y) <= r)) | ((np.abs(y) <= arm) & (np.abs(x) <= r)),
    }
    stacked = np.stack(
        [np.broadcast_to(masks[name], (len(labels), RESOLUTION, RESOLUTION)) for name in CLASSES]
    )
    return stacked[labels, np.arange(len(labels))]


def generate(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images ``(n, 1, R, R)`` uint8 and their labels int64, ``n / 4`` per class, from ``seed``."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(CLASSES))
    r = rng.uniform(3.0, 6.0, n)
    cx, cy = (rng.uniform(r, RESOLUTION - r) for _ in range(2))  # The shape stays inside the image.
    brightness = rng.uniform(150.0, 255.0, n)[:, None, None]
    noise = rng.normal(0.0, NOISE_STD, (n, RESOLUTION, RESOLUTION))
    images = np.where(shape_masks(labels, cx, cy, r), brightness, 20.0) + noise
    images = np.clip(np.rint(images), 0, 255).astype(np.uint8)[:, None]
    return images, labels.astype(np.int64)


class Shapes(Dataset):
    """Seeded synthetic 16x16 grey shapes in 4 classes: 1,200 train / 400 test, no download."""

    name = "shapes"
    shape = DataShape(channels=1, resolution=RESOLUTION, num_classes=len(CLASSES))
    description = "Synthetic 16x16 shapes: disc, square, triangle, plus (1,200 train / 400 test, seeded)"

    @cached_property
    def _splits(self) -> dict[str, Split]:
        splits = {}
        for split, n in SIZES.items():
            images, labels = generate(n, SEEDS[split])
            splits[split] = Split(torch.from_numpy(images), torch.from_numpy(labels))
        return splits

    def load(self, split: str) -> Split:
        """The whole split as uint8 images ``(N, 1, 16, 16)`` and int64 labels (generated once)."""
        if split not in SIZES:
            raise UserError(f"dataset 'shapes' has no split '{split}'; it has: train, test")
        return self._splits[split]
