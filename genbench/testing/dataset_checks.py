"""The dataset check: class attributes, the ``(root, download)`` constructor and both splits."""

from __future__ import annotations

from pathlib import Path

import torch

from genbench.api import Dataset, check_split
from genbench.contract import class_problem
from genbench.errors import DataNotFoundError, UserError
from genbench.testing.failures import ContractError, require


def check_dataset(dataset_cls: type[Dataset], root: Path | str, download: bool = False) -> None:
    """Check a dataset class: its attributes, its ``(root, download)`` constructor, and both splits:
    genbench.Split of uint8 images in [0, 255] and int64 labels as declared, the same on every load,
    every declared class present in the train split. ``DataNotFoundError`` propagates."""
    problem = class_problem("dataset", dataset_cls)
    require(problem is None, "registration", problem or "", "fix the class attributes")
    shape, who = dataset_cls.shape, f"dataset '{dataset_cls.name}'"
    dataset = dataset_cls(Path(root), download=download)
    for split in ("train", "test"):
        try:
            loaded = check_split(dataset.load(split), shape, f"{who}, {split} split")
        except DataNotFoundError:
            raise
        except UserError as error:  # Split's own checks, in the runner's words.
            raise ContractError(f"split: {error}") from None
        require(
            int(loaded.images.max()) > 1,
            f"{who}: pixels",
            f"the {split} split's largest value is {int(loaded.images.max())}",
            "uint8 images span [0, 255]: multiply [0, 1] floats by 255",
        )
        again = dataset.load(split)
        require(
            torch.equal(loaded.images, again.images) and torch.equal(loaded.labels, again.labels),
            f"{who}: split",
            f"two loads of the {split} split differ",
            "fix the split (seed any shuffle)",
        )
        if split == "train":
            present = len(loaded.labels.unique())
            require(
                present == shape.num_classes,
                f"{who}: labels",
                f"the train split has {present} of {shape.num_classes} declared classes",
                "declare num_classes as the classes present",
            )
