"""Run records on disk: one folder per (dataset, model, seed, config), every file written atomically.

A run folder holds ``config.json`` (its spec: genbench.core.run_spec), ``train.jsonl`` (logged
scalars), ``checkpoint.pt`` (final weights), ``best.pt`` (best cheap metric), resume checkpoints while it
runs, pictures and curves, and, last, ``metrics.json``: its ``status`` says whether the run finished,
failed or diverged. Two processes never work on one run folder at once (:meth:`RunFolder.lock`).
"""

from __future__ import annotations

import errno
import json
import os
import platform
import shutil
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import torch

from genbench.core.files import (
    atomic_write_json,
    atomic_write_text,
    checksum_problem,
    file_sha256,
    not_a_regular_file,
    read_json,
    read_jsonl,
    remove_damaged,
    remove_temporaries,
    with_checksum,
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
from genbench.core.locks import Lock
from genbench.core.record import FileDigest, RecordError, RunRecord
from genbench.core.run_spec import RunSpec, SpecError

T = TypeVar("T")


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
        if not os.path.lexists(path) or (path.is_symlink() and not path.exists()):
            return None  # No record (a link to nothing is none either): the run is done (again).
        record = read_record_file(path, expected_run_id=self.run_id)
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
        if self.status in ("finished", "diverged"):  # Reused as they are: never resumed again.
            for name in (RESUME_FILE, PREVIOUS_RESUME_FILE):
                remove_damaged(self.file(name))

    def log_rows(self) -> int:
        """How many rows ``train.jsonl`` holds (for the record, which vouches for the log)."""
        return len(read_jsonl(self.file(TRAIN_LOG_FILE)))

    def digest(self, name: str) -> FileDigest:
        """The size and SHA-256 of a file of this run, for its record to vouch for it."""
        path = self.file(name)
        return FileDigest(path.stat().st_size, file_sha256(path))

    def lock(self, timeout: float = -1) -> Lock:
        """An inter-process lock on this run (``timeout=0``: fail at once if another process holds it).

        ``flock`` locks die with their process, so a killed run never leaves its folder locked; the
        lock's file goes when it is released."""
        self.path.mkdir(parents=True, exist_ok=True)
        return Lock(self.file(LOCK_FILE), timeout=timeout)

    def clear(self) -> None:
        """Remove everything an earlier attempt left (the lock stays: it is held), folders and links
        in a file's place included: the run folder is genbench's alone."""
        for path in self.path.iterdir():
            if path.name == LOCK_FILE:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()

    def write_spec(self, spec: RunSpec) -> None:
        """Save the run's spec as ``config.json``, with the checksum of its content (a changed value is
        then damage, not another spec)."""
        atomic_write_json(self.file(CONFIG_FILE), with_checksum(spec.to_dict()))

    def read_spec(self) -> RunSpec:
        """The run's ``config.json``; :class:`SpecError` (one line naming the file) if it is missing,
        damaged (a folder or a link to nothing in its place, a value changed against its checksum) or
        another run's."""
        return read_spec_file(self.file(CONFIG_FILE), expected_run_id=self.run_id)

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


def read_record_file(path: Path, expected_run_id: str | None = None) -> RunRecord:
    """A record file (``metrics.json``, a floor), validated; :class:`RecordError` naming the file and
    what is wrong when it cannot be read, or when it is not the record of ``expected_run_id`` (another
    run's record copied in its place would show another run's numbers)."""
    return _read_checked(path, RunRecord.from_dict, RecordError, expected_run_id, "record")


def read_spec_file(path: Path, expected_run_id: str | None = None) -> RunSpec:
    """A run's ``config.json``, validated; :class:`SpecError` naming the file and what is wrong when it
    cannot be read, when a value no longer matches its checksum, or when it is not the spec of
    ``expected_run_id``."""
    return _read_checked(path, _spec_from_dict, SpecError, expected_run_id, "config")


def _spec_from_dict(data: Any) -> RunSpec:
    """:meth:`RunSpec.from_dict`, then the checksum ``config.json`` is written with (one written
    before genbench wrote one has none and is read as it is)."""
    spec = RunSpec.from_dict(data)  # Last: a value of the wrong kind is named first.
    if (problem := checksum_problem(data)) is not None:
        raise SpecError(problem)
    return spec


def _read_checked(
    path: Path, parse: Callable[[Any], T], error: type[ValueError], expected_run_id: str | None, what: str
) -> T:
    """``parse`` of the JSON file ``path``; whatever keeps it from being read (a folder or a link to
    nothing in its place included), or another run's file there, is one ``error`` naming the file."""
    problem = not_a_regular_file(path)
    if problem is not None:
        raise error(f"{path}: {problem}")
    try:
        parsed = parse(read_json(path))
        run_id = getattr(parsed, "run_id", None)
        if expected_run_id is not None and run_id != expected_run_id:
            raise error(f"the {what} of {run_id}, not of {expected_run_id} (another run's)")
        return parsed
    except error as problem:
        raise error(f"{path}: {problem}") from None
    except FileNotFoundError:
        raise error(f"{path}: missing") from None
    except UnicodeDecodeError:
        raise error(f"{path}: not text (binary garbage)") from None
    except json.JSONDecodeError as problem:
        raise error(f"{path}: not valid JSON ({problem.msg} at line {problem.lineno})") from None
    except OSError as problem:
        raise error(f"{path}: unreadable ({problem.strerror or problem})") from None


def digest_problem(path: Path, digest: FileDigest) -> str | None:
    """What is wrong with ``path`` against the size and SHA-256 a record holds, None if it matches."""
    problem = not_a_regular_file(path)
    if problem is not None:
        return problem
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


def train_log_problem(run_dir: Path) -> str | None:
    """What a finished run's ``train.jsonl`` lost against its record, in one line naming it; None
    when it is whole, or the run is not finished (a resumed run checks its log against its checkpoint)."""
    try:
        record = read_record_file(run_dir / METRICS_FILE, expected_run_id=run_dir.name)
    except RecordError:
        return None  # Said where the record is read.
    if not record.finished:
        return None
    path = run_dir / TRAIN_LOG_FILE
    skipped: list[int] = []
    rows = len(read_jsonl(path, skipped))
    if record.train_log is not None:
        problem = digest_problem(path, record.train_log)
    else:  # An older genbench's record vouches for no log: only damaged lines tell.
        problem = f"{len(skipped)} damaged line(s)" if skipped else None
    if problem is None:
        return None
    if not rows:  # Nothing to draw: the curves drawn when the run finished stay.
        return f"{path}: {problem}; its curves stay as drawn when the run finished (its metrics stay valid)"
    of = f" of {record.train_log_rows}" if record.train_log_rows is not None else ""
    return (
        f"{path}: {problem}; its curves are drawn from the {rows}{of} rows that remain readable, as they "
        "are now (the run's metrics stay valid)"
    )


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


def software_versions() -> dict[str, str | None]:
    """The software a result depends on besides the plugins: python, torch and friends, genbench."""

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
    }
