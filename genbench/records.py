"""Run records on disk: one folder per (dataset, model, seed, config), every file written atomically.

A run folder holds ``config.json`` (resolved options and versions), ``train.jsonl`` (logged
scalars), ``checkpoint.pt`` (final weights), ``best.pt`` (best cheap metric), resume checkpoints while it
runs, pictures and curves, and, last, ``metrics.json``: its ``status`` says whether the run finished,
failed or diverged. Two processes never work on one run folder at once (:meth:`RunFolder.lock`).
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import platform
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import torch
from filelock import FileLock

RUNS_DIR = "runs"
FLOORS_DIR = "floors"  # Real-data floor records, one per dataset and protocol (genbench.floor).
CONFIG_FILE = "config.json"
TRAIN_LOG_FILE = "train.jsonl"
CHECKPOINT_FILE = "checkpoint.pt"
BEST_CHECKPOINT_FILE = "best.pt"
LOCK_FILE = ".lock"
SAMPLES_FILE = "samples.png"
METRICS_FILE = "metrics.json"


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` through a temporary file in the same folder and rename it into place, so a
    reader never sees a half-written file and a crash leaves the previous version intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError) and error.filename is None:
            error.filename = str(path)  # A failed write() names no file; say which one it was.
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write(path, lambda f: f.write(text.encode()))


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def atomic_torch_save(path: Path, obj: Any) -> None:
    """``torch.save`` to ``path`` atomically."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write(path, lambda f: f.write(buffer.getvalue()))


def config_hash(config: dict[str, Any]) -> str:
    """A short stable hash of a JSON-serialisable config."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:10]


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

    @property
    def status(self) -> str | None:
        """The recorded status (``finished``, ``failed``, ``diverged``), None if there is no record."""
        try:
            return read_json(self.file(METRICS_FILE)).get("status")
        except (OSError, json.JSONDecodeError, AttributeError):
            return None

    @property
    def finished(self) -> bool:
        """Whether the run finished: its metrics are written."""
        return self.status == "finished"

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

    def write_metrics(self, record: dict[str, Any]) -> None:
        """Write ``metrics.json``, the run's record, last: its status says how the run ended."""
        atomic_write_json(self.file(METRICS_FILE), record)


def read_json(path: Path) -> Any:
    """Load a JSON file."""
    return json.loads(path.read_text())


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The rows of a JSONL log, without a last line cut short by a crash."""
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return rows


def truncate_log(path: Path, steps: int) -> None:
    """Keep the rows of a JSONL log up to ``steps`` (rows a resumed run will write again go)."""
    if not path.exists():
        return
    rows = [row for row in read_jsonl(path) if row.get("step", 0) <= steps]
    atomic_write_text(path, "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows))


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
