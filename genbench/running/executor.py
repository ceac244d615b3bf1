"""Executors: who does a sweep's runs once the driver has prepared every dataset.

``local`` does them here, one after another (the default); ``ray`` submits each as a Ray task
(genbench.running.ray_executor). Both do the same job (genbench.running.jobs.run_or_reuse), so run
folders, names and records do not depend on the executor, and a rerun reuses or resumes what either
left behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import torch

from genbench.core.record import RunRecord
from genbench.options.config import RunOptions
from genbench.running.device import resolve_device
from genbench.running.jobs import OnRecord, RunJob, run_or_reuse
from genbench.running.plan import planned
from genbench.running.single_run import RunContext
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
        restart = context.options.restart
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


def make_executor(options: RunOptions) -> Executor:
    """The executor ``options.executor`` names; ``ray`` without Ray installed is a one-line error."""
    if options.executor == "ray":
        from genbench.running.ray_executor import RayExecutor  # Only here: Ray is an optional extra.

        return RayExecutor(options)
    return LocalExecutor(options)
