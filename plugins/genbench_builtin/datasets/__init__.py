"""genbench's built-in datasets: ``digits`` (embedded), ``mnist``, ``fashion-mnist`` and ``cifar10``;
and the user's own images without code: ``folder`` (``--data folder:PATH[@RES]``) and ``npz``.

Registered through the ``genbench`` entry point group like any third-party plugin.
"""

from __future__ import annotations

from genbench import Dataset, hookimpl
from genbench_builtin.datasets.cifar10 import CIFAR10
from genbench_builtin.datasets.digits import Digits
from genbench_builtin.datasets.folder import FolderImages
from genbench_builtin.datasets.mnist import MNIST, FashionMNIST
from genbench_builtin.datasets.npz import NpzImages

__all__ = ["CIFAR10", "MNIST", "Digits", "FashionMNIST", "FolderImages", "NpzImages", "register_datasets"]


@hookimpl
def register_datasets() -> list[type[Dataset]]:
    """The four built-in datasets, the embedded default first; then the two made from the user's files."""
    return [Digits, MNIST, FashionMNIST, CIFAR10, FolderImages, NpzImages]
