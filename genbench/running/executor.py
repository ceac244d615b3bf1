"""Executors: who does a sweep's runs once the driver has prepared every dataset, and the one way
each run is done.

``local`` does them here, one after another (the default); ``ray`` submits each as a Ray task
(genbench.running.ray_executor). Both do the same with each job (:func:`run_or_reuse`): reuse its
finished record, or do (or resume) the run under the run folder's lock, containing a failure of the
model's own code as a failed record. So run folders, names and records do not depend on the executor,
and a rerun reuses or resumes what either left behind.
"""

from __future__ import annotations

import gc
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import torch
from filelock import Timeout

from genbench.core.files import atomic_write_text
from genbench.core.layout import ERROR_LOG_FILE
from genbench.core.metrics import bound_of
from genbench.core.record import RecordError, RunRecord
from genbench.errors import Diverged, Interrupted, OutOfSpaceError, one_line
from genbench.options.config import RunOptions
from genbench.results.records import RunFolder
from genbench.running.device import resolve_device
from genbench.running.jobs import OnRecord, RunContext, RunJob
from genbench.running.plan import planned
from genbench.running.single_run import SingleRun
from genbench.running.sweep_clock import SweepClock


class Executor(Protocol):
    """What the sweep asks of an executor."""

    def local_device(self) -> torch.device:
        """Where the driver prepares datasets (reference classifier, real statistics, floor)."""

    @contextmanager
    def connected(self) -> Iterator[None]:
        """Hold whatever the executor needs (a Ray connection) for the block; checks it works first."""

    def run_device(self) -> torch.device:
        """The device type runs train on (part of each run's identity); inside :meth:`connected`."""

    def run(self, context: RunContext, jobs: list[RunJob], on_record: OnRecord) -> list[RunRecord]:
        """Do (or reuse) every job; returns their records."""


class LocalExecutor:
    """Today's loop: the runs one after another in this process, on its device."""

    def __init__(self, options: RunOptions) -> None:
        self.device = resolve_device(options.device)

    def local_device(self) -> torch.device:
        """This process's device, for preparation and runs alike."""
        return self.device

    @contextmanager
    def connected(self) -> Iterator[None]:
        """Nothing to connect to."""
        yield

    def run_device(self) -> torch.device:
        """The same device as the preparation."""
        return self.device

    def run(self, context: RunContext, jobs: list[RunJob], on_record: OnRecord) -> list[RunRecord]:
        """Each job in turn; runs another process holds are done last, after waiting for it (it has
        usually finished them by then)."""
        restart = context.restart
        trains = [planned(job.folder, restart).action != "reuse" for job in jobs]
        clock = SweepClock(len(jobs), sum(trains))
        records, waiting = [], []
        for index, (job, training) in enumerate(zip(jobs, trains, strict=True), 1):
            record = run_or_reuse(clock.context(context, index, job.run_id, training), job, wait=False)
            clock.done(trained=training and record is not None)
            if record is None:
                waiting.append((index, job))
            else:
                on_record(record)
                records.append(record)
        for index, job in waiting:
            record = run_or_reuse(clock.context(context, index, job.run_id, trains=False), job, wait=True)
            assert record is not None  # Waiting always ends with a record.
            on_record(record)
            records.append(record)
        return records


def run_or_reuse(context: RunContext, job: RunJob, wait: bool) -> RunRecord | None:
    """The run's record: reused, or from doing (or resuming) the run; None if another process holds
    the run and ``wait`` is False. The caller rebuilds the leaderboard."""
    try:
        with job.folder.lock(timeout=-1 if wait else 0):
            job.folder.remove_leftovers()
            record = reuse(context, job.folder)
            if record is None:
                record = contained(context, SingleRun(job, context))
    except Timeout:
        context.announce(f"{job.run_id}: another process is running it; coming back to it later")
        return None
    return record


def reuse(context: RunContext, folder: RunFolder) -> RunRecord | None:
    """A finished or diverged run's record (a diverged run would diverge again); None to run it.

    A damaged record, or one whose checkpoints do not match it, makes the run unfinished: said in one
    line, then resumed or redone."""
    if context.restart:
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
        record = job.failure_record("diverged", str(error))  # The status says "diverged": once.
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
        shown = {k: v for k, v in record.metrics.items() if v is not None and bound_of(k) is None}
        scores = ", ".join(f"{k}={v:.4g}" for k, v in shown.items())  # Values; their intervals are recorded.
        context.announce(f"{run_name}: done in {record.wall_seconds or 0:.0f} s, {scores}")
        return record
    finally:
        gc.collect()  # Free the model's memory (on a GPU, before the next run needs it).
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    job.folder.write_metrics(record)
    record = job.trackers.end_with(record, job.folder.write_metrics)
    context.announce(f"{run_name}: {record.status.upper()}: {failure_reason(record)}")
    return record


def failure_reason(record: RunRecord) -> str:
    """A failed or diverged run's error, without the status an older record repeated in it
    (``diverged: diverged: …``)."""
    return (record.error or "").removeprefix(f"{record.status}: ")
