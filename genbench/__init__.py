"""genbench: benchmark generative image models under one fixed budget and one evaluation protocol.

The names here are the plugin API (see docs/plugins.md); :mod:`genbench.testing` checks a plugin
against its contract.
"""

import importlib.metadata as _metadata

from genbench.api import (
    API_VERSION,
    Bounds,
    Dataset,
    DataShape,
    Hyperparameters,
    Model,
    SamplingOptions,
    Split,
)
from genbench.errors import DataNotFoundError, UserError
from genbench.hookspecs import hookimpl
from genbench.tracking import RunEnd, TrackedRun, Tracker

try:
    __version__ = _metadata.version("genbench")  # pyproject.toml's: the one place the version is written.
except _metadata.PackageNotFoundError:  # A source tree that was never installed has no version.
    __version__ = "unknown"

__all__ = [
    "API_VERSION",
    "Bounds",
    "DataNotFoundError",
    "DataShape",
    "Dataset",
    "Hyperparameters",
    "Model",
    "RunEnd",
    "SamplingOptions",
    "Split",
    "TrackedRun",
    "Tracker",
    "UserError",
    "__version__",
    "hookimpl",
]
