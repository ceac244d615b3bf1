"""``mnist`` and ``fashion-mnist``: 60,000 train / 10,000 test 28x28 grey images in IDX files.

Both are read by torchvision's dataset classes from ``<root>/MNIST/raw`` or ``<root>/FashionMNIST/raw``,
which hold the four *uncompressed* IDX files. Where those are missing this module finds them, in order:

1. the ``.gz`` files in the raw folder (placed there by hand, as downloaded), or, for Fashion-MNIST,
   in :data:`DEBIAN_FASHION_MNIST`, where Debian's ``dataset-fashion-mnist`` package installs them:
   each is extracted into the raw folder. We extract them ourselves because torchvision's
   ``download()`` would reject the Debian files: their gzip headers differ (no file name, a 2020
   time stamp), so their md5 sums are not the ones torchvision checks;
2. torchvision's own download, when ``download`` is true;
3. otherwise a :class:`genbench.errors.DataNotFoundError` saying where it looked and what to do.

Each IDX file is checked (magic number, dimensions, size) before torchvision reads it, because
torchvision answers a truncated file with a bare assertion or reshape error that names no file.
"""

from __future__ import annotations

import struct
from math import prod
from pathlib import Path
from typing import ClassVar

import torch

from genbench.api import DataShape, Split, SplitName
from genbench.errors import DataNotFoundError
from genbench_builtin.datasets.cached import CachedDataset
from genbench_builtin.datasets.fetching import download_note, gunzip_atomic, not_found, quiet_download

# Where Debian's dataset-fashion-mnist package puts train-images-idx3-ubyte.gz and the three others.
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")

IMAGE_SIZE = 28
IMAGES_MAGIC = 0x00000803  # IDX header: unsigned bytes, 3 dimensions (N, 28, 28).
LABELS_MAGIC = 0x00000801  # IDX header: unsigned bytes, 1 dimension (N,).

