"""What ``genbench leaderboard`` says of runs that did not finish and of real-data floors (issue 19): a
failed or diverged run is a row with its status and the first line of its error, the summary counts
the seeds that finished and those that did not, and each floor protocol is a row of its own, labelled
by it, never averaged with another; and its machine-readable formats. Read at 80 columns."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from genbench.cli import app
from genbench.core.layout import FLOOR_MODEL
from genbench.core.record import RunRecord
from genbench.evaluation.floor import write_floor
from genbench.results.records import RunFolder

runner = CliRunner()
DIVERGED = "diverged: loss_d, loss_g became non-finite at 3.2 kimg\nsecond line of the message"
FAILED = "vae (genbench-builtin) raised RuntimeError: boom (traceback in error.log)"


@pytest.fixture(autouse=True)
def _80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")


def _run(out: Path, model: str, seed: int, status: str = "finished", error: str | None = None) -> None:
    run = f"digits-{model}-seed{seed}-abc"
    finished = status == "finished"
    record = {
        "run_id": run,
        "dataset": "digits",
        "model": model,
        "seed": seed,
        "setup": "abc",
        "status": status,
        "budget_kimg": 10,
        "kimg": 10.016 if finished else 3.2,
        "metrics": {"fd_clf_10k": 10.0 + seed, "w1_critic": 0.5, "fid_10k": None} if finished else {},
        "error": error,
        "protocol_summary": {"reference_split": "test", "n_reference": 360, "classifier_weights": "c"},
    }
    RunFolder(out, run).write_metrics(RunRecord.from_dict(record))


def _floor(out: Path, key: str, count: str, w1: float) -> None:
    record = {
        "run_id": f"digits-floor-{key}",
        "dataset": "digits",
        "model": FLOOR_MODEL,
        "seed": None,
        "status": "floor",
        "held_out_split": "train",
        "metrics": {f"fd_clf_{count}": 3.0, "w1_critic": w1},
        "protocol_summary": {"reference_split": "test", "n_reference": 360, "classifier_weights": "c"},
    }
    write_floor(out, RunRecord.from_dict(record))


def _leaderboard(out: Path, *args: str) -> str:
    result = runner.invoke(app, ["leaderboard", "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def results(tmp_path: Path) -> Path:
    _run(tmp_path, "dcgan", 0)
    _run(tmp_path, "dcgan", 1, "diverged", DIVERGED)
    _run(tmp_path, "vae", 0, "failed", FAILED)
    return tmp_path


def test_a_failed_or_diverged_run_is_listed_with_its_status_and_error(results: Path) -> None:
    # Issue 19: the leaderboard showed them as empty rows, no status, no error.
    table = _leaderboard(results)
    assert max(map(len, table.splitlines())) <= 80
    assert "diverged" in table and "failed" in table
    assert "boom" in table and "non-finite" in table
    assert "second line" not in table  # The first line of the error; the record has the rest.


def test_the_summary_counts_seeds_that_finished_and_those_that_did_not(results: Path) -> None:
    # Issue 19: --summary dropped them without saying so.
    summary = pd.read_csv(io.StringIO(_leaderboard(results, "--summary", "--format", "csv")))
    summary = summary.set_index("model")
    assert summary.loc["dcgan", ["seeds", "failed"]].tolist() == [1, 1]
    assert summary.loc["vae", ["seeds", "failed"]].tolist() == [0, 1]  # Nothing finished: still a row.
    table = _leaderboard(results, "--summary")
    failed_row = next(line for line in table.splitlines() if "failed" in line)
    assert failed_row.count("1") == 2, table


def test_floors_of_two_sample_counts_are_two_labelled_rows_never_averaged(tmp_path: Path) -> None:
    # Issue 19: --summary averaged them as seeds (w1_critic 0.104 ± 0.15 = the mean of 0 and 0.2081),
    # and the leaderboard showed two identical "(real data floor)" rows.
    _run(tmp_path, "dcgan", 0)
    _floor(tmp_path, "aaa", "1k", 0.0)
    _floor(tmp_path, "bbb", "10k", 0.2081)
    summary = pd.read_csv(io.StringIO(_leaderboard(tmp_path, "--summary", "--format", "csv")))
    floors = summary[summary["model"] == FLOOR_MODEL].set_index("setup").astype(str)
    assert sorted(floors.index) == ["10k, train vs test", "1k, train vs test"]
    assert floors.loc["10k, train vs test", "w1_critic"] == "0.2081"
    assert floors.loc["1k, train vs test", "w1_critic"] in ("0", "0.0")
    assert not summary["w1_critic"].astype(str).str.contains("±").any()
    table = _leaderboard(tmp_path, "--summary")
    # Headers say which floor is which (wrapped between words to fit 80 columns), as the setup row does.
    assert "[10k," in table and "[1k," in table
    assert "10k, train vs test" in table and "1k, train vs test" in table
    assert "10k, train vs test" in _leaderboard(tmp_path)  # And the leaderboard's rows.


def test_json_markdown_and_chosen_columns(results: Path) -> None:
    _floor(results, "aaa", "10k", 0.0)
    rows = json.loads(_leaderboard(results, "--format", "json"))
    assert [row["model"] for row in rows] == [FLOOR_MODEL, "dcgan", "dcgan", "vae"]
    assert rows[0]["seed"] is None and rows[1]["fd_clf_10k"] == 10.0 and rows[2]["status"] == "diverged"
    summary = json.loads(_leaderboard(results, "--format", "json", "--summary"))
    assert {row["model"]: row["failed"] for row in summary}["vae"] == 1
    markdown = _leaderboard(results, "--format", "markdown")
    assert "fid_10k" not in markdown and "fd_clf_10k" in markdown  # Empty columns are left out.
    chosen = _leaderboard(results, "--format", "csv", "--columns", "w1_critic,status")
    assert chosen.splitlines()[0] == "dataset,model,seed,w1_critic,status"
    wrong = runner.invoke(app, ["leaderboard", "--out", str(results), "--columns", "w1_critik"])
    assert wrong.exit_code == 2 and wrong.stderr.count("\n") == 1
    assert wrong.stderr.startswith("error: unknown column 'w1_critik' for --columns (did you mean w1_critic")
