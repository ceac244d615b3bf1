"""The base of the built-in datasets: split names checked once, each split loaded once per instance."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path

from genbench.api import Dataset, Split, SplitName
from genbench.errors import DataNotFoundError, UserError

SPLITS: tuple[SplitName, ...] = ("train", "test")


class CachedDataset(Dataset):
    """A :class:`genbench.Dataset` that loads each split at most once and checks it against ``shape``.

    The runner loads train and test, and other callers (the reference classifier, tests) may ask
    again: reading and decoding files every time would repeat the slowest part of a small run.
    """

    def __init__(self, root: Path, download: bool = True) -> None:
        super().__init__(Path(root).expanduser(), download)  # "~/data" from a suite or --data-root=~/data.
        self._splits: dict[SplitName, Split] = {}

    def load(self, split: SplitName) -> Split:
        """The split as uint8 images ``(N, C, H, W)`` and int64 labels; cached after the first call."""
        if split not in SPLITS:
            raise UserError(f"dataset '{self.name}' has no split '{split}'; it has: {', '.join(SPLITS)}")
        if split not in self._splits:
            try:
                loaded = self._load_split(split)
            except PermissionError as error:  # The same line whether the root came from an option or not.
                where = error.filename or self.root
                raise DataNotFoundError(
                    f"dataset '{self.name}': cannot read {where} (permission denied); make {self.root} "
                    "readable, or pass --data-root / GENBENCH_DATA_ROOT naming another folder"
                ) from error
            loaded.validate(self.shape, f"dataset '{self.name}', {split} split")
            self._splits[split] = loaded
        return self._splits[split]

    @abstractmethod
    def _load_split(self, split: SplitName) -> Split:
        """Read one split from wherever the dataset lives; called once per split."""
