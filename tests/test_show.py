"""``genbench show RUN``: one run on one screen at 80 columns (status, error, model, budget, protocol,
metrics, files), or all of it as JSON; and ``report --out``, named as run and leaderboard name it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from genbench.cli import app
from genbench.core.files import atomic_write_json
from genbench.core.record import RunRecord
from genbench.results.records import RunFolder

runner = CliRunner()


@pytest.fixture(autouse=True)
def _80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")


def _run(out: Path, run: str, status: str = "finished", error: str | None = None) -> None:
    folder = RunFolder(out, run)
    record = {
        "run_id": run,
        "dataset": "digits",
        "model": run.split("-")[1],
        "seed": 0,
        "setup": "abc",
        "status": status,
        "budget": {"kimg": 40, "steps": None, "seconds": None},
        "kimg": 40.016 if status == "finished" else 3.2,
        "steps": 1251,
        "stopped_by": "kimg" if status == "finished" else None,
        "train_seconds": 12.3,
        "wall_seconds": 61.0,
        "device": "cpu",
        "precision": "fp32",
        "error": error,
        "metrics": {"fd_clf_10k": 12.345, "precision_clf_10k": 0.5} if status == "finished" else {},
        "protocol_summary": {"reference_split": "test", "n_reference": 360, "classifier_weights": "c0ffee"},
    }
    folder.write_metrics(RunRecord.from_dict(record))
    atomic_write_json(folder.file("config.json"), {"model": record["model"], "hparams": {"lr": 0.0002}})


def test_show_puts_a_run_on_one_screen(tmp_path: Path) -> None:
    _run(tmp_path, "digits-dcgan-seed0-abc")
    result = runner.invoke(app, ["show", "digits-dcgan", "--out", str(tmp_path)])  # The start of its id.
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "digits-dcgan-seed0-abc: finished" and len(lines) <= 24
    assert max(map(len, lines)) <= 80
    text = result.stdout
    for shown in ("dcgan on digits, seed 0", "40 kimg", "stopped by kimg", "test split (360 images)"):
        assert shown in text, text
    assert "fd_clf_10k" in text and "12.35" in text and "↑ higher is better" in text
    assert "config.json" in text and "metrics.json" in text and "lr=0.0002" in text


def test_show_says_why_a_run_failed_and_gives_json(tmp_path: Path) -> None:
    _run(tmp_path, "digits-vae-seed0-abc", "failed", "vae raised RuntimeError: boom (traceback in error.log)")
    screen = runner.invoke(app, ["show", "digits-vae-seed0-abc", "--out", str(tmp_path)])
    assert screen.exit_code == 0 and "digits-vae-seed0-abc: failed" in screen.stdout
    assert "RuntimeError: boom" in screen.stdout and "got to 3.2 kimg" in screen.stdout
    given = runner.invoke(app, ["show", "digits-vae-seed0-abc", "--out", str(tmp_path), "--format", "json"])
    shown = json.loads(given.stdout)
    assert shown["status"] == "failed" and shown["record"]["error"].endswith("(traceback in error.log)")
    assert set(shown["files"]) == {"config.json", "metrics.json"} and shown["config"]["hparams"]["lr"] == 2e-4


def test_an_unknown_or_ambiguous_run_is_one_line(tmp_path: Path) -> None:
    _run(tmp_path, "digits-dcgan-seed0-abc")
    _run(tmp_path, "digits-dcgan-seed1-abc")
    ambiguous = runner.invoke(app, ["show", "digits-dcgan", "--out", str(tmp_path)])
    assert ambiguous.exit_code == 2 and ambiguous.stderr.count("\n") == 1
    assert "is the start of 2 runs" in ambiguous.stderr
    typo = runner.invoke(app, ["show", "digits-dcgam-seed0-abc", "--out", str(tmp_path)])
    assert typo.exit_code == 2 and "(did you mean digits-dcgan-seed0-abc?)" in typo.stderr


def test_report_takes_out_like_run_and_leaderboard(tmp_path: Path) -> None:
    # Issue 19: `genbench report --out results` said "No such option: --out".
    empty = runner.invoke(app, ["report", "--out", str(tmp_path)])
    assert empty.exit_code == 2 and empty.stderr.startswith(f"error: no run records in {tmp_path}")
    both = runner.invoke(app, ["report", str(tmp_path), "--out", str(tmp_path / "other")])
    assert both.exit_code == 2 and both.stderr.startswith("error: two results folders")
