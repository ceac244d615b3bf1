"""Run records are written atomically and read back robustly."""

from __future__ import annotations

from pathlib import Path

import pytest

from genbench.records import (
    RunFolder,
    atomic_write,
    atomic_write_json,
    read_json,
    read_jsonl,
    run_id,
    truncate_log,
)


def test_a_failed_write_leaves_the_previous_file_and_no_temporaries(tmp_path: Path) -> None:
    target = tmp_path / "metrics.json"
    atomic_write_json(target, {"fd": 1.0})

    def crash(f: object) -> None:
        f.write(b'{"fd": ')  # type: ignore[attr-defined]
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, crash)
    assert read_json(target) == {"fd": 1.0}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_train_log_survives_a_cut_last_line(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path, "run")
    folder.append_log({"step": 1, "loss": 0.5})
    folder.append_log({"step": 2, "loss": 0.4})
    with open(folder.file("train.jsonl"), "a") as f:
        f.write('{"step": 3, "lo')  # A crash mid-line.
    assert read_jsonl(folder.file("train.jsonl")) == [{"loss": 0.5, "step": 1}, {"loss": 0.4, "step": 2}]


def test_run_ids_change_with_anything_that_affects_the_run() -> None:
    config = {"model": "dcgan", "hparams": {"lr": 2e-4}, "budget": {"kimg": 10}}
    same = run_id("digits", "dcgan", 0, dict(config))
    assert same == run_id("digits", "dcgan", 0, config)
    assert same.startswith("digits-dcgan-seed0-")
    assert same != run_id("digits", "dcgan", 0, {**config, "hparams": {"lr": 1e-4}})
    assert same != run_id("digits", "dcgan", 0, {**config, "budget": {"kimg": 20}})


def test_a_run_folder_never_leaves_the_runs_folder(tmp_path: Path) -> None:
    for bad in ("../escaped", "a/../../b", "/etc/cron.d", ".."):
        with pytest.raises(ValueError, match="would leave"):
            RunFolder(tmp_path, bad)
    assert RunFolder(tmp_path, "digits-dcgan-seed0-abc").path == tmp_path / "runs" / "digits-dcgan-seed0-abc"


def test_only_a_finished_record_counts_as_finished(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path, "run")
    assert folder.status is None and not folder.finished
    for status in ("failed", "diverged"):
        folder.write_metrics({"status": status})
        assert folder.status == status and not folder.finished
    folder.write_metrics({"status": "finished"})
    assert folder.finished
    (folder.path / "metrics.json").write_text("{cut sh")
    assert folder.status is None  # Unreadable: done again, not trusted.


def test_truncating_a_log_keeps_the_rows_up_to_a_step(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path, "run")
    for step in (10, 20, 30, 40):
        folder.append_log({"step": step})
    truncate_log(folder.file("train.jsonl"), 20)
    assert read_jsonl(folder.file("train.jsonl")) == [{"step": 10}, {"step": 20}]
