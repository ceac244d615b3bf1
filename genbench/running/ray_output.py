"""Ray's own output kept out of the terminal, and what it means for the sweep said in one line.

While a sweep is connected to Ray, Ray writes to the driver's terminal from three places: its Python
logger (warnings as it starts), the driver's error listener (a raylet's word that a task's worker died
and the task is retried, printed to stdout with colour codes) and its C++ core (to file descriptor 2:
a lost GCS, a failed check, a stack trace). All three go to one log file in Ray's folder instead, and
genbench says what matters in one line: a worker died and its run resumes; the cluster was lost.

A driver whose cluster is gone (``ray stop``, a dead head node) is terminated by Ray's C++ core after
a minute, with a stack trace; :class:`ClusterWatch` notices first and ends the sweep with one line
saying what was saved and how to resume.
"""

from __future__ import annotations

import io
import logging
import os
import re
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

Say = Callable[[str], None]
WATCH_SECONDS = 1.0  # How often the watch knocks on the cluster's head.
LOST_AFTER_SECONDS = 10.0  # Unanswered this long, the cluster is lost (Ray itself gives up after 60).
LOST_EXIT_CODE = 2  # Like a full disk: the environment stopped the sweep; what was saved stays.
_RETRIED = re.compile(r"There are (\d+) retries remaining")


def log_path() -> Path:
    """This driver's log of Ray's output, in Ray's folder (``<tmp>/ray``)."""
    return Path(tempfile.gettempdir()) / "ray" / f"genbench-driver-{os.getpid()}.log"


def say_on_stderr(message: str) -> None:
    """One line on the terminal's stderr (Python's, which :func:`native_stderr_to` leaves there)."""
    print(message, file=sys.stderr, flush=True)


@contextmanager
def ray_output_aside(ray: Any, path: Path, say: Say = say_on_stderr) -> Iterator[None]:
    """For the block, Ray's logger, its error listener and the driver's native stderr go to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        stack.enter_context(_ray_logger_to(path))
        stack.enter_context(_error_messages_to(ray, path, say))
        stack.enter_context(native_stderr_to(path))
        yield


class _RayRecords(logging.FileHandler):
    """On the root logger: Ray's records to the file; any other record as Python would show it
    without this handler (nothing, where the root logger has handlers of its own)."""

    def __init__(self, path: Path, alone: bool) -> None:
        super().__init__(path)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.alone = alone

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "ray" or record.name.startswith("ray."):
            super().emit(record)
        elif self.alone and logging.lastResort is not None and record.levelno >= logging.lastResort.level:
            logging.lastResort.handle(record)


@contextmanager
def _ray_logger_to(path: Path) -> Iterator[None]:
    """Ray's logger propagates to the root logger, where :class:`_RayRecords` takes its records (the
    driver calls ``ray.init(configure_logging=False)``, which clears the handlers of Ray's logger)."""
    ray_logger, root = logging.getLogger("ray"), logging.getLogger()
    saved = (ray_logger.handlers[:], ray_logger.propagate)
    handler = _RayRecords(path, alone=not root.handlers)
    ray_logger.handlers, ray_logger.propagate = [], True
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        ray_logger.handlers, ray_logger.propagate = saved
        handler.close()


@contextmanager
def _error_messages_to(ray: Any, path: Path, say: Say) -> Iterator[None]:
    """The driver's error listener prints through ``ray._private.worker.print_to_stdstream``, looked up
    at each call: replaced for the block (where this Ray has no such function, nothing is replaced)."""
    module = getattr(getattr(ray, "_private", None), "worker", None)
    original = getattr(module, "print_to_stdstream", None)
    if original is None:
        yield
        return

    def to_log(data: dict[str, Any], **kwargs: Any) -> None:
        lines = [str(line) for line in data.get("lines", [])]
        with path.open("a") as log:
            log.writelines(f"({data.get('pid', 'ray')}) {line}\n" for line in lines)
        for line in lines:
            if retried := _RETRIED.search(line):
                say(
                    f"warning: a Ray worker died during a run; Ray runs it again ({retried[1]} retries "
                    f"left) and it resumes from its last checkpoint (Ray's message: {path})"
                )

    module.print_to_stdstream = to_log
    try:
        yield
    finally:
        module.print_to_stdstream = original


@contextmanager
def native_stderr_to(path: Path) -> Iterator[None]:
    """Writes to file descriptor 2 (C and C++ code: Ray's core) go to ``path`` for the block; Python's
    ``sys.stderr`` keeps writing where it did (the terminal), through a copy of the descriptor."""
    sys.stderr.flush()
    saved = os.dup(2)
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    python_stderr = sys.stderr
    if _writes_to_fd_2(python_stderr):
        sys.stderr = io.TextIOWrapper(
            os.fdopen(os.dup(saved), "wb"), encoding="utf-8", errors="backslashreplace", line_buffering=True
        )
    os.dup2(log, 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        if sys.stderr is not python_stderr:
            sys.stderr.close()
            sys.stderr = python_stderr
        os.close(saved)
        os.close(log)


def _writes_to_fd_2(stream: Any) -> bool:
    try:
        return bool(stream.fileno() == 2)
    except (AttributeError, OSError, ValueError):  # A test's buffer, a closed stream: not the terminal.
        return False


class ClusterWatch:
    """Knocks on the cluster's head (its GCS address) every second; unanswered for
    :data:`LOST_AFTER_SECONDS`, says one line and ends the process with :data:`LOST_EXIT_CODE`: Ray's
    own calls would hang, then its C++ core would end the process with a stack trace."""

    def __init__(self, address: str, log: Path, say: Say = say_on_stderr) -> None:
        host, _, port = address.rpartition(":")
        self.host, self.port, self.address, self.log, self.say = host, int(port), address, log, say
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="genbench-cluster-watch", daemon=True)

    def __enter__(self) -> ClusterWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        answered = time.monotonic()
        while not self._stop.wait(WATCH_SECONDS):
            try:
                socket.create_connection((self.host, self.port), timeout=WATCH_SECONDS).close()
                answered = time.monotonic()
            except OSError:
                if time.monotonic() - answered >= LOST_AFTER_SECONDS and not self._stop.is_set():
                    self.lost()

    def lost(self) -> None:
        """Say what happened and what was saved, and end the process (Ray's threads would hang it)."""
        self.say(
            f"error: the Ray cluster at {self.address} was lost (its head stopped answering: `ray stop`, or "
            "its node died); finished runs are recorded and unfinished ones keep their last checkpoint: "
            f"start Ray again (or leave --ray-address out) and run the same command to resume (Ray's own "
            f"messages: {self.log})"
        )
        os._exit(LOST_EXIT_CODE)
