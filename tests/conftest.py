"""Shared fixtures. Every test runs offline: dataset plugins are told not to download."""

from __future__ import annotations

from collections.abc import Iterator

import fakes
import pytest
import torch
from caches import session_cache

from genbench.core.registry import Registry


@pytest.fixture(autouse=True, scope="session")
def _no_inception_weights(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No real Inception weights, whatever this machine has: an empty torch hub folder and no
    GENBENCH_FID_WEIGHTS, so no test runs the full network by accident (tests that want it make a
    weights file). Session-wide, so module-scoped fixtures see it too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TORCH_HOME", str(tmp_path_factory.mktemp("torch-home")))
        patch.delenv("GENBENCH_FID_WEIGHTS", raising=False)
        yield


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv("GENBENCH_NO_DOWNLOAD", "1")
    monkeypatch.setenv("GENBENCH_DATA_ROOT", str(tmp_path_factory.mktemp("data-root")))
    # One cache for the session: each reference classifier is trained once, whatever the --out.
    monkeypatch.setenv("GENBENCH_CACHE_DIR", str(session_cache(tmp_path_factory)))


@pytest.fixture
def fake_registry() -> Registry:
    """Only the fake plugins of tests/fakes.py, no entry points."""
    return Registry.discover([fakes], autoload=False)


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    """Torch on one thread for a module that trains small networks: one thread is faster than two for
    them, and on a shared 2-core machine a second thread competing with other processes slows
    convolutions down many times over."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
