"""SIGINT and SIGTERM during a sweep: checkpoint, then stop, so the same command resumes.

While a model trains, a signal only sets a flag: the loop saves a resume checkpoint after the current
step and raises :class:`~genbench.errors.Interrupted`. Anywhere else (sampling, evaluation, waiting),
the signal raises at once: every record is written atomically and training state is already saved, so
nothing is lost but the evaluation in progress. A second signal always stops at once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from genbench.errors import Interrupted

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequests:
    """Catches SIGINT/SIGTERM while :meth:`installed`; the training loop polls :meth:`requested`."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._deferred = 0  # How many blocks defer: the runs of a pack train at once.

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by a signal: 128 + its number."""
        return 128 + (self.signal or signal.SIGINT)

    def requested(self) -> bool:
        """Whether a signal arrived."""
        return self.signal is not None

    @contextmanager
    def installed(self) -> Iterator[StopRequests]:
        """Handle the signals inside the block (main thread only; elsewhere Python forbids it)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {sig: signal.signal(sig, self._handle) for sig in _SIGNALS}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Inside the block a signal only sets the flag (the training loop checkpoints and raises).
        Blocks may overlap (each run of a pack trains in one): a signal is deferred while any is open."""
        self._deferred += 1
        try:
            yield
        finally:
            self._deferred -= 1

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        first = self.signal is None
        self.signal = self.signal or signum
        if self._deferred > 0 and first:
            return
        raise Interrupted(f"stopped by {signal.Signals(signum).name}")
