"""The tracker plugin API: where runs are watched while they train (TensorBoard, MLflow, ...).

A tracker is a :class:`Tracker` subclass registered by the ``register_trackers`` hook, like a model or a
dataset. ``genbench run --track NAME`` builds one instance per ``genbench run``, in the process that
leads the sweep, and calls :meth:`Tracker.check` there before any training. The instance then goes
through each run in turn: :meth:`~Tracker.start`, :meth:`~Tracker.log_row` and
:meth:`~Tracker.log_images` while it trains, :meth:`~Tracker.checkpointed` at each resume checkpoint,
:meth:`~Tracker.end`. With ``--executor ray`` each run's task gets its own copy (pickled), so a tracker
keeps settings between runs (a tracking URI), never open connections.

The runner calls a tracker; a tracker never touches training. Watching never changes a run: trackers
are not part of the run's identity (the same run with or without ``--track`` is the same run folder
with the same numbers), and an exception a tracker raises costs the run nothing: the runner warns once,
stops calling that tracker for the rest of the run and notes it in the run's record.

Every call carries a ``step``: the training images shown so far (kimg x 1000). It is the x-axis every
tracker shares, so runs with different batch sizes line up, and a resumed run continues the same axis.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import torch

RunStatus = Literal["finished", "failed", "diverged", "interrupted"]


@dataclass(frozen=True)
class TrackedRun:
    """What a tracker is told when a run starts, or resumes in a new process."""

    run_id: str  # The run folder's name: dataset-model-seedN-<hash of its identity>.
    label: str  # For people: "digits / dcgan / seed 0", plus the hyperparameters that differ from the
    # model's defaults ("lr=0.0001").
    folder: Path  # The run folder. A tracker may write files of its own there (event files).
    dataset: str
    model: str
    seed: int
    config: Mapping[str, Any]  # The run's configuration (its config.json): nested, JSON values.
    resumed_at: int | None = None  # None: a fresh start. Otherwise the step of the resume checkpoint
    # it continues from: every row and image after that step comes again, none at or before it.

    def flat_config(self) -> dict[str, int | float | str]:
        """:attr:`config` as one level of ``a.b`` keys (``hparams.lr``, ``training.budget.kimg``): numbers and
        strings, with booleans and lists as JSON (``true``, ``["fd_clf", "kid_clf"]``) and nulls left
        out. What hyperparameter tables (TensorBoard's HParams, MLflow's params) take."""
        flat: dict[str, int | float | str] = {}

        def add(prefix: str, value: object) -> None:
            if isinstance(value, Mapping):
                for key, item in value.items():
                    add(f"{prefix}.{key}" if prefix else str(key), item)
            elif isinstance(value, (bool, list, tuple)):
                flat[prefix] = json.dumps(value)
            elif isinstance(value, (int, float, str)):
                flat[prefix] = value

        add("", self.config)
        return flat


@dataclass(frozen=True)
class RunEnd:
    """How a run ended, as :meth:`Tracker.end` is told."""

    status: RunStatus  # "interrupted": stopped by a signal; the same command resumes it later.
    step: int | None = None  # The step it reached; None when unknown.
    metrics: Mapping[str, float | None] = field(default_factory=dict)  # Final metrics (finished runs).
    error: str | None = None  # Why it failed, diverged or stopped.


class Tracker(ABC):
    """A place runs are watched in while they train. Subclasses set ``name`` (what users pass to
    ``--track``) and implement :meth:`start`, :meth:`log_row` and :meth:`end`; the other methods are
    optional. The constructor takes no arguments; read settings (URIs, folders) from the environment.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""

    def check(self) -> None:
        """Called once, before any run trains: raise :class:`genbench.UserError` with one line saying
        what to do when the tracker cannot work (its package is missing, its server does not answer).
        Default: nothing to check."""
        return None  # Optional: a tracker overrides it or not.

    @abstractmethod
    def start(self, run: TrackedRun) -> None:
        """A run starts, or resumes (``run.resumed_at``) in this process."""

    @abstractmethod
    def log_row(self, step: int, row: Mapping[str, float]) -> None:
        """One row of the run's ``train.jsonl``: the training scalars (averaged since the previous row),
        ``test/...`` estimates, the ``eval/...`` cheap metric, and ``step`` (optimisation steps),
        ``kimg`` and ``seconds``. The last row of a run may share its step with the row before it."""

    def log_images(self, step: int, images: Mapping[str, torch.Tensor]) -> None:
        """Pictures, each a uint8 tensor ``(C, H, W)`` on the CPU, small images magnified as in the run
        folder: ``fixed_latents`` (the progress strip's samples of fixed noise) at the start, at every
        tenth of the budget and at the end; ``progress`` (the whole strip) and ``samples`` (the final
        sample grid) once at the end. Default: ignored."""
        return None  # Optional: a tracker overrides it or not.

    def checkpointed(self, step: int) -> None:
        """The run saved a resume checkpoint at ``step``: make what was logged so far durable (flush
        buffers), since a run killed later resumes from here and logs only what comes after it.
        Default: nothing to flush."""
        return None  # Optional: a tracker overrides it or not.

    @abstractmethod
    def end(self, end: RunEnd) -> None:
        """The run ended. A finished run's record (``metrics.json``) and pictures are in its folder."""
