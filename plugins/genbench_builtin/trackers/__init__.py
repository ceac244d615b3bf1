"""genbench's built-in tracker: TensorBoard (``--track tensorboard``, with the ``genbench[tensorboard]``
extra). Registered through the ``genbench`` entry point group like any third-party tracker.
"""

from __future__ import annotations

from genbench import Tracker, hookimpl
from genbench_builtin.trackers.tensorboard import TensorBoardTracker

__all__ = ["TensorBoardTracker", "register_trackers"]


@hookimpl
def register_trackers() -> list[type[Tracker]]:
    """The built-in trackers."""
    return [TensorBoardTracker]
