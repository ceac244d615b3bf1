"""genbench's built-in datasets: ``digits`` (embedded), ``mnist``, ``fashion-mnist`` and ``cifar10``.

Registered through the ``genbench`` entry point group like any third-party plugin.
"""

from __future__ import annotations

from genbench import Dataset, hookimpl
from genbench_builtin.datasets.cifar10 import CIFAR10
from genbench_builtin.datasets.digits import Digits
from genbench_builtin.datasets.mnist import MNIST, FashionMNIST

__all__ = ["CIFAR10", "MNIST", "Digits", "FashionMNIST", "register_datasets"]


@hookimpl
def register_datasets() -> list[type[Dataset]]:
    """The four built-in datasets, the embedded default first."""
    return [Digits, MNIST, FashionMNIST, CIFAR10]
