"""Inter-process locks that leave no file behind when nothing holds them.

filelock keeps its lock files for good (so waiters share one inode), and a results folder filled up
with empty ``.lock`` files nobody holds. A :class:`Lock` removes its file on release, while still
holding it; a process that was waiting on the removed file sees, once it gets the lock, that the path
no longer names the file it locked, and locks the new file instead. Two processes therefore never
hold the lock at once, however their opens, locks and removals interleave. ``flock`` locks die with
their process, so a killed holder never leaves a path locked (its empty file is removed by the next
holder's release).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from filelock import Timeout

POLL_SECONDS = 0.05  # How often a lock with a timeout tries again.


class Lock:
    """An exclusive lock on ``path`` (made if missing, removed on release). ``timeout``: seconds to
    wait, 0 to fail at once, -1 to wait for as long as it takes; :class:`filelock.Timeout` when it
    runs out."""

    def __init__(self, path: Path, timeout: float = -1) -> None:
        self.path = path
        self.timeout = timeout
        self._fd: int | None = None

    @property
    def is_locked(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock, waiting as ``timeout`` allows."""
        deadline = None if self.timeout < 0 else time.monotonic() + self.timeout
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            if self._lock(fd, deadline) and _still_names(self.path, fd):
                self._fd = fd
                return
            os.close(fd)  # Not got, or got on a file a releasing holder removed: try the path again.
            if deadline is not None and time.monotonic() >= deadline:
                raise Timeout(str(self.path))

    def _lock(self, fd: int, deadline: float | None) -> bool:
        if deadline is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            return True
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(POLL_SECONDS)

    def release(self) -> None:
        """Remove the file, then let go of it (in that order: see the module's docstring)."""
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> Lock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()


def _still_names(path: Path, fd: int) -> bool:
    """Whether ``path`` still names the file open as ``fd`` (a releasing holder may have removed it)."""
    try:
        named = path.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)
