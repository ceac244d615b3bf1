"""Progress display for training runs. The training loop only calls a :class:`ProgressSink`; rich
stays out of the training math.

A terminal gets rich bars (:class:`RichProgress`); a pipe or a log file, where bars come out cut and
nothing shows until a run ends, gets a plain line every tenth of the budget or every
:data:`PLAIN_EVERY_SECONDS` (:class:`PlainProgress`). :func:`progress_for` picks one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

# Losses shown beside the bar, in this order when present; others are left to train.jsonl.
_SHOWN_LOGS = ("loss_d", "loss_g", "loss", "jsd", "kl", "recon")
PLAIN_EVERY_SECONDS = 60.0  # A plain line at least this often, however slow the run.
PLAIN_STEPS = 10  # And one per tenth of the budget.


class ProgressSink(Protocol):
    """What the training loop reports to."""

    def start(self, label: str, total_kimg: float) -> None: ...
    def update(self, kimg: float, steps: int, logs: dict[str, float] | None = None) -> None: ...
    def stop(self) -> None: ...


class SilentProgress:
    """No display (``--quiet``, tests)."""

    def start(self, label: str, total_kimg: float) -> None:
        pass

    def update(self, kimg: float, steps: int, logs: dict[str, float] | None = None) -> None:
        pass

    def stop(self) -> None:
        pass


class RichProgress:
    """One rich progress bar per run: kimg done/total, it/s, ETA and the latest losses."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._progress: Progress | None = None
        self._task = 0
        self._started = 0.0

    def start(self, label: str, total_kimg: float) -> None:
        self._progress = progress_bars(self.console, transient=False)
        self._progress.start()
        self._task = self._progress.add_task(label, total=total_kimg, rate="", logs="")
        self._started = time.monotonic()

    def update(self, kimg: float, steps: int, logs: dict[str, float] | None = None) -> None:
        assert self._progress is not None
        elapsed = max(time.monotonic() - self._started, 1e-9)
        fields: dict[str, str] = {"rate": f"{steps / elapsed:.1f} it/s"}
        if logs is not None:
            fields["logs"] = _losses(logs)
        self._progress.update(self._task, completed=kimg, **fields)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


class PlainProgress:
    """Plain lines for a pipe or a log: ``label: kimg/total kimg (percent), it/s, losses``, every tenth
    of the budget or every ``every_seconds``, whichever comes first."""

    def __init__(
        self,
        write: Callable[[str], None],
        every_seconds: float = PLAIN_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.write = write
        self.every_seconds = every_seconds
        self.clock = clock
        self._label, self._total = "", 0.0
        self._started = self._printed_at = 0.0
        self._next_step = 1  # The next tenth of the budget that gets a line.
        self._pending: str | None = None  # The latest state, if no line has said it yet.
        self._logs = ""
        self._printed_kimg = -1.0

    def start(self, label: str, total_kimg: float) -> None:
        self._label, self._total = label, total_kimg
        self._started = self._printed_at = self.clock()
        self._next_step, self._pending, self._logs, self._printed_kimg = 1, None, "", -1.0

    def update(self, kimg: float, steps: int, logs: dict[str, float] | None = None) -> None:
        now = self.clock()
        if logs is not None:
            self._logs = _losses(logs)
        fraction = kimg / self._total if self._total > 0 else 0.0
        rate = steps / max(now - self._started, 1e-9)
        percent = math.floor(fraction * 100 + 1e-9)
        line = f"{self._label}: {kimg:.2f}/{self._total:g} kimg ({percent}%), {rate:.1f} it/s"
        said = kimg == self._printed_kimg  # A last report of the kimg a line already gave: no repeat.
        self._pending = None if said else line + (f", {self._logs}" if self._logs else "")
        due_step = fraction * PLAIN_STEPS + 1e-9 >= self._next_step
        if self._pending is not None and (due_step or now - self._printed_at >= self.every_seconds):
            self.write(self._pending)
            self._pending, self._printed_at, self._printed_kimg = None, now, kimg
            self._next_step = max(self._next_step, math.floor(fraction * PLAIN_STEPS + 1e-9) + 1)

    def stop(self) -> None:
        if self._pending is not None:  # The last state, unless a line already said it.
            self.write(self._pending)
            self._pending = None


def progress_bars(console: Console, *, transient: bool) -> Progress:
    """genbench's one rich layout of runs in progress, here and on a Ray cluster's driver: a bar per
    run with its label, kimg done of the budget, it/s, time left and the latest losses. Its tasks take
    the fields ``rate`` and ``logs`` (text). ``transient``: the bars go when stopped."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.2f}/{task.total:g} kimg"),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[logs]}"),
        console=console,
        transient=transient,
    )


def progress_for(console: Console) -> ProgressSink:
    """Rich bars where ``console`` is a terminal, plain lines where it is a pipe or a file."""
    if console.is_terminal:
        return RichProgress(console)
    return PlainProgress(lambda line: console.print(line, highlight=False, soft_wrap=True, markup=False))


def _losses(logs: dict[str, float]) -> str:
    return " ".join(f"{k}={logs[k]:.3g}" for k in _SHOWN_LOGS if k in logs)
