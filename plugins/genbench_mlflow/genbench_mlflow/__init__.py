"""genbench-mlflow: ``genbench run --track mlflow`` streams each run to MLflow while it trains.

The tracking server is MLflow's own setting, ``MLFLOW_TRACKING_URI`` (MLflow's default without it: a
local store in the current folder), and the experiment ``MLFLOW_EXPERIMENT_NAME`` (default
``genbench``). Registered through the ``genbench`` entry point group, like any plugin.
"""

from __future__ import annotations

from genbench import Tracker, hookimpl
from genbench_mlflow.tracker import MLflowTracker

__all__ = ["MLflowTracker", "register_trackers"]

GENBENCH_API = ">=1,<2"


@hookimpl
def register_trackers() -> list[type[Tracker]]:
    """The MLflow tracker."""
    return [MLflowTracker]
