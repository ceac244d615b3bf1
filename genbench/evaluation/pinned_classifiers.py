"""Reference classifiers shipped with genbench, pinned by SHA-256: the benchmark's ruler, the same on
every machine.

A classifier trained on a user's machine differs from one trained on another (a GPU's or another CPU's
arithmetic), and so would every ``fd_clf`` scored with it: two groups' leaderboards could not be put
side by side. For the datasets whose data genbench can get everywhere (scikit-learn's ``digits``,
Debian's and Zalando's Fashion-MNIST), the trained classifier is part of the package, in ``pinned/``,
as the two files of a cache entry (genbench.evaluation.classifier): the weights and their record,
which holds the data hash, architecture and recipe they were trained with, their test accuracy and
their SHA-256. It is used where a run's cache key matches, that is when the user's data hashes the
same: the classifier's record says ``pinned``, its protocol too. Other data (MNIST, CIFAR-10, your own
images, or a changed recipe) trains on first use, on the CPU.

To pin a classifier (a maintainer's step, once per dataset and recipe):
``python -m genbench.evaluation.pinned_classifiers DATASET…`` trains it into ``pinned/`` through
:func:`genbench.evaluation.classifier.cached_classifier`, exactly as a run would.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

PINNED = Path(str(resources.files("genbench.evaluation") / "pinned"))  # Package data: *.pt with *.json.


def pinned_entry(file_name: str, folder: Path = PINNED) -> Path | None:
    """The pinned weights file of a cache entry called ``file_name`` (``<dataset>-<key>.pt``), None
    where genbench ships none."""
    path = folder / file_name
    return path if path.is_file() and path.with_suffix(".json").is_file() else None


def _pin(names: list[str]) -> None:
    """Train the classifiers of the datasets ``names`` into :data:`PINNED`, on the CPU."""
    import torch

    from genbench.core.registry import Registry
    from genbench.evaluation.classifier import cached_classifier
    from genbench.options.identity import data_sha256

    registry = Registry.discover()
    for name in names:
        dataset = registry.dataset(name).cls(Path("~/.cache/genbench/data").expanduser(), download=False)
        train, test = dataset.load("train"), dataset.load("test")
        hashed = data_sha256(train, test)
        found = cached_classifier(
            name, dataset.shape, train, test, PINNED, torch.device("cpu"), data_sha256=hashed
        )
        print(f"{name}: {found.path.name}, test accuracy {found.test_accuracy:.4f}, {found.weights_sha256}")


if __name__ == "__main__":
    _pin(sys.argv[1:])
