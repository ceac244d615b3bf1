"""The cache folder the whole test session shares, for the tests that build their own runs (a module of
its own: ``from conftest import`` is ambiguous where a test folder has its own conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


def session_cache(factory: pytest.TempPathFactory) -> Path:
    """The cache folder shared by the whole test session."""
    path = factory.getbasetemp() / "genbench-cache"
    path.mkdir(exist_ok=True)
    return path
