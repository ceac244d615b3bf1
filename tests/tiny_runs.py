"""Tiny finished runs on digits made through the real ``genbench run``, shared by the tests of the
commands that read them back (``sample``, ``score``, ``eval``): the environment they run in, the
runs, and where a run's folder is."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from caches import session_cache
from typer.testing import CliRunner

from genbench.cli import app

runner = CliRunner()
METRICS = "fd_clf,kid_clf,prc_clf,jsd_clf,acc_clf"
N = 200
# The runs' evaluation: these metrics, estimator steps and bootstrap (score reads them back with these).
EVALUATION = ["--metrics", METRICS, "--divergence-steps", "20", "--bootstrap", "20"]


def tiny_env(factory: pytest.TempPathFactory) -> dict[str, str | None]:
    """The built-in plugins found by entry points, offline, the session's cache (module-scoped
    fixtures run before the autouse per-test environment: given explicitly)."""
    return {
        "COLUMNS": "200",
        "GENBENCH_DISABLE_PLUGIN_AUTOLOAD": None,
        "GENBENCH_NO_DOWNLOAD": "1",
        "GENBENCH_DATA_ROOT": str(factory.mktemp("data-root")),
        "GENBENCH_CACHE_DIR": str(session_cache(factory)),
    }


def tiny_results(factory: pytest.TempPathFactory, env: dict[str, str | None], models: Sequence[str]) -> Path:
    """A results folder with one tiny run of each of ``models`` on digits (0.3 kimg, :data:`N` samples,
    :data:`EVALUATION`; the cheap metric every tenth of the budget, so each keeps best.pt)."""
    out = factory.mktemp("results")
    run = ["run", "--models", ",".join(models), "--data", "digits", "--kimg", "0.3", "--n-samples", str(N)]
    result = runner.invoke(app, [*run, *EVALUATION, "--out", str(out), "--quiet", "--no-report"], env=env)
    assert result.exit_code == 0, result.output
    return out


def run_dir(results: Path, model: str) -> Path:
    """The folder of the run of ``model`` (seed 0) in ``results``."""
    (folder,) = (results / "runs").glob(f"digits-{model}-seed0-*")
    return folder
