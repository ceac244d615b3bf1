"""Where training is, saved in every resume checkpoint (:class:`TrainState`), and how it ended
(:class:`TrainResult`): what the loop (genbench.running.training) hands back and forth with its run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class TrainState:
    """Where training is: saved in every resume checkpoint."""

    steps: int = 0
    images_seen: int = 0
    seconds: float = 0.0  # Optimisation seconds spent, in this and earlier processes.
    # Seconds of the loop's other work, by phase (genbench.running.phase_timer): evaluation, pictures,
    # checkpoints.
    side_seconds: dict[str, float] = field(default_factory=dict)
    last_logs: dict[str, float] = field(default_factory=dict)
    snapshots: list[tuple[float, torch.Tensor]] = field(default_factory=list)  # (kimg, uint8 images)
    best: dict[str, float] | None = None  # {"value", "kimg"} of the best cheap metric so far.
    resumes: list[float] = field(default_factory=list)  # The kimg at which each resume took over.
    stopped_by: str | None = None  # Set once the budget is spent and the closing estimates are logged.
    # Rows written to the log so far: a resumed run keeps exactly these (None: an older checkpoint).
    log_rows: int | None = 0
    # Scalars of the steps since the last log row: a checkpoint carries them rather than writing a row
    # an uninterrupted run would not have.
    pending: list[dict[str, torch.Tensor]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain containers and tensors only, for ``torch.load(weights_only=True)``."""
        pending = [{k: v.detach().cpu() for k, v in logs.items()} for logs in self.pending]
        snapshots = [[kimg, images] for kimg, images in self.snapshots]
        return {**self.__dict__, "snapshots": snapshots, "pending": pending}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> TrainState:
        """The inverse of :meth:`to_dict`."""
        snapshots = [(float(kimg), images) for kimg, images in state["snapshots"]]
        return cls(**{"log_rows": None, **state, "snapshots": snapshots})


@dataclass(frozen=True)
class TrainResult:
    """How training ended."""

    steps: int
    images_seen: int
    seconds: float
    stopped_by: str  # "kimg", "steps" or "seconds"
    last_logs: dict[str, float]
    side_seconds: dict[str, float] = field(default_factory=dict)  # TrainState.side_seconds.

    def summary(self) -> dict[str, object]:
        """The fields a run record carries."""
        return {
            "stopped_by": self.stopped_by,
            "kimg": self.images_seen / 1000,
            "steps": self.steps,
            "train_seconds": round(self.seconds, 3),
            "final_logs": self.last_logs,
        }
