"""genbench: benchmark generative image models under one fixed budget and one evaluation protocol.

The names here are the plugin API (see docs/plugins.md); :mod:`genbench.testing` checks a plugin
against its contract.
"""

from genbench.api import API_VERSION, Bounds, Dataset, DataShape, Hyperparameters, Model, Split
from genbench.errors import DataNotFoundError, UserError
from genbench.hookspecs import hookimpl

__version__ = "0.2.0"

__all__ = [
    "API_VERSION",
    "Bounds",
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
