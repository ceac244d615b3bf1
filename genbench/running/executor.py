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
from collections.abc import Generator, Iterator
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
from genbench.running.packing import cut_packs, pack_label, run_pack
from genbench.running.plan import planned
from genbench.running.single_run import SingleRun
from genbench.running.stages import Stage, drive
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
    """Today's loop: the runs one after another in this process, on its device; the seeds of a model
    in packs (``--pack``, genbench.running.packing), each pack's runs stepped in turn."""

    def __init__(self, options: RunOptions) -> None:
        self.device = resolve_device(options.device)
        self.pack = options.pack

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
        """Each pack in turn (most of one run); runs another process holds are done last, alone, after
        waiting for it (it has usually finished them by then)."""
        restart = context.restart
        trains = {job.run_id: planned(job.folder, restart).action != "reuse" for job in jobs}
        clock = SweepClock(len(jobs), sum(trains.values()))
        position = {job.run_id: index for index, job in enumerate(jobs, 1)}
        records, waiting = [], []
        device = context.device
        free = torch.cuda.mem_get_info(device)[0] if device.type == "cuda" else None
        for pack in cut_packs(self.pack, jobs, device, context.announce, free):
            first, last = position[pack[0].run_id], position[pack[-1].run_id]
            training = [trains[job.run_id] for job in pack]
            if len(pack) == 1:
                run_context = clock.context(context, first, pack[0].run_id, training[0])
                got = {pack[0].run_id: run_or_reuse(run_context, pack[0], wait=False)}
            else:
                run_context = clock.pack_context(context, first, last, pack_label(pack), any(training))
                got = run_pack(run_context, pack, contained_stages)
            trained = sum(t and got[job.run_id] is not None for job, t in zip(pack, training, strict=True))
            clock.done(trained=trained > 0, runs=max(trained, 1))
            for job in pack:
                record = got[job.run_id]
                if record is None:
                    waiting.append((position[job.run_id], job))
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
    return drive(contained_stages(context, job))


def contained_stages(context: RunContext, job: SingleRun) -> Generator[Stage, None, RunRecord]:
    """:func:`contained`, pausing where the run does (genbench.running.stages): a pack of seeds
    contains each of its runs' failures as a run alone does."""
    run_name = job.folder.run_id
    try:
        record = yield from job.stages()
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
