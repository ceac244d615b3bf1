"""Writers of small CIFAR-10-format files for tests, in the real layout of ``cifar-10-batches-py``.

Each batch is a pickle (protocol 2) of a dict with str keys: 'batch_label', 'labels' (list of int),
'data' (N x 3072 uint8, each row the R plane then the G plane then the B plane, row-major) and
'filenames'; ``batches.meta`` holds 'label_names', 'num_cases_per_batch' and 'num_vis'.
"""

from __future__ import annotations

import hashlib
import pickle
import tarfile
from pathlib import Path

import numpy as np

FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
LABEL_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def make_images(n: int, seed: int) -> tuple[np.ndarray, list[int]]:
    """Random (N, 3, 32, 32) uint8 images and labels cycling through 0..9."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8), [(i + seed) % 10 for i in range(n)]


def _dump(path: Path, content: dict) -> str:
    path.write_bytes(pickle.dumps(content, protocol=2))
    return hashlib.md5(path.read_bytes()).hexdigest()


def write_cifar(
    root: Path, train: np.ndarray, train_labels: list[int], test: np.ndarray, test_labels: list[int]
) -> dict[str, str]:
    """Write ``root/cifar-10-batches-py``: ``train`` spread over the five batches; md5 of each file."""
    folder = root / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    md5s = {}
    chunks = np.array_split(np.arange(len(train)), len(TRAIN_BATCHES))
    batches = [
        (name, train[idx], [train_labels[i] for i in idx])
        for name, idx in zip(TRAIN_BATCHES, chunks, strict=True)
    ]
    for name, images, labels in [*batches, ("test_batch", test, test_labels)]:
        md5s[name] = _dump(
            folder / name,
            {
                "batch_label": f"{name} of a test",
                "labels": list(labels),
                "data": images.reshape(len(images), 3 * 32 * 32),  # (N, C, H, W) flattened: R, G, B planes.
                "filenames": [f"{name}_{i}.png" for i in range(len(images))],
            },
        )
    md5s["batches.meta"] = _dump(
        folder / "batches.meta",
        {
            "label_names": LABEL_NAMES,
            "num_cases_per_batch": len(batches[0][1]),
            "num_vis": 3 * 32 * 32,
        },
    )
    return md5s


def tar_folder(root: Path) -> Path:
    """Pack ``root/cifar-10-batches-py`` into ``root/cifar-10-python.tar.gz`` as the real archive is."""
    archive = root / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root / FOLDER, arcname=FOLDER)
    return archive
