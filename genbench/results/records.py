"""Run records on disk: one folder per (dataset, model, seed, config), every file written atomically.

A run folder holds ``config.json`` (resolved options and versions), ``train.jsonl`` (logged
scalars), ``checkpoint.pt`` (final weights), ``best.pt`` (best cheap metric), resume checkpoints while it
runs, pictures and curves, and, last, ``metrics.json``: its ``status`` says whether the run finished,
failed or diverged. Two processes never work on one run folder at once (:meth:`RunFolder.lock`).
"""

from __future__ import annotations

import errno
import json
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import torch
from filelock import FileLock

from genbench.core.files import (
    atomic_write_json,
    atomic_write_text,
    file_sha256,
    read_json,
    read_jsonl,
    remove_temporaries,
)
from genbench.core.hashing import stable_hash
from genbench.core.layout import (
    CONFIG_FILE,
    LOCK_FILE,
    METRICS_FILE,
    PREVIOUS_RESUME_FILE,
    RESUME_FILE,
    RUNS_DIR,
    TRAIN_LOG_FILE,
)
from genbench.core.record import FileDigest, RecordError, RunRecord


def config_hash(config: dict[str, Any]) -> str:
    """A short stable hash of a JSON-serialisable config."""
    return stable_hash(config, 10)


def setup_hash(config: dict[str, Any]) -> str:
    """The hash of a run's config without its seed: runs that share it are seeds of one experiment;
    runs that differ in budget, hyperparameters or evaluation are different experiments."""
    return config_hash({key: value for key, value in config.items() if key != "seed"})


def run_id(dataset: str, model: str, seed: int, config: dict[str, Any]) -> str:
    """The folder name of a run: readable, and different whenever anything that affects it differs."""
    return f"{dataset}-{model}-seed{seed}-{config_hash(config)}"


class RunFolder:
    """Paths and writers of one run folder."""

    def __init__(self, out: Path, run_id: str) -> None:
        self.run_id = run_id
        self.path = out / RUNS_DIR / run_id
        # Names come from validated plugin names and integers; this guards the rule, not user input.
        if self.path.resolve().parent != (out / RUNS_DIR).resolve():
            raise ValueError(f"run id {run_id!r} would leave {out / RUNS_DIR}")

    def file(self, name: str) -> Path:
        """Path of a file in this run's folder."""
        return self.path / name

    def read_record(self) -> RunRecord | None:
        """The run's record, None if there is none; :class:`RecordError` (one line naming the file and
        what is wrong) if it is damaged, or if a checkpoint it vouches for does not match it."""
        path = self.file(METRICS_FILE)
        if not path.exists():
            return None
        record = read_record_file(path)
        for name, digest in record.files.items():
            problem = digest_problem(self.file(name), digest)
            if problem is not None:
                raise RecordError(f"{self.file(name)}: {problem}")
        return record

    @property
    def status(self) -> str | None:
        """The recorded status (``finished``, ``failed``, ``diverged``), None if there is no record or
        it cannot be trusted."""
        try:
            record = self.read_record()
        except RecordError:
            return None
        return None if record is None else record.status

    @property
    def finished(self) -> bool:
        """Whether the run finished: its record and the checkpoints it vouches for agree."""
        return self.status == "finished"

    def remove_leftovers(self) -> None:
        """Delete what interrupted writes left (temporary files) and, in a finished run, the resume
        checkpoints a kill between the record and their removal left. Under the run's lock."""
        remove_temporaries(self.path)
        if self.finished:
            for name in (RESUME_FILE, PREVIOUS_RESUME_FILE):
                self.file(name).unlink(missing_ok=True)

    def digest(self, name: str) -> FileDigest:
        """The size and SHA-256 of a file of this run, for its record to vouch for it."""
        path = self.file(name)
        return FileDigest(path.stat().st_size, file_sha256(path))

    def lock(self, timeout: float = -1) -> FileLock:
        """An inter-process lock on this run (``timeout=0``: fail at once if another process holds it).

        ``flock`` locks die with their process, so a killed run never leaves its folder locked."""
        self.path.mkdir(parents=True, exist_ok=True)
        return FileLock(self.file(LOCK_FILE), timeout=timeout)

    def clear(self) -> None:
        """Remove every file of an earlier attempt (the lock stays: it is held)."""
        for path in self.path.iterdir():
            if path.name != LOCK_FILE and path.is_file():
                path.unlink()

    def write_config(self, config: dict[str, Any]) -> None:
        """Save the resolved config and versions."""
        atomic_write_json(self.file(CONFIG_FILE), config)

    def append_log(self, row: dict[str, Any]) -> None:
        """Append a row to ``train.jsonl``.

        The one file not written by rename: rewriting a growing log on every row would be quadratic.
        Each row goes out in a single ``O_APPEND`` write, so a crash can only cut the last line, which
        :func:`read_jsonl` skips.
        """
        self.path.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(row, sort_keys=True) + "\n").encode()
        fd = os.open(self.file(TRAIN_LOG_FILE), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if os.write(fd, line) < len(line):  # A short write to a file: the disk is full.
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.file(TRAIN_LOG_FILE)))
        finally:
            os.close(fd)

    def write_metrics(self, record: RunRecord) -> None:
        """Write ``metrics.json``, the run's record, last: its status says how the run ended."""
        atomic_write_json(self.file(METRICS_FILE), record.to_dict())


