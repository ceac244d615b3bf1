"""What runs inside a Ray worker (one run, or one pack of a model's seeds), and how its progress
reaches the driver.

A task does the same with its job as the local executor (genbench.running.executor.run_or_reuse), on
the device Ray gave it. It reports progress and messages to a :class:`Reporter` actor that the driver
polls, and shows them as :class:`RunLines`, one line per running run.
"""

from __future__ import annotations

import dataclasses
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.progress import BarColumn, TaskID

from genbench.api import Hyperparameters
from genbench.core.progress import MIN_BAR, amount, progress_bars, rate
from genbench.core.registry import PluginEntry
from genbench.core.run_spec import RunSpec
from genbench.evaluation.deterministic import configure_cublas
from genbench.results.records import RunFolder
from genbench.running.executor import contained_stages, run_or_reuse
from genbench.running.interrupts import StopRequests
from genbench.running.jobs import LoadedData, RunContext, RunJob
from genbench.running.packing import run_pack
from genbench.tracking import Tracker

REPORT_SECONDS = 0.5  # A task sends at most this often; the driver polls as often.


@dataclass(frozen=True)
class TaskSettings:
    """What a task takes from the sweep's options besides its run's spec."""

    out: Path  # The --out folder the driver wrote (and the task writes the run into).
    restart: bool  # --restart
    threads: int  # Torch threads of a CPU run: the CPUs it asked Ray for.


def run_task(
    data: LoadedData,
    model_entry: PluginEntry,
    hparams: Hyperparameters,
    specs: list[RunSpec],
    settings: TaskSettings,
    reporter: Any,
    trackers: tuple[Tracker, ...] = (),
) -> list[tuple[str, Any]]:
    """One run, or one pack of a model's seeds (genbench.running.packing), in a Ray worker: for each
    spec ``("record", record)``, or ``("unreachable", why)`` when this node cannot see the folders the
    driver wrote (the preparation is never redone here). ``trackers`` are copies of the driver's, with
    its settings (an MLflow tracking URI); they write from this worker."""
    import ray  # Only inside a Ray worker.

    configure_cublas()  # A worker is a process of its own, started without the driver's environment.
    node = platform.node()
    for path, what in ((settings.out, "--out folder"), (data.classifier.path, "cache (GENBENCH_CACHE_DIR)")):
        if not path.exists():
            why = (
                f"node {node} cannot see {path}, the {what} the driver wrote: put the --out folder and "
                "GENBENCH_CACHE_DIR on a filesystem every node shares"
            )
            return [("unreachable", why) for _ in specs]
    # Ray sets CUDA_VISIBLE_DEVICES to the GPU(s) it gave this task: cuda:0 is this run's GPU.
    device = torch.device("cuda" if ray.get_gpu_ids() else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(settings.threads)
    data = dataclasses.replace(data, setup=dataclasses.replace(data.setup, device=device))
    seeds = ",".join(str(spec.seed) for spec in specs)
    label = f"{model_entry.name} {data.entry.name} seed{'s ' if len(specs) > 1 else ''}{seeds} @{node}"
    progress = ReporterProgress(reporter, specs[0].run_id, label)
    context = RunContext(device, progress, reporter.say.remote, StopRequests(), settings.restart, trackers)
    jobs = [RunJob(spec, data, model_entry, hparams, RunFolder(settings.out, spec.run_id)) for spec in specs]
    with context.stop.installed():  # ray.cancel's KeyboardInterrupt arrives as SIGINT: checkpoint, stop.
        records = run_pack(context, jobs, contained_stages) if len(jobs) > 1 else {}
        for job in jobs:  # Alone, or held by another process when the pack began: waited for.
            if records.get(job.run_id) is None:
                records[job.run_id] = run_or_reuse(context, job, wait=True)
    ray.get(reporter.ping.remote())  # Calls of one caller run in order: every message is delivered.
    return [("record", records[job.run_id]) for job in jobs]


class Reporter:
    """A Ray actor holding each running run's latest progress and the messages not yet shown."""

    def __init__(self) -> None:
        self.running: dict[str, dict[str, Any]] = {}
        self.messages: list[str] = []

    def update(self, run_id: str, line: dict[str, Any]) -> None:
        """The run's latest progress."""
        self.running[run_id] = line

    def done(self, run_id: str) -> None:
        """The run stopped training."""
        self.running.pop(run_id, None)

    def say(self, message: str) -> None:
        """A message for the driver to print."""
        self.messages.append(message)

    def ping(self) -> None:
        """Nothing: a task waits for it so its earlier messages are in before its record."""

    def take(self) -> tuple[dict[str, dict[str, Any]], list[str]]:
        """The running runs' progress, and the messages since the last call."""
        messages, self.messages = self.messages, []
        return dict(self.running), messages


class ReporterProgress:
    """A task's :class:`~genbench.core.progress.ProgressSink`: sends what is done and its rate (in the
    bar's unit) to the reporter, at most every :data:`REPORT_SECONDS`."""

    def __init__(self, reporter: Any, run_id: str, label: str) -> None:
        self.reporter, self.run_id, self.label = reporter, run_id, label
        self._started = self._sent = self._first_done = 0.0
        self._total, self._unit = 0.0, "kimg"

    def start(self, label: str, total: float, unit: str = "kimg", done: float = 0.0) -> None:
        self._started, self._sent, self._first_done = time.monotonic(), 0.0, done
        self._total, self._unit = total, unit

    def update(self, done: float, steps: int, logs: dict[str, float] | None = None) -> None:
        now = time.monotonic()
        if now - self._sent < REPORT_SECONDS:
            return
        self._sent = now
        per_second = (done - self._first_done) / max(now - self._started, 1e-9)  # This process's pace.
        line = {"label": self.label, "done": done, "total": self._total, "unit": self._unit}
        self.reporter.update.remote(self.run_id, {**line, "rate": per_second})

    def stop(self) -> None:
        self.reporter.done.remote(self.run_id)


class RunLines:
    """The driver's display: one line per running run (model, dataset, seed, node, done/total, rate,
    time left), in the layout of genbench.core.progress.progress_bars; transient."""

    def __init__(self, console: Console) -> None:
        self.progress = progress_bars(console, BarColumn(bar_width=MIN_BAR), transient=True)
        self.tasks: dict[str, TaskID] = {}
        self.progress.start()

    def show(self, running: dict[str, dict[str, Any]]) -> None:
        """Show these runs' latest progress; drop the lines of runs that stopped."""
        for run_id in set(self.tasks) - set(running):
            self.progress.remove_task(self.tasks.pop(run_id))
        for run_id, line in running.items():
            if run_id not in self.tasks:  # Tasks send no losses: the layout's last column stays empty.
                task = self.progress.add_task(line["label"], total=line["total"], figures="", logs="")
                self.tasks[run_id] = task
            unit = line.get("unit", "kimg")
            figures = f"{amount(line['done'], line['total'], unit)} {rate(line['rate'], unit)}"
            self.progress.update(self.tasks[run_id], completed=line["done"], figures=figures)

    def stop(self) -> None:
        """Clear the lines."""
        self.progress.stop()
