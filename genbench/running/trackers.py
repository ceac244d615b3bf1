"""The trackers of one run (``--track``), called as one by the run and its training loop.

Like the progress sink, this is all the loop knows of them: it hands over each ``train.jsonl`` row, each
snapshot of the fixed latents and each resume checkpoint, and never waits on a tracker's result. A
tracker that raises costs the run nothing: one warning line naming the tracker and its error, then it
is left out for the rest of the run, and the run's record notes it (:attr:`Trackers.failures`). With no
tracker asked for, every call returns at once.

The trackers themselves are built, and checked, once per sweep (:func:`build_trackers`): a name no
plugin registers, a missing package or a constructor that fails is one line and exit code 2 before any
training.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from genbench.core.record import RunRecord
from genbench.core.registry import Registry
from genbench.errors import UserError, one_line
from genbench.figures.pictures import grid_image, progress_strip
from genbench.running.resume import preserved_rng
from genbench.tracking import RunEnd, RunStatus, TrackedRun, Tracker

LIMIT = 300  # Characters of a tracker's error in a warning and in the record.


def build_trackers(registry: Registry, names: Iterable[str]) -> tuple[Tracker, ...]:
    """One instance of each tracker named (``--track``), checked (:meth:`Tracker.check`); a user error,
    one line naming the tracker and what to do, when one cannot work."""
    trackers = []
    for name in names:
        entry = registry.tracker(name)
        owner = f"tracker '{name}' ({entry.distribution})"
        try:
            tracker = entry.cls()
            tracker.check()
        except UserError as error:
            raise UserError(f"{owner}: {error}") from error
        except Exception as error:  # A third party's bug: one line, not a traceback.
            raise UserError(f"{owner} cannot start: {one_line(error, LIMIT)}") from error
        trackers.append(tracker)
    return tuple(trackers)


def step_of(kimg: float) -> int:
    """The trackers' step (training images shown) of a ``kimg`` the loop logged."""
    return round(kimg * 1000)


class Trackers:
    """One run's trackers as one: each call goes to every tracker still watching the run."""

    def __init__(
        self, trackers: Sequence[Tracker] = (), announce: Callable[[str], None] = print, run_id: str = ""
    ) -> None:
        self._all = tuple(trackers)
        self._watching: list[Tracker] = []
        self.announce, self.run_id = announce, run_id
        self.failures: dict[str, str] = {}  # Tracker name -> its first error in this run.

    def start(self, run: TrackedRun) -> None:
        """The run starts (or resumes) in this process: every tracker watches it again."""
        self._watching = list(self._all)
        self.failures = {}
        self._each("start", run)

    @property
    def watching(self) -> bool:
        """Whether any tracker watches the run now (nothing to prepare for them otherwise)."""
        return bool(self._watching)

    def log_row(self, row: Mapping[str, float]) -> None:
        """A row the loop wrote to ``train.jsonl``."""
        if self._watching:
            self._each("log_row", step_of(row["kimg"]), row)

    def log_snapshot(self, step: int, images: torch.Tensor) -> None:
        """The fixed latents' samples (uint8 ``(N, C, H, W)``) the loop took at ``step``, as one row."""
        if self._watching and images.numel():
            self._each("log_images", step, {"fixed_latents": grid_image(images, images.shape[0])})

    def log_images(self, step: int, images: Mapping[str, torch.Tensor]) -> None:
        """Pictures ready to show (uint8 ``(C, H, W)``)."""
        if self._watching:
            self._each("log_images", step, images)

    def checkpointed(self, step: int) -> None:
        """The loop saved a resume checkpoint at ``step``."""
        if self._watching:
            self._each("checkpointed", step)

    def end(self, end: RunEnd) -> None:
        """The run ended; no tracker is called for it again."""
        if self._watching:
            self._each("end", end)
        self._watching = []

    def log_final_pictures(
        self, step: int, snapshots: list[tuple[float, torch.Tensor]], samples: torch.Tensor, cols: int
    ) -> None:
        """The whole progress strip and the final sample grid (uint8 samples, ``cols`` a row)."""
        if self._watching:
            strip, grid = progress_strip(snapshots), grid_image(samples, cols)
            self._each("log_images", step, {"progress": strip, "samples": grid})

    def end_with(self, record: RunRecord, write: Callable[[RunRecord], None]) -> RunRecord:
        """Tell the trackers how the run ended, once its record is written (nothing computed waits on
        a tracker); a tracker that fails now is noted in the record, written again with ``write``."""
        if not self._watching:
            return record
        status: RunStatus = "finished" if record.finished else "failed"
        status = "diverged" if record.status == "diverged" else status
        step = None if record.kimg is None else step_of(record.kimg)
        self.end(RunEnd(status, step, record.metrics, record.error))
        if self.failures != record.tracker_failures:
            record = dataclasses.replace(record, tracker_failures=dict(self.failures))
            write(record)
        return record

    def stop(self, status: RunStatus, kimg: float | None, error: str) -> None:
        """The run stopped without a record (a signal, a full disk) at ``kimg`` (None: unknown)."""
        self.end(RunEnd(status, None if kimg is None else step_of(kimg), error=error))

    def _each(self, method: str, *args: Any) -> None:
        for tracker in list(self._watching):
            try:
                # A tracker's library may draw from the global generators (retry jitter, ids): that
                # must not change what training draws next.
                with preserved_rng():
                    getattr(tracker, method)(*args)
            except Exception as error:  # Any failure of a tracker: the run goes on without it.
                self._watching.remove(tracker)
                message = f"{method}: {one_line(error, LIMIT)}"
                self.failures[tracker.name] = message
                self.announce(
                    f"warning: {self.run_id}: tracker '{tracker.name}' failed ({message}); "
                    "the run goes on without it"
                )


def tracked_run(
    run_id: str,
    folder: Path,
    identity: tuple[str, str, int],
    hparams: Any,
    config: dict[str, Any],
    resumed_at: int | None,
) -> TrackedRun:
    """What the trackers are told of a run; ``identity``: its dataset, model and seed. The label adds
    the hyperparameters (a dataclass) that differ from the model's defaults: what sets it apart."""
    dataset, model, seed = identity
    defaults = dataclasses.asdict(type(hparams)())
    changed = [f"{k}={v}" for k, v in dataclasses.asdict(hparams).items() if defaults.get(k) != v]
    label = " / ".join([dataset, model, f"seed {seed}", *changed])
    as_json = json.loads(json.dumps(config))  # As config.json holds it: lists, not tuples.
    return TrackedRun(run_id, label, folder, dataset, model, seed, as_json, resumed_at)
