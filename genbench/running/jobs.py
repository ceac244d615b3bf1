"""A run as a job any executor can do: reuse its finished record, or do (or resume) the run under the
run folder's lock, containing a failure of the model's own code as a failed record.

The per-dataset preparation (data, reference classifier, real statistics, floor) is done before jobs
are made; a job only reads it (genbench.running.sweep prepares, genbench.running.executor runs jobs).
"""

from __future__ import annotations

import gc
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from filelock import Timeout

from genbench.api import Hyperparameters
from genbench.core.files import atomic_write_text
from genbench.core.layout import ERROR_LOG_FILE
from genbench.core.record import RecordError, RunRecord
from genbench.core.registry import PluginEntry
from genbench.errors import Diverged, Interrupted, OutOfSpaceError, one_line
from genbench.results.records import RunFolder
from genbench.running.single_run import LoadedData, RunContext, SingleRun

OnRecord = Callable[[RunRecord], None]  # Called in the driver as each run's record comes in.


@dataclass(frozen=True)
class RunJob:
    """One (dataset, model, seed) run of a sweep: what it runs and where it is recorded."""

    data: LoadedData
    model_entry: PluginEntry
    hparams: Hyperparameters
    seed: int
    config: dict[str, Any]
    folder: RunFolder

    @property
    def run_id(self) -> str:
        """The run's name (its folder)."""
        return self.folder.run_id

    def single_run(self, context: RunContext) -> SingleRun:
        """The run itself, done in ``context``."""
        return SingleRun(
            context, self.data, self.model_entry, self.hparams, self.seed, self.config, self.folder
        )


def run_or_reuse(context: RunContext, job: RunJob, wait: bool) -> RunRecord | None:
    """The run's record: reused, or from doing (or resuming) the run; None if another process holds
    the run and ``wait`` is False. The caller rebuilds the leaderboard."""
    try:
        with job.folder.lock(timeout=-1 if wait else 0):
            job.folder.remove_leftovers()
            record = reuse(context, job.folder)
            if record is None:
                record = contained(context, job.single_run(context))
    except Timeout:
        context.announce(f"{job.run_id}: another process is running it; coming back to it later")
        return None
    return record


def reuse(context: RunContext, folder: RunFolder) -> RunRecord | None:
    """A finished or diverged run's record (a diverged run would diverge again); None to run it.

    A damaged record, or one whose checkpoints do not match it, makes the run unfinished: said in one
    line, then resumed or redone."""
    if context.options.restart:
        return None
    try:
        record = folder.read_record()
    except RecordError as error:
        context.announce(f"{folder.run_id}: {error}; the run is not finished, doing it again")
        return None
    status = record.status if record is not None else None
    if status not in ("finished", "diverged"):
        if status == "failed":
            context.announce(f"{folder.run_id}: failed last time; trying again")
        return None
    context.announce(f"{folder.run_id}: already {status}, reusing its record (--restart to redo)")
    return record


def contained(context: RunContext, job: SingleRun) -> RunRecord:
    """Do the run; a failure or divergence is recorded and reported, and the sweep goes on."""
    run_name = job.folder.run_id
    try:
        record = job.execute()
    except Interrupted as error:
        error.saved = True  # Stopped inside a run: its resume checkpoints are on disk.
        job.trackers.stop("interrupted", job.reached_kimg, str(error))
        raise
    except KeyboardInterrupt:
        job.trackers.stop("interrupted", job.reached_kimg, "KeyboardInterrupt")
        raise
    except Diverged as error:
        record = job.failure_record("diverged", f"diverged: {error}")
    except torch.OutOfMemoryError:
        batch = job.hparams.batch_size
        record = job.failure_record(
            "failed",
            f"out of memory on {context.device} at batch size {batch}; try "
            f"--set {job.model_entry.name}.batch_size={max(batch // 2, 1)} or a smaller model",
        )
    except Exception as error:  # A plugin's bug must not end the sweep: record it and go on.
        if OutOfSpaceError.wrapping(error) is not None:
            job.trackers.stop("failed", job.reached_kimg, str(error))
            raise  # Not the run's fault, and every later run would hit it too.
        name = f"{job.model_entry.name} ({job.model_entry.distribution})"
        atomic_write_text(job.folder.file(ERROR_LOG_FILE), traceback.format_exc())
        message = one_line(error)
        record = job.failure_record("failed", f"{name} raised {message} (traceback in {ERROR_LOG_FILE})")
    else:
        scores = ", ".join(f"{k}={v:.4g}" for k, v in record.metrics.items() if v is not None)
        context.announce(f"{run_name}: done in {record.wall_seconds or 0:.0f} s, {scores}")
        return record
    finally:
        gc.collect()  # Free the model's memory (on a GPU, before the next run needs it).
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    job.folder.write_metrics(record)
    record = job.trackers.end_with(record, job.folder.write_metrics)
    context.announce(f"{run_name}: {record.status.upper()}: {record.error}")
    return record