def read_record_file(path: Path) -> RunRecord:
    """A record file (``metrics.json``, a floor), validated; :class:`RecordError` naming the file and
    what is wrong when it cannot be read."""
    try:
        return RunRecord.from_dict(read_json(path))
    except RecordError as error:
        raise RecordError(f"{path}: {error}") from None
    except UnicodeDecodeError:
        raise RecordError(f"{path}: not text (binary garbage)") from None
    except json.JSONDecodeError as error:
        raise RecordError(f"{path}: not valid JSON ({error.msg} at line {error.lineno})") from None
    except OSError as error:
        raise RecordError(f"{path}: unreadable ({error.strerror or error})") from None


def digest_problem(path: Path, digest: FileDigest) -> str | None:
    """What is wrong with ``path`` against the size and SHA-256 a record holds, None if it matches."""
    try:
        size = path.stat().st_size
        if size != digest.size:
            return f"{size} bytes where its record says {digest.size} (truncated or replaced)"
        if file_sha256(path) != digest.sha256:
            return "its SHA-256 differs from its record's (damaged)"
    except FileNotFoundError:
        return "missing"
    except OSError as error:
        return f"unreadable ({error.strerror or error})"
    return None


def truncate_log(path: Path, rows: int | None, steps: int) -> tuple[int, int]:
    """Keep the first ``rows`` rows of a JSONL log (or, for a checkpoint that did not count them, the
    rows up to ``steps``): rows a resumed run will write again go. Damaged lines are dropped, never the
    rows after them. Returns how many rows were kept and how many damaged lines dropped."""
    if not path.exists():
        return 0, 0
    skipped: list[int] = []
    kept = read_jsonl(path, skipped)
    # Rows after the checkpoint's step go; of those at its step, only as many as it had written (the
    # closing row of a run killed before its last checkpoint shares that step).
    kept = [row for row in kept if isinstance(row.get("step"), int) and row["step"] <= steps]
    kept = kept[:rows] if rows is not None else kept
    atomic_write_text(path, "".join(json.dumps(row, sort_keys=True) + "\n" for row in kept))
    return len(kept), len(skipped)


def versions(distributions: dict[str, str]) -> dict[str, Any]:
    """The software a result depends on: python, torch and friends, genbench, each plugin."""

    def version_of(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "torchvision": version_of("torchvision"),
        "torch-fidelity": version_of("torch-fidelity"),
        "genbench": version_of("genbench"),
        "plugins": dict(sorted(distributions.items())),
    }
