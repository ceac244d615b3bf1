"""The ``ray`` executor: each run of a sweep is one Ray task, on a GPU (or CPUs) the cluster assigns.

The driver prepares every dataset first (genbench.running.sweep); tasks get the splits through Ray's
object store and read the reference classifier and real statistics from the cache, and write their
run folders, on a filesystem every node sees. A task contains its model's failures (a failed record,
not retried); a worker process or node that dies makes Ray retry the task, which resumes the run from
its last checkpoint. The driver shows one progress line per running run and rebuilds the leaderboard
as records come in. Ctrl-C cancels the tasks: each checkpoints and stops, as a local run does.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

from genbench.core.progress import RichProgress, SilentProgress
from genbench.core.record import RunRecord
from genbench.errors import Interrupted, UserError, one_line
from genbench.options.config import RunOptions
from genbench.running.device import resolve_device
from genbench.running.jobs import LoadedData, OnRecord, RunContext, RunJob
from genbench.running.packing import cut_packs
from genbench.running.ray_output import ClusterWatch, log_path, ray_output_aside
from genbench.running.ray_task import Reporter, RunLines, TaskSettings, run_task
from genbench.running.single_run import SingleRun

INSTALL_HINT = "pip install 'genbench[ray]'"
POLL_SECONDS = 0.5  # How often the driver refreshes progress lines while it waits for runs.
CANCEL_GRACE_SECONDS = 60  # How long Ctrl-C waits for cancelled runs to save their checkpoints.


class RayExecutor:
    """Submits one Ray task per run and gathers their records."""

    def __init__(self, options: RunOptions) -> None:
        try:
            import ray
        except ImportError as error:
            raise UserError(f"--executor ray needs Ray, which is not installed: {INSTALL_HINT}") from error
        self.ray, self.options = ray, options

    def local_device(self) -> torch.device:
        """The driver prepares on its own GPU if it has one (the cluster's may be elsewhere)."""
        return resolve_device("cpu" if self.options.device == "cpu" else "auto")

    @contextmanager
    def connected(self) -> Iterator[None]:
        """Connect to ``--ray-address`` (or ``$RAY_ADDRESS``, or a Ray started here) for the block, with
        Ray's own output in its log folder and the cluster watched (genbench.running.ray_output).

        A Ray session the caller already started (a notebook, a test) is used as it is and left open."""
        ray = self.ray
        address = self.options.ray_address or os.environ.get("RAY_ADDRESS") or None
        if address is not None:
            _check_address(address, "--ray-address" if self.options.ray_address else "$RAY_ADDRESS")
        log = log_path()
        with ray_output_aside(ray, log):
            started = not ray.is_initialized()
            if started:
                self._init(address)
            try:
                with ClusterWatch(ray.get_runtime_context().gcs_address, log):
                    yield
            finally:
                if started:  # After the watch: shutting down a Ray started here stops its head.
                    ray.shutdown()

    def _init(self, address: str | None) -> None:
        """``ray.init``, quiet (its logger is set aside by the caller), or one line when it fails."""
        try:
            self.ray.init(
                address=address,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
                logging_level=logging.WARNING,
            )
        except (ConnectionError, ValueError, RuntimeError) as error:
            raise UserError(
                f"could not connect to the Ray cluster at {address}: {one_line(error)}"
            ) from error

    def run_device(self) -> torch.device:
        """CUDA when the cluster has GPUs (or ``--device cuda``), else CPU."""
        gpus = self.ray.cluster_resources().get("GPU", 0)
        if self.options.device == "cuda" and not gpus:
            raise UserError(
                "--device cuda was asked for but the Ray cluster has no GPU; use --device auto or cpu"
            )
        device = torch.device("cuda" if gpus and self.options.device != "cpu" else "cpu")
        _check_resources(self.options, device, self.ray.nodes())
        return device

    def run(self, context: RunContext, jobs: list[RunJob], on_record: OnRecord) -> list[RunRecord]:
        """Submit every job, then gather records as runs finish (one progress line per running run)."""
        ray, options = self.ray, self.options
        device = self.run_device()  # Asks the cluster: once.
        cuda = device.type == "cuda"
        task = ray.remote(run_task).options(
            num_gpus=(options.gpus_per_run or 1) if cuda else 0,
            num_cpus=options.cpus_per_run or 1,
            max_retries=options.max_retries,
            retry_exceptions=False,  # A model's own failure is a record, not an exception: never retried.
        )
        reporter = ray.remote(num_cpus=0)(Reporter).remote()
        shared: dict[str, Any] = {}  # Dataset -> its prepared data in the object store, put once.
        settings = TaskSettings(options.out, options.restart, max(1, int(options.cpus_per_run or 1)))
        pending = {}
        # The driver cannot see the workers' free memory: auto on CUDA packs every seed of a model.
        for pack in cut_packs(options.pack, jobs, device, context.announce):
            data = pack[0].data
            if data.entry.name not in shared:
                shared[data.entry.name] = ray.put(_portable(data))
            specs = [job.spec for job in pack]
            fields = (pack[0].model_entry, pack[0].hparams, specs, settings, reporter, context.trackers)
            ref = task.remote(shared[data.entry.name], *fields)
            pending[ref] = pack
        lines = RunLines(context.progress.console) if isinstance(context.progress, RichProgress) else None
        records = []
        try:
            with context.stop.deferred():  # A signal sets a flag; raised inside Ray's C code it is lost.
                while pending:
                    if context.stop.requested():
                        raise Interrupted(f"stopped by {signal.Signals(context.stop.signal).name}")
                    done = self._wait(list(pending), 1, POLL_SECONDS)
                    self._show(reporter, context, lines)
                    for ref in done:
                        pack = pending.pop(ref)
                        reporter.done.remote(pack[0].run_id)  # Its line goes, even if its worker died.
                        for record in self._records(ref, pack, context):
                            on_record(record)
                            records.append(record)
        except BaseException:  # Ctrl-C (Interrupted) or a failure of the sweep itself: stop the rest.
            self._cancel(list(pending))
            raise
        finally:
            if lines is not None:
                lines.stop()
        self._show(reporter, context, None)
        ray.kill(reporter)  # Gone with this driver anyway; in a caller's longer Ray session, now.
        return records

    def _wait(self, refs: list[Any], count: int, timeout: float) -> list[Any]:
        """``ray.wait``; a second Ctrl-C inside it comes out as :class:`Interrupted`, not SystemError."""
        try:
            return self.ray.wait(refs, num_returns=count, timeout=timeout)[0]
        except SystemError as error:
            if isinstance(error.__cause__, Interrupted):
                raise error.__cause__ from None
            raise

    def _show(self, reporter: Any, context: RunContext, lines: RunLines | None) -> None:
        """Print what the runs announced; refresh the progress lines."""
        running, messages = self.ray.get(reporter.take.remote())
        for message in messages:
            context.announce(message)
        if lines is not None:
            lines.show(running)

    def _records(self, ref: Any, pack: list[RunJob], context: RunContext) -> list[RunRecord]:
        """A finished task's records, one per run of its pack; a task that could not run gets failed
        records written here."""
        exceptions = self.ray.exceptions
        try:
            outcomes = self.ray.get(ref)
        except exceptions.RayTaskError as error:  # Not a model's failure (those are records): the sweep's.
            if isinstance(error.cause, UserError):  # A full disk, say.
                raise error.cause from None
            raise
        except exceptions.RayError as error:  # Its worker died more than --max-retries times.
            why = (
                f"its Ray worker died {self.options.max_retries + 1} times "
                f"({type(error).__name__}); run the command again to resume it from its checkpoint"
            )
            outcomes = [("lost", why)] * len(pack)
        records = []
        for job, (outcome, value) in zip(pack, outcomes, strict=True):
            if outcome != "record":
                value = SingleRun(job, context).failure_record("failed", value)
                job.folder.write_metrics(value)
                context.announce(f"{job.run_id}: FAILED: {value.error}")
            records.append(value)
        return records

    def _cancel(self, refs: list[Any]) -> None:
        """Cancel runs: a running one gets a KeyboardInterrupt (SIGINT), saves its checkpoint and stops."""
        for ref in refs:
            self.ray.cancel(ref)
        if refs:
            self._wait(refs, len(refs), CANCEL_GRACE_SECONDS)


def _portable(data: LoadedData) -> LoadedData:
    """The prepared data as tasks get it: no driver-side progress display, on the CPU until a task
    moves what it needs to its own device."""
    setup = dataclasses.replace(data.setup, progress=SilentProgress(), device=torch.device("cpu"))
    return dataclasses.replace(data, setup=setup)


def _check_resources(options: RunOptions, device: torch.device, nodes: list[dict[str, Any]]) -> None:
    """What a run asks for must fit on one node of the cluster: Ray would otherwise wait for it forever
    (an infeasible task). GPUs asked for where runs train on CPUs would change nothing: refused too."""
    alive = [node.get("Resources", {}) for node in nodes if node.get("Alive", True)]
    if options.gpus_per_run is not None:
        if device.type != "cuda":
            raise UserError(
                f"--gpus-per-run {options.gpus_per_run:g}: runs train on CPUs here (the Ray cluster has no "
                "GPU, or --device cpu); leave it out, or use --cpus-per-run"
            )
        most = max((resources.get("GPU", 0) for resources in alive), default=0)
        if options.gpus_per_run > most:
            raise UserError(
                f"--gpus-per-run {options.gpus_per_run:g}: no node of the Ray cluster has that many GPUs "
                f"(the most on one node is {most:g})"
            )
    most_cpus = max((resources.get("CPU", 0) for resources in alive), default=0)
    if options.cpus_per_run is not None and options.cpus_per_run > most_cpus:
        raise UserError(
            f"--cpus-per-run {options.cpus_per_run:g}: no node of the Ray cluster has that many CPUs "
            f"(the most on one node is {most_cpus:g})"
        )


def _check_address(address: str, label: str) -> None:
    """A HOST:PORT that nothing answers on fails at once, in one line (Ray itself would keep trying)."""
    if address in ("auto", "local") or "://" in address:
        return
    host, colon, port = address.rpartition(":")
    if not colon or not host or not port.isdigit():
        raise UserError(f"{label} must be HOST:PORT of a Ray head node (e.g. 10.0.0.1:6379), got {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as error:
        raise UserError(
            f"no Ray cluster answers at {label} {address} ({error.strerror or one_line(error)}); start one "
            "with `ray start --head`, or leave --ray-address out to start one on this machine"
        ) from error
