"""Writers of small MNIST-format files for tests: IDX (big-endian header, unsigned bytes), gzipped.

The layout is the real one: images start with magic 0x00000803 and the dimensions N, 28, 28; labels
with magic 0x00000801 and N; each as 32-bit big-endian integers, then the bytes row by row.
"""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass(frozen=True)
class IdxSplit:
    """What a test wrote for one split: images (N, 28, 28) uint8 and labels (N,) uint8."""

    images: np.ndarray
    labels: np.ndarray


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` (uint8, 1 or 3 dimensions) as an IDX file."""
    assert array.dtype == np.uint8 and array.ndim in (1, 3)
    magic = 0x00000800 | array.ndim
    return struct.pack(f">{1 + array.ndim}I", magic, *array.shape) + array.tobytes()


def make_splits(n_train: int = 20, n_test: int = 10, seed: int = 0) -> dict[str, IdxSplit]:
    """Random images with every pixel value likely present, and labels cycling through 0..9."""
    rng = np.random.default_rng(seed)
    return {
        split: IdxSplit(
            images=rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8),
            labels=((np.arange(n) + 3 * (split == "test")) % 10).astype(np.uint8),
        )
        for split, n in (("train", n_train), ("test", n_test))
    }


def write_idx(folder: Path, splits: dict[str, IdxSplit], compress: bool) -> dict[str, Path]:
    """Write the four files of ``splits`` into ``folder`` (``.gz`` if ``compress``); paths by base name."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for split, (images_name, labels_name) in FILES.items():
        for name, array in ((images_name, splits[split].images), (labels_name, splits[split].labels)):
            data = idx_bytes(array)
            path = folder / (f"{name}.gz" if compress else name)
            path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
            written[name] = path
    return written
