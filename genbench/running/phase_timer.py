"""Where a training loop's seconds go: optimisation, and the loop's other work by phase.

Training seconds (the budget's ``--seconds`` cap, ``train.jsonl``'s ``seconds``, a record's
``train_seconds``) are optimisation alone; the held-out estimates and the cheap metric
(``eval_during_training``), the progress strip's samples (``pictures``), the resume checkpoints
(``checkpoints``) and the trackers' calls (``tracking``) are timed apart, into the run's ``phase_seconds``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import torch

EVAL_PHASE, PICTURES_PHASE, CHECKPOINT_PHASE = "eval_during_training", "pictures", "checkpoints"
TRACKING_PHASE = "tracking"  # The calls of --track's trackers.


class PhaseTimer:
    """Optimisation seconds since ``seconds_before`` (those of earlier processes), and the seconds of
    other work, added by phase to ``side`` (a resume checkpoint carries both)."""

    def __init__(self, seconds_before: float, device: torch.device, side: dict[str, float]) -> None:
        self.started = time.monotonic() - seconds_before
        self.device, self.side = device, side
        self.aside = 0.0  # Seconds this process spent on other work than optimising.

    def optimising(self) -> float:
        """Optimisation seconds so far, in this and earlier processes."""
        return time.monotonic() - self.started - self.aside

    @contextlib.contextmanager
    def aside_as(self, phase: str) -> Iterator[None]:
        """Time a block of other work than optimising as ``phase``. The device finishes its queued
        steps first, so that they are counted as optimisation, not as the block."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        started = time.monotonic()
        try:
            yield
        finally:
            spent = time.monotonic() - started
            self.aside += spent
            self.side[phase] = self.side.get(phase, 0.0) + spent

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """A block that is not this run's time at all (in a pack, the other seeds' turns): counted
        neither as optimisation nor as any phase."""
        started = time.monotonic()
        try:
            yield
        finally:
            self.aside += time.monotonic() - started
