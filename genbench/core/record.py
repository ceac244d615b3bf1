"""The run record: what ``metrics.json`` (a run), ``floors/*.json`` (a real-data floor),
``scores/*.json`` (a sample set scored by ``genbench score``) and ``evals/*.json`` (a finished run scored
again by ``genbench eval``) hold, typed.

The run and the floor write a :class:`RunRecord`; the sweep, the leaderboard, the report and the CLI
read one back with :meth:`RunRecord.from_dict`, which validates it: a record that is not what this
genbench writes (damaged, another type, a value of the wrong kind) is refused with
:class:`RecordError`, one line naming what is wrong. Records carry :data:`SCHEMA_VERSION`; a record
without one is an older genbench's (version 0) and is upgraded where it can be, a newer one is refused.
Each record is written with the checksum of its content (genbench.core.files.with_checksum): one
changed digit makes it damaged, not a different result. A record without one (an older genbench's)
is read as it is.

It lives at the top level (not in ``results``) because the floor (``evaluation``) writes it too.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from genbench.core.files import checksum_problem, with_checksum

SCHEMA_VERSION = 1  # Bump when a field changes meaning or a required field is added.
# The largest seed a run takes, here and on the command line (genbench.options.config): each run seeds
# NumPy's global generator, whose seeds stop at 2**32 - 1 (torch and Python take larger ones).
MAX_SEED = 2**32 - 1
STATUSES = ("finished", "failed", "diverged", "floor")
EXTERNAL_PREFIX = "external:"  # The model of a sample set scored by `genbench score`: external:<label>.


class RecordError(ValueError):
    """A record that cannot be read: its message is one line saying what is wrong and what to do."""


@dataclass
class FileDigest:
    """The size and SHA-256 of a file a record vouches for (its final and best checkpoints)."""

    size: int
    sha256: str


@dataclass
class RunRecord:
    """One run's (or one floor's) record. Fields that a kind of record lacks are None or empty."""

    run_id: str
    dataset: str
    model: str
    seed: int | None
    status: str  # finished, failed, diverged, or floor (a real-data floor)
    setup: str | None = None
    budget_kimg: float | None = None
    budget: dict[str, Any] | None = None
    device: str | None = None
    node: str | None = None  # The machine that trained the run (a sweep may span a Ray cluster).
    protocol_summary: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float | None] = field(default_factory=dict)
    protocol: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    kimg: float | None = None
    steps: int | None = None
    stopped_by: str | None = None
    train_seconds: float | None = None
    final_logs: dict[str, float] = field(default_factory=dict)
    resumed_at_kimg: list[float] = field(default_factory=list)
    during_training: dict[str, Any] | None = None
    pictures_skipped: dict[str, str] = field(default_factory=dict)
    progress_kimg: list[float] = field(default_factory=list)
    eval_seconds: float | None = None
    wall_seconds: float | None = None
    held_out_split: str | None = None  # A floor's: the real split scored like samples.
    dataset_description: str | None = None  # E.g. a folder dataset's split rule.
    samples_out_of_range: float | None = None  # Fraction of sample values outside [-1, 1] (clamped).
    precision: str | None = None  # What the run trained in (fp32, bf16).
    phase_seconds: dict[str, float] = field(default_factory=dict)  # Where the time went, by phase.
    files: dict[str, FileDigest] = field(default_factory=dict)  # Checkpoints it vouches for, by name.
    # Trackers (--track) that raised during the run, with the first error: they stopped watching it.
    tracker_failures: dict[str, str] = field(default_factory=dict)
    # The training log as the run left it: a damaged log is said (and its curves drawn from what
    # remains), but does not unfinish the run: the metrics do not depend on it.
    train_log: FileDigest | None = None
    train_log_rows: int | None = None
    # A sample set scored by ``genbench score`` (model ``external:<label>``, no seed, no training):
    # its path, SHA-256, label and the samples scored (EXTERNAL_PREFIX).
    external: dict[str, Any] | None = None
    # A finished run scored again by ``genbench eval`` (same model and seed, another evaluation): the
    # run's id, the weights sampled and their SHA-256, the options and the label of what differs from
    # the run's own evaluation (genbench.running.run_evaluation).
    evaluation: dict[str, Any] | None = None
    # The model's sampling options the metrics were computed under (all of them; {} for a model with
    # none) and its network evaluations per sample (NFE) under them (genbench.api.Model.nfe).
    sampling: dict[str, Any] | None = None
    nfe: int | None = None
    # The pack of seeds it trained in (``--pack``): its size and seeds; None: it trained alone.
    pack: dict[str, Any] | None = None
    schema_version: int = SCHEMA_VERSION

    @property
    def finished(self) -> bool:
        """Whether the run finished (its metrics are final)."""
        return self.status == "finished"

    def to_dict(self) -> dict[str, Any]:
        """The JSON object written to disk: the fields by name, with ``schema_version`` and the
        checksum of the whole."""
        return with_checksum(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: Any) -> RunRecord:
        """Validate and read a record loaded from JSON; :class:`RecordError` when it cannot be."""
        if not isinstance(data, dict):
            raise RecordError(f"not a JSON object but {_kind(data)}")
        version = data.get("schema_version", 0)
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise RecordError(f"schema_version is {version!r}, not a version number")
        if version > SCHEMA_VERSION:
            raise RecordError(
                f"written by a newer genbench (record schema {version}; this genbench reads up to "
                f"{SCHEMA_VERSION}): upgrade genbench to read it"
            )
        missing = [name for name in _REQUIRED if data.get(name) is None and name != "seed"]
        if missing:
            older = " (an older genbench's record)" if version < SCHEMA_VERSION else ""
            raise RecordError(
                f"no {', '.join(missing)}{older}: run the same command again to redo the run, "
                "or delete its folder"
            )
        values: dict[str, Any] = {"seed": None}
        for spec in dataclasses.fields(cls):
            if spec.name in data and data[spec.name] is not None:
                values[spec.name] = _checked(spec.name, data[spec.name])
        values["schema_version"] = SCHEMA_VERSION  # Upgraded: version 0 has the same fields, fewer of them.
        record = cls(**values)
        record._check_consistent()
        problem = checksum_problem(data)  # Last: a value of the wrong kind is named first.
        if problem is not None:
            raise RecordError(f"{problem}: run the same command again to redo it, or delete it")
        return record

    def _check_consistent(self) -> None:
        if self.status not in STATUSES:
            raise RecordError(f"status {self.status!r} is none of {', '.join(STATUSES)}")
        if self.seed is None and self.status != "floor" and self.external is None:
            raise RecordError("no seed")
        if self.seed is not None and not 0 <= self.seed <= MAX_SEED:
            raise RecordError(f"seed {self.seed} is outside 0..{MAX_SEED:,}")


_REQUIRED = ("run_id", "dataset", "model", "status", "seed")
_NUMBER = (int, float)

# What each field may hold (None is always allowed and means "absent").
_TYPES: dict[str, tuple[type, ...]] = {
    "run_id": (str,),
    "dataset": (str,),
    "model": (str,),
    "seed": (int,),
    "status": (str,),
    "setup": (str,),
    "budget_kimg": _NUMBER,
    "budget": (dict,),
    "device": (str,),
    "node": (str,),
    "protocol_summary": (dict,),
    "metrics": (dict,),
    "protocol": (dict,),
    "error": (str,),
    "kimg": _NUMBER,
    "steps": (int,),
    "stopped_by": (str,),
    "train_seconds": _NUMBER,
    "final_logs": (dict,),
    "resumed_at_kimg": (list,),
    "during_training": (dict,),
    "pictures_skipped": (dict,),
    "progress_kimg": (list,),
    "dataset_description": (str,),
    "samples_out_of_range": _NUMBER,
    "precision": (str,),
    "phase_seconds": (dict,),
    "eval_seconds": _NUMBER,
    "wall_seconds": _NUMBER,
    "held_out_split": (str,),
    "files": (dict,),
    "tracker_failures": (dict,),
    "train_log": (dict,),
    "train_log_rows": (int,),
    "external": (dict,),
    "evaluation": (dict,),
    "sampling": (dict,),
    "nfe": (int,),
    "pack": (dict,),
    "schema_version": (int,),
}


def _checked(name: str, value: Any) -> Any:
    """``value`` of field ``name`` if it has the right kind (RecordError otherwise)."""
    kinds = _TYPES[name]
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise RecordError(f"{name} is {_kind(value)}, not {' or '.join(k.__name__ for k in kinds)}")
    if name == "metrics":
        bad = [k for k, v in value.items() if not (v is None or _is_number(v))]
        if bad:
            raise RecordError(f"metric {bad[0]} is {_kind(value[bad[0]])}, not a number")
    if name in ("resumed_at_kimg", "progress_kimg") and not all(_is_number(v) for v in value):
        raise RecordError(f"{name} holds something other than numbers")
    if name == "files":
        return {file: _digest(f"files.{file}", digest) for file, digest in value.items()}
    if name == "train_log":
        return _digest(name, value)
    return value


def _digest(file: str, value: Any) -> FileDigest:
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("size"), int)
        or not isinstance(value.get("sha256"), str)
    ):
        raise RecordError(f"{file} is not a size and a SHA-256")
    return FileDigest(value["size"], value["sha256"])


def _is_number(value: Any) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    """What a JSON value is, in words."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, _NUMBER) else type(value).__name__)
