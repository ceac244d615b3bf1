"""genbench: benchmark generative image models under one fixed budget and one evaluation protocol."""

from genbench.api import Dataset, DataShape, Hyperparameters, Model, Split
from genbench.errors import DataNotFoundError, UserError
from genbench.hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = [
    "DataNotFoundError",
    "DataShape",
    "Dataset",
    "Hyperparameters",
    "Model",
    "Split",
    "UserError",
    "__version__",
    "hookimpl",
]
