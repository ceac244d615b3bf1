"""Stopping a genbench process at a chosen point, for the tests that resume what was stopped."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable


def signal_when_ready(
    command: list[str], env: dict[str, str], sig: int, ready: Callable[[], bool], timeout: float
) -> tuple[int, str]:
    """Start ``command`` and send it ``sig`` once ``ready()``; return its exit status and stderr. The
    process is frozen (SIGSTOP) while ``ready`` looks at its files, so it is stopped in the state that
    was checked."""
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    process = subprocess.Popen(command, env=env, **pipes)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        process.send_signal(signal.SIGSTOP)
        found = ready()
        if found:
            process.send_signal(sig)
        process.send_signal(signal.SIGCONT)
        if found:
            break
        time.sleep(0.01)
    _, stderr = process.communicate(timeout=timeout)
    return process.returncode, stderr
