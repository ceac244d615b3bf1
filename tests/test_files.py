"""Files genbench writes: atomic, and readable by others as the umask allows (not mkstemp's 0600)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from genbench.core.files import atomic_torch_save, atomic_write_json, atomic_write_text


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_written_files_honour_the_umask(tmp_path: Path, umask_022: None) -> None:
    atomic_write_text(tmp_path / "a.txt", "x")
    atomic_write_json(tmp_path / "b.json", {"a": 1})
    atomic_torch_save(tmp_path / "c.pt", {"a": 1})
    assert [_mode(tmp_path / name) for name in ("a.txt", "b.json", "c.pt")] == [0o644] * 3


def test_a_stricter_umask_is_kept(tmp_path: Path) -> None:
    previous = os.umask(0o077)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "a.txt") == 0o600
