"""Intervals and ``genbench compare`` through the real commands: dcgan and vae on digits, two seeds
each, with the built-in plugins found by entry points."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from genbench.cli import app
from genbench.results.statistics import VERDICTS

runner = CliRunner()


@pytest.mark.usefixtures("one_thread")
def test_a_tiny_digits_sweep_has_intervals_and_compares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    out = tmp_path / "results"
    run = ["run", "--models", "dcgan,vae", "--data", "digits", "--kimg", "0.5", "--seeds", "0,1"]
    run += [
        "--n-samples",
        "200",
        "--metrics",
        "fd_clf,prc_clf",
        "--bootstrap",
        "50",
        "--out",
        str(out),
        "--quiet",
    ]
    result = runner.invoke(app, run, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Side by side, over seeds" in result.stdout  # The closing table says whether the two differ.

    board = pd.read_csv(out / "leaderboard.csv")
    columns = list(board.columns)
    assert columns[columns.index("fd_clf_200") :][:3] == ["fd_clf_200", "fd_clf_200_lo", "fd_clf_200_hi"]
    assert (
        (board["fd_clf_200_lo"] <= board["fd_clf_200"]) & (board["fd_clf_200"] <= board["fd_clf_200_hi"])
    ).all()
    record = json.loads(next((out / "runs").glob("digits-dcgan-seed0-*/metrics.json")).read_text())
    interval = record["protocol"]["precision_clf_200"]["interval"]
    assert interval["resamples"] == 50 and interval["seed"] == 0 and "bootstrap" in interval["method"]

    compared = runner.invoke(
        app, ["compare", "dcgan", "vae", "--data", "digits", "--out", str(out)], env={"COLUMNS": "200"}
    )
    assert compared.exit_code == 0, compared.output
    assert "digits: A = dcgan, B = vae" in compared.stdout and "(2 seeds)" in compared.stdout
    for metric in ("fd_clf_200", "precision_clf_200", "recall_clf_200"):
        line = next(line for line in compared.stdout.splitlines() if f"│ {metric} " in line)
        assert any(verdict in line for verdict in VERDICTS), line
    unknown = runner.invoke(app, ["compare", "dcgan", "gan", "--data", "digits", "--out", str(out)])
    assert unknown.exit_code == 2
    assert unknown.stderr == (
        "error: no finished runs of 'gan' on dataset 'digits'; models with finished runs: dcgan, vae\n"
    )
