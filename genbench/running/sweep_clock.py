"""Where a sweep is and how long it has left: each run's messages and bars say ``[3/8]``, and a run
that trains starts with a line giving the time left for the whole sweep, from the runs done so far."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from genbench.core.progress import Prefixed
from genbench.running.single_run import RunContext


class SweepClock:
    """Positions and the time left of a sweep of ``total`` runs, ``to_train`` of which train (the
    others are reused)."""

    def __init__(self, total: int, to_train: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.total, self.to_train, self.clock = total, to_train, clock
        self._seconds: list[float] = []  # Of the runs trained so far.
        self._started: float | None = None

    def context(self, context: RunContext, index: int, run_id: str, trains: bool) -> RunContext:
        """``context`` for the ``index``-th run: its messages and bars prefixed with ``[index/total]``;
        a run that trains is announced with the time left for the sweep, once it can be told."""
        prefix = f"[{index}/{self.total}]"
        if trains:
            self._started = self.clock()
            context.announce(f"{prefix} {run_id}: training{self.time_left()}")

        return self._prefixed(context, prefix)

    @staticmethod
    def _prefixed(context: RunContext, prefix: str) -> RunContext:
        def announce(message: str) -> None:
            context.announce(f"{prefix} {message}")

        return dataclasses.replace(context, announce=announce, progress=Prefixed(context.progress, prefix))

    def pack_context(
        self, context: RunContext, first: int, last: int, label: str, trains: bool
    ) -> RunContext:
        """:meth:`context` for the runs ``first`` to ``last``, trained together in a pack: ``[3-6/8]``."""
        prefix = f"[{first}-{last}/{self.total}]"
        if trains:
            self._started = self.clock()
            context.announce(f"{prefix} {label}: training{self.time_left()}")
        return self._prefixed(context, prefix)

    def done(self, trained: bool, runs: int = 1) -> None:
        """A run (or a pack of ``runs`` runs) ended; if it trained, its seconds inform the time left."""
        if trained and self._started is not None:
            self._seconds += [(self.clock() - self._started) / runs] * runs
            self._started = None

    def time_left(self) -> str:
        """``; about 4 min left in the sweep`` from the mean run so far (empty before one is done)."""
        if not self._seconds:
            return ""
        left = self.to_train - len(self._seconds)
        return f"; about {duration(left * sum(self._seconds) / len(self._seconds))} left in the sweep"


def duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3.5 h``: a time left, as precise as an estimate can be."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
