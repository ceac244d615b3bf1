"""Locks leave no empty ``.lock`` file behind (issue 19), and still let one process in at a time."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from filelock import Timeout

from genbench.core.locks import Lock


def test_a_released_lock_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / ".lock"
    with Lock(path) as lock:
        assert path.exists() and lock.is_locked
    assert not path.exists() and not lock.is_locked


def test_a_held_lock_refuses_another_at_once_or_after_its_timeout(tmp_path: Path) -> None:
    path = tmp_path / ".lock"
    with Lock(path):
        with pytest.raises(Timeout):
            Lock(path, timeout=0).acquire()
        with pytest.raises(Timeout):
            Lock(path, timeout=0.2).acquire()
    with Lock(path, timeout=0):  # Free again.
        pass


def _count(path: str, counter: str, times: int) -> None:
    for _ in range(times):
        with Lock(Path(path)):
            value = int(Path(counter).read_text())  # Read, then write: lost updates if two hold it.
            Path(counter).write_text(str(value + 1))


def test_processes_never_hold_it_together_while_it_comes_and_goes(tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    counter.write_text("0")
    processes = [
        multiprocessing.get_context("fork").Process(
            target=_count, args=(str(tmp_path / ".lock"), str(counter), 40)
        )
        for _ in range(3)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert counter.read_text() == "120"
    assert not (tmp_path / ".lock").exists()
