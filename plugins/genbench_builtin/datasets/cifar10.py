"""``cifar10``: 50,000 train / 10,000 test 32x32 colour images in 10 classes, via torchvision.

torchvision's ``CIFAR10`` reads the python pickle batches in ``<root>/cifar-10-batches-py/`` and checks
each file's md5 against its class attributes ``train_list``, ``test_list`` and ``meta``. Where that
folder is missing or incomplete this module extracts ``<root>/cifar-10-python.tar.gz`` if it is there,
else lets torchvision download it when ``download`` is true, else raises
:class:`genbench.errors.DataNotFoundError` saying where it looked and what to do.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genbench.api import DataShape, Split, SplitName
from genbench.errors import DataNotFoundError
from genbench_builtin.datasets.cached import CachedDataset
from genbench_builtin.datasets.fetching import (
    download_note,
    extract_folder_atomic,
    not_found,
    quiet_download,
)

ROW_SIZE = 3 * 32 * 32  # One image of a batch's "data": the R, G and B planes, row-major.


def _torchvision_cifar10() -> Any:
    # Imported here: torchvision.datasets costs about a second, which `genbench list` should not pay.
    # Looked up at each call, so tests that patch the class's md5 lists are seen.
    import torchvision.datasets

    return torchvision.datasets.CIFAR10


class CIFAR10(CachedDataset):
    """CIFAR-10 colour photos, 32x32: 50,000 train / 10,000 test in 10 classes, via torchvision."""

    name = "cifar10"
    shape = DataShape(channels=3, resolution=32, num_classes=10)
    description = "CIFAR-10 colour photos, 32x32, 50,000 train / 10,000 test (torchvision)"

    def __init__(self, root: Path, download: bool = True) -> None:
        super().__init__(root, download)
        self._files_ready = False

    @property
    def folder(self) -> Path:
        """Where torchvision reads the pickle batches."""
        return self.root / _torchvision_cifar10().base_folder

    def _load_split(self, split: SplitName) -> Split:
        if not self._files_ready:  # Once per instance: checking means md5-summing 170 MB.
            self._ensure_files()
            self._files_ready = True
        try:
            dataset = _torchvision_cifar10()(self.root, train=split == "train", download=False)
        except (ValueError, KeyError, TypeError, IndexError) as error:  # numpy's words, naming no file.
            raise self._malformed(split, error) from error
        # torchvision turns the batches' channel planes into (N, H, W, C); genbench wants (N, C, H, W).
        images = torch.from_numpy(np.ascontiguousarray(dataset.data.transpose(0, 3, 1, 2)))
        return Split(images, torch.as_tensor(dataset.targets, dtype=torch.int64))

    def _malformed(self, split: SplitName, error: Exception) -> DataNotFoundError:
        """The user error for batches whose md5 matched but whose contents torchvision cannot read:
        the first file of ``split`` that does not hold (N, 3072) uint8 rows with N labels."""
        tv = _torchvision_cifar10()
        redo = f"delete {self.folder} and provide the data again"
        for name, _ in tv.train_list if split == "train" else tv.test_list:
            path = self.folder / name
            with path.open("rb") as file:
                batch = pickle.load(file, encoding="latin1")
            data = np.asarray(batch.get("data")) if isinstance(batch, dict) else None
            labels = batch.get("labels", batch.get("fine_labels")) if isinstance(batch, dict) else None
            if data is None or data.ndim != 2 or data.shape[1] != ROW_SIZE:
                shape = "no 'data'" if data is None else f"data of shape {data.shape}"
                return DataNotFoundError(
                    f"{self.name}: {path} holds {shape}, not (N, {ROW_SIZE}) rows of 32x32 RGB; {redo}"
                )
            if labels is None or len(labels) != len(data):
                count = "no" if labels is None else len(labels)
                return DataNotFoundError(
                    f"{self.name}: {path} holds {len(data)} images but {count} labels; {redo}"
                )
        return DataNotFoundError(
            f"{self.name}: cannot read the {split} batches in {self.folder} ({error}); {redo}"
        )

    def _problems(self) -> tuple[list[str], list[str]]:
        """Names of the expected files that are missing, and of those whose md5 is wrong."""
        from torchvision.datasets.utils import check_integrity

        tv = _torchvision_cifar10()
        expected = [*tv.train_list, *tv.test_list, (tv.meta["filename"], tv.meta["md5"])]
        missing = [name for name, _ in expected if not (self.folder / name).is_file()]
        corrupt = [
            name
            for name, md5 in expected
            if name not in missing and not check_integrity(self.folder / name, md5)
        ]
        return missing, corrupt

    def _ensure_files(self) -> None:
        tv = _torchvision_cifar10()
        archive = self.root / tv.filename
        missing, corrupt = self._problems()
        extracted = False
        if (missing or corrupt) and archive.is_file():
            extract_folder_atomic(archive, self.root, tv.base_folder, self.name)
            extracted = True
            missing, corrupt = self._problems()
        reason = None
        if (missing or corrupt) and self.download:
            reason = quiet_download(lambda: tv(self.root, train=True, download=True))
            missing, corrupt = self._problems()
        if corrupt:
            raise self._mismatch(missing, corrupt, archive if extracted else None, reason)
        if missing:
            remedies = [
                f"put the extracted {tv.base_folder} folder, or {tv.filename}, in {self.root}",
                "pass --data-root / GENBENCH_DATA_ROOT naming a folder that has one of them",
            ]
            raise not_found(
                self.name, [self.folder, archive], missing, download_note(self.download, reason), remedies
            )

    def _mismatch(
        self, missing: list[str], corrupt: list[str], archive: Path | None, reason: str | None
    ) -> DataNotFoundError:
        """One short line: the folder once, then file names (not paths, not hashes), where the files
        came from and what the download did."""
        parts = [f"missing {', '.join(missing)}"] if missing else []
        verb = "does" if len(corrupt) == 1 else "do"
        parts.append(
            f"{', '.join(corrupt)} {verb} not match torchvision's md5 (truncated or another version?)"
        )
        if archive is not None:
            parts.append(f"extracted from {archive}, which does not match either")
        if self.download:
            parts.append(f"download failed: {reason}" if reason else "a fresh download did not match either")
        delete = "the folder and that archive" if archive is not None else "the folder"
        return DataNotFoundError(
            f"{self.name}: in {self.folder}: {'; '.join(parts)}; delete {delete} and provide the data again"
        )
