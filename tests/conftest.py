"""Shared fixtures. Every test runs offline: dataset plugins are told not to download."""

from __future__ import annotations

from pathlib import Path

import fakes
import pytest

from genbench.plugins import Registry


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv("GENBENCH_NO_DOWNLOAD", "1")
    monkeypatch.setenv("GENBENCH_DATA_ROOT", str(tmp_path_factory.mktemp("data-root")))


@pytest.fixture
def fake_registry() -> Registry:
    """Only the fake plugins of tests/fakes.py, no entry points."""
    return Registry.discover([fakes], autoload=False)


@pytest.fixture(scope="session")
def classifier_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One output folder whose .cache is shared by tests, so each reference classifier trains once."""
    return tmp_path_factory.mktemp("shared-results")
