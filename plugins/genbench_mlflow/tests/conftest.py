"""Every test runs offline on tiny_plugin's dataset and model, with one reference-classifier cache, and
finds this plugin whether it is installed or only importable."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """genbench's cache for the session: the reference classifier is trained once."""
    return tmp_path_factory.mktemp("genbench-cache")


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cache: Path) -> None:
    monkeypatch.setenv("GENBENCH_NO_DOWNLOAD", "1")
    monkeypatch.setenv("GENBENCH_CACHE_DIR", str(cache))
    monkeypatch.setenv("GENBENCH_PLUGINS", "genbench_mlflow,tiny_plugin")  # Once if also installed.
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    monkeypatch.chdir(tmp_path)  # MLflow's default store and artifacts land in the current folder.
