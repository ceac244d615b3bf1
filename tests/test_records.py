"""Run records are written atomically and read back robustly."""

from __future__ import annotations

from pathlib import Path

import pytest

from genbench.records import RunFolder, atomic_write, atomic_write_json, read_json, read_jsonl, run_id


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
