"""The leaderboard is rebuilt from the run records, never appended to."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from genbench.leaderboard import rebuild_leaderboard, render, summarise
from genbench.records import RunFolder


def _record(out: Path, model: str, seed: int, fd: float) -> None:
    run = f"digits-{model}-seed{seed}-abc"
    RunFolder(out, run).write_metrics(
        {
            "run_id": run,
            "dataset": "digits",
            "model": model,
            "seed": seed,
            "status": "finished",
            "budget_kimg": 10,
            "kimg": 10.016,
            "steps": 160,
            "stopped_by": "kimg",
            "train_seconds": 3.0,
            "wall_seconds": 4.0,
            "device": "cpu",
            "metrics": {"fd_clf_10k": fd},
        }
    )


def test_rebuild_reflects_exactly_the_records(tmp_path: Path) -> None:
    _record(tmp_path, "vae", 0, 20.0)
    _record(tmp_path, "dcgan", 0, 10.0)
    _record(tmp_path, "dcgan", 1, 14.0)
    frame = rebuild_leaderboard(tmp_path)
    # Sorted by the metric within a dataset, best first.
    assert list(frame["model"]) == ["dcgan", "dcgan", "vae"]
    assert list(frame["fd_clf_10k"]) == [10.0, 14.0, 20.0]
    on_disk = pd.read_csv(tmp_path / "leaderboard.csv")
    assert list(on_disk["run_id"]) == list(frame["run_id"])

    # Rebuilding again does not duplicate rows; deleting a record removes its row.
    rebuild_leaderboard(tmp_path)
    shutil.rmtree(tmp_path / "runs" / "digits-vae-seed0-abc")
    on_disk = pd.read_csv(tmp_path / "leaderboard.csv")
    assert len(on_disk) == 3
    assert list(rebuild_leaderboard(tmp_path)["model"]) == ["dcgan", "dcgan"]
    assert len(pd.read_csv(tmp_path / "leaderboard.csv")) == 2


def test_an_unreadable_record_is_skipped_with_a_warning(tmp_path: Path) -> None:
    _record(tmp_path, "vae", 0, 20.0)
    broken = tmp_path / "runs" / "digits-gan-seed0-xyz"
    broken.mkdir(parents=True)
    (broken / "metrics.json").write_text("{not json")
    with pytest.warns(UserWarning, match="digits-gan-seed0-xyz"):
        frame = rebuild_leaderboard(tmp_path)
    assert list(frame["model"]) == ["vae"]


def test_summary_gives_mean_and_std_over_seeds(tmp_path: Path) -> None:
    _record(tmp_path, "dcgan", 0, 10.0)
    _record(tmp_path, "dcgan", 1, 14.0)
    _record(tmp_path, "vae", 0, 20.0)
    summary = summarise(rebuild_leaderboard(tmp_path)).set_index("model")
    assert summary.loc["dcgan", "seeds"] == 2
    assert summary.loc["dcgan", "fd_clf_10k"] == "12 ± 2.8"  # Sample std of (10, 14).
    assert summary.loc["vae", "fd_clf_10k"] == "20"


def test_render_formats(tmp_path: Path) -> None:
    _record(tmp_path, "vae", 0, 20.0)
    frame = rebuild_leaderboard(tmp_path)
    assert render(frame, "csv").splitlines()[0].startswith("dataset,model,seed")
    markdown = render(frame, "markdown")
    assert markdown.splitlines()[0].startswith("| dataset") and "| vae " in markdown


def test_empty_results_give_an_empty_leaderboard(tmp_path: Path) -> None:
    frame = rebuild_leaderboard(tmp_path)
    assert frame.empty and "dataset" in frame.columns
    assert (tmp_path / "leaderboard.csv").read_text().startswith("dataset,model")