# (images, labels) file names of each split, as torchvision expects them in the raw folder.
IDX_FILES: dict[SplitName, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
ALL_IDX_FILES = tuple(name for pair in IDX_FILES.values() for name in pair)


def idx_count(path: Path, magic: int, item_shape: tuple[int, ...], owner: str) -> int:
    """The number of items in the IDX file ``path``, after checking its header and its size."""
    header_size = 4 * (2 + len(item_shape))
    with path.open("rb") as file:
        header = file.read(header_size)
    size = path.stat().st_size
    redo = "delete it so that it is extracted or downloaded again"
    if len(header) < header_size:
        raise DataNotFoundError(f"{owner}: {path} is truncated ({size} bytes, not even a header); {redo}")
    found_magic, count, *dims = struct.unpack(f">{2 + len(item_shape)}I", header)
    expected = "x".join(map(str, ("N", *item_shape)))
    not_idx = f"{owner}: {path} is not an IDX file of {expected} unsigned bytes"
    if found_magic != magic:
        # The magic's last byte is the number of dimensions: say it, not dimensions read from the wrong
        # place (a label file read as images, or the other way round).
        ndim = found_magic & 0xFF
        raise DataNotFoundError(
            f"{not_idx} (magic 0x{found_magic:08x} announces {ndim} dimension{'s' * (ndim != 1)}, "
            f"not {1 + len(item_shape)}); {redo}"
        )
    if tuple(dims) != item_shape:
        raise DataNotFoundError(f"{not_idx} (dimensions {'x'.join(map(str, (count, *dims)))}); {redo}")
    expected_size = header_size + count * prod(item_shape)
    if size < expected_size:
        raise DataNotFoundError(
            f"{owner}: {path} is {size} bytes but its header announces {count} items, "
            f"{expected_size} bytes: truncated; {redo}"
        )
    if size > expected_size:
        raise DataNotFoundError(
            f"{owner}: {path} is {size - expected_size} bytes longer than its header announces "
            f"({count} items, {expected_size} bytes); {redo}"
        )
    return count


class IdxDataset(CachedDataset):
    """An MNIST-like dataset read by the torchvision class named ``torchvision_class``."""

    shape = DataShape(channels=1, resolution=IMAGE_SIZE, num_classes=10)
    torchvision_class: ClassVar[str]  # Also the folder under ``root``: torchvision uses the class name.

    @property
    def raw_folder(self) -> Path:
        """Where torchvision reads the uncompressed IDX files."""
        return self.root / self.torchvision_class / "raw"

    def gz_folders(self) -> list[Path]:
        """Folders searched, in order, for ``<name>.gz`` when an uncompressed file is missing."""
        return [self.raw_folder]

    def install_hints(self) -> list[str]:
        """Further ways to provide the data, for the not-found message."""
        return []

    def _load_split(self, split: SplitName) -> Split:
        # Imported here: torchvision.datasets costs about a second, which `genbench list` should not pay.
        import torchvision.datasets

        self._ensure_files()  # Cheap once the files are there: four stat calls.
        images_name, labels_name = IDX_FILES[split]
        item = (IMAGE_SIZE, IMAGE_SIZE)
        n_images = idx_count(self.raw_folder / images_name, IMAGES_MAGIC, item, self.name)
        n_labels = idx_count(self.raw_folder / labels_name, LABELS_MAGIC, (), self.name)
        if n_images != n_labels:
            raise DataNotFoundError(
                f"{self.name}: {self.raw_folder / images_name} holds {n_images} images but "
                f"{labels_name} holds {n_labels} labels; replace both with a matching pair"
            )
        dataset = getattr(torchvision.datasets, self.torchvision_class)(
            self.root, train=split == "train", download=False
        )
        return Split(dataset.data.unsqueeze(1).contiguous(), dataset.targets.to(torch.int64))

    def _missing(self) -> list[str]:
        return [name for name in ALL_IDX_FILES if not (self.raw_folder / name).is_file()]

    def _ensure_files(self) -> None:
        # torchvision checks that all four files exist whichever split it reads, so get all four.
        for name in self._missing():
            sources = (folder / f"{name}.gz" for folder in self.gz_folders())
            source = next((path for path in sources if path.is_file()), None)
            if source is not None:
                gunzip_atomic(source, self.raw_folder / name, self.name)
        reason = None
        if self._missing() and self.download:
            import torchvision.datasets

            cls = getattr(torchvision.datasets, self.torchvision_class)
            reason = quiet_download(lambda: cls(self.root, train=True, download=True))
        missing = self._missing()
        if missing:
            gz_names = ", ".join(f"{name}.gz" for name in ALL_IDX_FILES)
            remedies = [
                f"put the four IDX .gz files ({gz_names}) in {self.raw_folder}",
                "pass --data-root / GENBENCH_DATA_ROOT naming a folder that has "
                f"{self.torchvision_class}/raw/",
                *self.install_hints(),
            ]
            looked_in = list(dict.fromkeys([self.raw_folder, *self.gz_folders()]))
            raise not_found(self.name, looked_in, missing, download_note(self.download, reason), remedies)


class MNIST(IdxDataset):
    """MNIST handwritten digits, 28x28 grey: 60,000 train / 10,000 test, via torchvision."""

    name = "mnist"
    description = "MNIST handwritten digits, 28x28 grey, 60,000 train / 10,000 test (torchvision)"
    torchvision_class = "MNIST"


class FashionMNIST(IdxDataset):
    """Zalando's Fashion-MNIST clothes, 28x28 grey: 60,000 train / 10,000 test, via torchvision."""

    name = "fashion-mnist"
    description = "Fashion-MNIST clothing, 28x28 grey, 60,000 train / 10,000 test (torchvision or Debian)"
    torchvision_class = "FashionMNIST"

    def gz_folders(self) -> list[Path]:
        """The raw folder, then Debian's (read at call time, so tests can point it elsewhere)."""
        return [self.raw_folder, DEBIAN_FASHION_MNIST]

    def install_hints(self) -> list[str]:
        """Debian and Ubuntu package the data."""
        return ["apt-get install dataset-fashion-mnist"]
