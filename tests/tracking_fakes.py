"""Fake trackers for tests, registered by module name (``GENBENCH_PLUGINS=tracking_fakes``): one that
records every call, ones that raise at a given call, one whose constructor fails.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from genbench import RunEnd, TrackedRun, Tracker, hookimpl

CALLS: list[tuple[str, Any]] = []  # Every call to a Recorder, in order: (method, arguments).


class Recorder(Tracker):
    """Records every call in CALLS, and draws from every global generator, which must not matter."""

    name = "recorder"

    def start(self, run: TrackedRun) -> None:
        CALLS.append(("start", run))

    def log_row(self, step: int, row: Mapping[str, float]) -> None:
        random.random(), np.random.rand(), torch.rand(1)  # As a tracker's library might (retry jitter).
        CALLS.append(("log_row", (step, dict(row))))

    def log_images(self, step: int, images: Mapping[str, torch.Tensor]) -> None:
        CALLS.append(("log_images", (step, dict(images))))

    def checkpointed(self, step: int) -> None:
        CALLS.append(("checkpointed", step))

    def end(self, end: RunEnd) -> None:
        CALLS.append(("end", end))


def calls(method: str) -> list[Any]:
    """The arguments of every recorded call to ``method``."""
    return [arguments for name, arguments in CALLS if name == method]


class _Raises(Tracker):
    """Raises at one method (``at``) every time it is called."""

    at = ""

    def _maybe_raise(self, method: str) -> None:
        if method == self.at:
            raise RuntimeError(f"the server at http://127.0.0.1:9 is gone ({method})")

    def start(self, run: TrackedRun) -> None:
        self._maybe_raise("start")

    def log_row(self, step: int, row: Mapping[str, float]) -> None:
        self._maybe_raise("log_row")

    def end(self, end: RunEnd) -> None:
        self._maybe_raise("end")


def _raising(method: str) -> type[Tracker]:
    return type(
        f"RaisesAt{method}", (_Raises,), {"name": f"raises-at-{method.replace('_', '-')}", "at": method}
    )


RAISING = {method: _raising(method) for method in ("start", "log_row", "end")}


class CannotBuild(Recorder):
    """A constructor that fails (a library missing its configuration)."""

    name = "cannot-build"

    def __init__(self) -> None:
        raise RuntimeError("no configuration found")


@hookimpl
def register_trackers() -> list[type[Tracker]]:
    return [Recorder, CannotBuild, *RAISING.values()]
