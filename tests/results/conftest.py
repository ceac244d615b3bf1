"""Fixtures of the results tests: a headless browser for the report's page (tests/browser.py), and the
damage tests' shared reference (tests/results/damage_reference.py), built once per session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import torch
from browser import CHROMEDRIVER, CHROMIUM, chromium
from damage_reference import STOP_AT_KIMG, Reference, invoke, log, metrics, run, run_dir
from selenium import webdriver

from genbench.running.single_run import SingleRun


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reference]:
    """The undamaged folders: a finished run, the same run interrupted at STOP_AT_KIMG, their cache."""
    root = tmp_path_factory.mktemp("damage-reference")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # As conftest.one_thread, for the whole session's reference.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GENBENCH_CACHE_DIR", str(root / "cache"))
        patch.setenv("GENBENCH_NO_DOWNLOAD", "1")
        patch.setenv("GENBENCH_DATA_ROOT", str(root / "data"))
        done = run(root / "finished")
        assert done.exit_code == 0, done.output
        assert invoke(["report", str(root / "finished")]).exit_code == 0  # report.html and plots/ too.
        patch.setattr(SingleRun, "stop_requested", lambda self: (self.reached_kimg or 0) >= STOP_AT_KIMG)
        unfinished = run(root / "unfinished")
        assert unfinished.exit_code == 130, unfinished.output
    torch.set_num_threads(threads)
    finished = root / "finished"
    board = pd.read_csv(finished / "leaderboard.csv")
    yield Reference(
        finished, root / "unfinished", root / "cache", metrics(finished), log(run_dir(finished)), board
    )


@pytest.fixture
def case(reference: Reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Reference:
    """Copies of the reference folders for one case to damage, with the environment pointing at them."""
    copy = Reference(
        shutil.copytree(reference.finished, tmp_path / "finished", symlinks=True),
        shutil.copytree(reference.unfinished, tmp_path / "unfinished", symlinks=True),
        shutil.copytree(reference.cache, tmp_path / "cache", symlinks=True),
        reference.metrics,
        reference.log,
        reference.board,
    )
    monkeypatch.setenv("GENBENCH_CACHE_DIR", str(copy.cache))
    monkeypatch.setenv("GENBENCH_DATA_ROOT", str(tmp_path / "data"))
    return copy


@pytest.fixture(scope="module")
def driver() -> Iterator[webdriver.Chrome]:
    """One headless chromium per test module (tests/browser.py)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("needs Debian's chromium and chromium-driver (installed by .ci/run)")
    with chromium() as chrome:
        yield chrome
