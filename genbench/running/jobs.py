"""A run as a job: what an executor is handed for each run of a sweep (:class:`RunJob`: the run's
spec, the prepared data and model plugin it runs, the folder it is recorded in) and what the runs of a
sweep share (:class:`LoadedData`, :class:`RunContext`).

The per-dataset preparation (data, reference classifier, real statistics, floor) is done before jobs
are made; a job only reads it (genbench.running.sweep prepares, genbench.running.executor does jobs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from genbench.api import DataShape, Hyperparameters, Split
from genbench.core.progress import ProgressSink
from genbench.core.record import RunRecord
from genbench.core.registry import PluginEntry
from genbench.core.run_spec import RunSpec
from genbench.evaluation.classifier import ClassifierInfo
from genbench.evaluation.setup import EvaluationSetup
from genbench.results.records import RunFolder
from genbench.running.interrupts import StopRequests
from genbench.tracking import Tracker

OnRecord = Callable[[RunRecord], None]  # Called in the driver as each run's record comes in.


@dataclass(frozen=True)
class LoadedData:
    """A dataset's splits, reference classifier and evaluation setup, shared by every run on it."""

    entry: PluginEntry
    shape: DataShape
    train: Split
    test: Split
    classifier: ClassifierInfo
    setup: EvaluationSetup
    # Seconds this process spent preparing the dataset ("data", "classifier", "floor"; near 0 when
    # cached), shared by every run on it and repeated in each run's phase_seconds.
    prepare_seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RunContext:
    """What every run of a benchmark shares: where it trains, how it reports, how it stops."""

    device: torch.device
    progress: ProgressSink
    announce: Callable[[str], None]
    stop: StopRequests
    restart: bool = False  # --restart: no reusing finished runs, no resuming unfinished ones.
    trackers: tuple[Tracker, ...] = ()  # --track: built and checked once, by the sweep.


@dataclass(frozen=True)
class RunJob:
    """One (dataset, model, seed) run of a sweep, as any executor gets it: its spec, the prepared data
    and the model plugin it runs, and the folder it is recorded in."""

    spec: RunSpec
    data: LoadedData
    model_entry: PluginEntry
    hparams: Hyperparameters  # The model's, resolved: the spec holds their values.
    folder: RunFolder

    @property
    def run_id(self) -> str:
        """The run's name (its folder)."""
        return self.spec.run_id
