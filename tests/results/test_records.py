"""Run records are written atomically and read back robustly."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from genbench.core.files import atomic_write, atomic_write_json, read_json, read_jsonl
from genbench.core.record import MAX_SEED, SCHEMA_VERSION, RecordError, RunRecord
from genbench.errors import UserError
from genbench.options.config import RunOptions
from genbench.results.records import RunFolder, run_id, setup_hash, truncate_log
from genbench.running.resume import preserved_rng
from genbench.running.single_run import seed_everything


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


def test_a_short_log_write_is_a_full_disk_not_a_silent_gap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = RunFolder(tmp_path, "run")
    folder.append_log({"step": 1})
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, data[:5]))  # What a full disk does.
    with pytest.raises(OSError) as raised:
        folder.append_log({"step": 2, "loss": 0.4})
    assert raised.value.errno == errno.ENOSPC and raised.value.filename.endswith("train.jsonl")
    monkeypatch.undo()
    assert read_jsonl(folder.file("train.jsonl")) == [{"step": 1}]  # The cut row is not read.


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
    base = {"run_id": "run", "dataset": "digits", "model": "dcgan", "seed": 0}
    for status in ("failed", "diverged"):
        folder.write_metrics(RunRecord.from_dict({**base, "status": status}))
        assert folder.status == status and not folder.finished
    folder.write_metrics(RunRecord.from_dict({**base, "status": "finished"}))
    assert folder.finished
    (folder.path / "metrics.json").write_text("{cut sh")
    assert folder.status is None  # Unreadable: done again, not trusted.


def test_truncating_a_log_keeps_the_rows_up_to_a_step(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path, "run")
    for step in (10, 20, 30, 40):
        folder.append_log({"step": step})
    assert truncate_log(folder.file("train.jsonl"), None, 20) == (2, 0)
    assert read_jsonl(folder.file("train.jsonl")) == [{"step": 10}, {"step": 20}]


def test_a_setup_is_the_config_without_the_seed() -> None:
    config = {"model": "dcgan", "seed": 0, "hparams": {"lr": 2e-4}, "budget": {"kimg": 10}}
    assert setup_hash(config) == setup_hash({**config, "seed": 7})  # Seeds of one experiment...
    assert setup_hash(config) != setup_hash({**config, "budget": {"kimg": 20}})  # ...another one.
    assert setup_hash(config) != setup_hash({**config, "hparams": {"lr": 1e-4}})
    assert run_id("d", "dcgan", 0, config) != run_id("d", "dcgan", 7, {**config, "seed": 7})


def test_a_record_is_validated_upgraded_or_refused_in_one_line() -> None:
    old = {"run_id": "r", "dataset": "digits", "model": "dcgan", "seed": 0, "status": "finished"}
    upgraded = RunRecord.from_dict(old)  # No schema_version: an older genbench's, read as it is.
    assert upgraded.schema_version == SCHEMA_VERSION and upgraded.metrics == {}
    assert RunRecord.from_dict(upgraded.to_dict()) == upgraded
    refusals = {
        "newer genbench": {**old, "schema_version": SCHEMA_VERSION + 1},
        "not a JSON object but a list": [],
        "no model": {k: v for k, v in old.items() if k != "model"},
        "metrics is a list": {**old, "metrics": []},
        "metric fd is a string": {**old, "metrics": {"fd": "low"}},
        "seed 9223372036854775808 is outside": {**old, "seed": 2**63},
        "status 'done' is none of": {**old, "status": "done"},
    }
    for message, data in refusals.items():
        with pytest.raises(RecordError, match=message) as refused:
            RunRecord.from_dict(data)
        assert "\n" not in str(refused.value)


def test_the_largest_seed_is_the_one_every_generator_a_run_seeds_takes() -> None:
    """One bound, for the command line and the record: NumPy's global generator stops at 2**32 - 1."""
    assert MAX_SEED == 2**32 - 1
    with preserved_rng():
        seed_everything(MAX_SEED)  # Python, NumPy and torch take it...
        torch.Generator().manual_seed(MAX_SEED)  # ...as do the data's and the samples' generators.
        with pytest.raises(ValueError):
            np.random.seed(MAX_SEED + 1)  # ...and NumPy nothing larger.
    assert RunOptions(seeds=(0, MAX_SEED)).seeds == (0, MAX_SEED)
    with pytest.raises(UserError, match="--seeds values must be at most 4,294,967,295"):
        RunOptions(seeds=(MAX_SEED + 1,))
    record = {"run_id": "r", "dataset": "digits", "model": "dcgan", "status": "finished"}
    assert RunRecord.from_dict({**record, "seed": MAX_SEED}).seed == MAX_SEED
    with pytest.raises(RecordError, match=r"seed 4294967296 is outside 0\.\.4,294,967,295"):
        RunRecord.from_dict({**record, "seed": MAX_SEED + 1})


def test_damaged_log_lines_are_skipped_and_counted_never_the_rows_after(tmp_path: Path) -> None:
    log = tmp_path / "train.jsonl"
    log.write_bytes(b'{"step": 1}\nnot json\n[1, 2]\n\xff\xfe\x00\n{"step": 2}\n{"step": 3, "lo')
    skipped: list[int] = []
    assert read_jsonl(log, skipped) == [{"step": 1}, {"step": 2}]
    assert skipped == [2, 3, 4, 6]


def test_a_record_vouches_for_its_checkpoints(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path, "run")
    folder.path.mkdir(parents=True)
    folder.file("checkpoint.pt").write_bytes(b"weights")
    base = {"run_id": "run", "dataset": "digits", "model": "dcgan", "seed": 0, "status": "finished"}
    record = RunRecord.from_dict(base)
    record.files = {"checkpoint.pt": folder.digest("checkpoint.pt")}
    folder.write_metrics(record)
    assert folder.finished
    folder.file("checkpoint.pt").write_bytes(b"weighty")  # Same size, other bytes.
    assert not folder.finished
    with pytest.raises(RecordError, match=r"checkpoint\.pt: its SHA-256 differs"):
        folder.read_record()
    folder.file("checkpoint.pt").unlink()
    with pytest.raises(RecordError, match=r"checkpoint\.pt: missing"):
        folder.read_record()
