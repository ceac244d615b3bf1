"""Progress display for training runs and evaluation. The training loop only calls a
:class:`ProgressSink`; rich stays out of the training math.

A terminal gets one rich bar at a time (:class:`RichProgress`), laid out to fit the terminal's width
(:func:`fit_line`); a pipe or a log file, where bars come out cut and nothing shows until a run ends,
gets a plain line every tenth of the total or every :data:`PLAIN_EVERY_SECONDS`
(:class:`PlainProgress`). :func:`progress_for` picks one.

A bar counts in its unit: training in kimg (thousands of images shown), estimators in steps, feature
extraction in images; its rate is in the same unit per second.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Column

# Losses shown beside the bar, in this order when present; others are left to train.jsonl.
_SHOWN_LOGS = ("loss_d", "loss_g", "loss", "jsd", "kl", "recon")
PLAIN_EVERY_SECONDS = 60.0  # A plain line at least this often, however slow the run.
PLAIN_STEPS = 10  # And one per tenth of the total.
UNITS = ("kimg", "steps", "images")
# A bar's line stays this much narrower than the terminal: a ^C echoed after it must not wrap it, or
# the next redraw lands a line lower and the last state prints twice.
ECHO_ROOM = 3
MIN_BAR, MAX_BAR = 10, 40
ETA_WIDTH = 8  # rich's time remaining: "0:01:23", "-:--:--", up to "99:59:59".
MIN_LABEL = 12


class ProgressSink(Protocol):
    """What the training loop and evaluation report to: ``start`` a bar of ``total`` in ``unit``
    (one of :data:`UNITS`) with ``done`` already done (a resumed run), ``update`` it, ``stop`` it."""

    def start(self, label: str, total: float, unit: str = "kimg", done: float = 0.0) -> None: ...
    def update(self, done: float, steps: int, logs: dict[str, float] | None = None) -> None: ...
    def stop(self) -> None: ...


class SilentProgress:
    """No display (``--quiet``, tests)."""

    def start(self, label: str, total: float, unit: str = "kimg", done: float = 0.0) -> None:
        pass

    def update(self, done: float, steps: int, logs: dict[str, float] | None = None) -> None:
        pass

    def stop(self) -> None:
        pass


def amount(done: float, total: float, unit: str) -> str:
    """What a bar has done of its total: ``3.20/40 kimg``, ``150/300 steps``."""
    if unit == "kimg":
        return f"{done:.2f}/{total:g} kimg"
    return f"{done:,.0f}/{total:,.0f} {unit}"


def rate(per_second: float, unit: str) -> str:
    """A rate in the bar's unit: ``1.23 kimg/s``, ``85.2 steps/s``, ``2.1k img/s``."""
    name = "img" if unit == "images" else unit
    if per_second >= 1000:
        return f"{per_second / 1000:.3g}k {name}/s"
    return f"{per_second:.3g} {name}/s"


@dataclass(frozen=True)
class Line:
    """One bar's parts as they fit a terminal: the (shortened) label, the bar's width, the amount
    with the rate where it fits, and the losses that fit (whole ones, in order)."""

    label: str
    bar_width: int
    figures: str
    logs: str


def fit_line(width: int, label: str, figures: str, rate_text: str, logs: str) -> Line:
    """Lay a bar out in ``width`` columns: the label, the bar, ``figures`` (done/total) and the time
    left always; then as many losses as fit (whole), then the rate where it fits; what is left widens
    the bar. The label is shortened in its middle where it would squeeze the bar below
    :data:`MIN_BAR`."""
    # Five columns, four one-space gaps (rich's grid), and one more where the last column is empty.
    usable = width - ECHO_ROOM - 5
    fixed = len(figures) + ETA_WIDTH
    label = shorten(label, max(MIN_LABEL, usable - fixed - MIN_BAR))
    free = usable - len(label) - fixed - MIN_BAR
    shown = fitting_logs(logs, free)
    free -= len(shown)
    if rate_text and free >= len(rate_text) + 1:
        figures, free = f"{figures} {rate_text}", free - len(rate_text) - 1
    return Line(label, MIN_BAR + max(0, min(free, MAX_BAR - MIN_BAR)), figures, shown)


def shorten(text: str, width: int) -> str:
    """``text``, or its start and end around ``…`` where it is longer than ``width``."""
    if len(text) <= width:
        return text
    tail = (width - 1) // 2
    return f"{text[: width - 1 - tail]}…{text[len(text) - tail :]}"


def fitting_logs(logs: str, width: int) -> str:
    """The leading whole ``key=value`` items of ``logs`` that fit ``width`` columns."""
    shown = ""
    for item in logs.split():
        candidate = f"{shown} {item}" if shown else item
        if len(candidate) > width:
            break
        shown = candidate
    return shown


class RichProgress:
    """One rich bar at a time: label, bar, done/total, rate, time left and the latest losses, fitted
    to the terminal's width (:func:`fit_line`)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._progress: Progress | None = None
        self._bar = BarColumn(bar_width=MIN_BAR)
        self._task = 0
        self._label, self._unit, self._total = "", "kimg", 0.0
        self._started, self._first_done, self._logs = 0.0, 0.0, ""

    def start(self, label: str, total: float, unit: str = "kimg", done: float = 0.0) -> None:
        self._label, self._unit, self._total, self._logs = label, unit, total, ""
        self._bar = BarColumn(bar_width=MIN_BAR)
        self._progress = progress_bars(self.console, self._bar, transient=False)
        self._task = self._progress.add_task("", total=total, completed=done, figures="", logs="")
        self._started, self._first_done = time.monotonic(), done
        self._show(done)
        self._progress.start()

    def update(self, done: float, steps: int, logs: dict[str, float] | None = None) -> None:
        if logs is not None:
            self._logs = losses(logs)
        self._show(done)

    def _show(self, done: float) -> None:
        assert self._progress is not None
        elapsed = time.monotonic() - self._started
        # This process's own pace: a resumed run's earlier work is not counted as done in no time.
        per_second = (done - self._first_done) / elapsed if elapsed > 0.5 and done > self._first_done else 0
        rate_text = rate(per_second, self._unit) if per_second else ""
        line = fit_line(
            self.console.width, self._label, amount(done, self._total, self._unit), rate_text, self._logs
        )
        self._bar.bar_width = line.bar_width
        self._progress.update(
            self._task, completed=done, description=line.label, figures=line.figures, logs=line.logs
        )

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def progress_bars(console: Console, bar: BarColumn, *, transient: bool) -> Progress:
    """genbench's one rich layout of a bar, here and on a Ray cluster's driver: label, ``bar``,
    figures (done/total and rate), time left, losses. Its tasks take the text fields ``figures`` and
    ``logs``; ``transient``: the bars go when stopped."""
    return Progress(
        TextColumn("{task.description}", style="bold", markup=False),  # "[3/8] …" is not markup.
        bar,
        TextColumn("{task.fields[figures]}", markup=False),
        TimeRemainingColumn(table_column=Column(width=ETA_WIDTH, no_wrap=True)),
        TextColumn("{task.fields[logs]}", markup=False),
        console=console,
        transient=transient,
    )


class PlainProgress:
    """Plain lines for a pipe or a log: ``label: done/total unit (percent), rate, losses``, every
    tenth of the total or every ``every_seconds``, whichever comes first."""

    def __init__(
        self,
        write: Callable[[str], None],
        every_seconds: float = PLAIN_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.write = write
        self.every_seconds = every_seconds
        self.clock = clock
        self._label, self._total, self._unit = "", 0.0, "kimg"
        self._started = self._printed_at = self._first_done = 0.0
        self._next_step = 1  # The next tenth of the total that gets a line.
        self._pending: str | None = None  # The latest state, if no line has said it yet.
        self._logs = ""
        self._printed_done = -1.0

    def start(self, label: str, total: float, unit: str = "kimg", done: float = 0.0) -> None:
        self._label, self._total, self._unit, self._first_done = label, total, unit, done
        self._started = self._printed_at = self.clock()
        self._pending, self._logs, self._printed_done = None, "", -1.0
        self._next_step = math.floor(self._fraction(done) * PLAIN_STEPS + 1e-9) + 1

    def _fraction(self, done: float) -> float:
        return done / self._total if self._total > 0 else 0.0

    def update(self, done: float, steps: int, logs: dict[str, float] | None = None) -> None:
        now = self.clock()
        if logs is not None:
            self._logs = losses(logs)
        fraction = self._fraction(done)
        per_second = (done - self._first_done) / max(now - self._started, 1e-9)
        percent = math.floor(fraction * 100 + 1e-9)
        line = f"{self._label}: {amount(done, self._total, self._unit)} ({percent}%), "
        line += rate(per_second, self._unit)
        said = done == self._printed_done  # A last report of what a line already gave: no repeat.
        self._pending = None if said else line + (f", {self._logs}" if self._logs else "")
        due_step = fraction * PLAIN_STEPS + 1e-9 >= self._next_step
        if self._pending is not None and (due_step or now - self._printed_at >= self.every_seconds):
            self.write(self._pending)
            self._pending, self._printed_at, self._printed_done = None, now, done
            self._next_step = max(self._next_step, math.floor(fraction * PLAIN_STEPS + 1e-9) + 1)

    def stop(self) -> None:
        if self._pending is not None:  # The last state, unless a line already said it.
            self.write(self._pending)
            self._pending = None


def progress_for(console: Console) -> ProgressSink:
    """Rich bars where ``console`` is a terminal, plain lines where it is a pipe or a file."""
    if console.is_terminal:
        return RichProgress(console)
    return PlainProgress(lambda line: console.print(line, highlight=False, soft_wrap=True, markup=False))


def losses(logs: dict[str, float]) -> str:
    """The losses a bar shows, ``key=value`` in :data:`_SHOWN_LOGS` order (3 significant digits)."""
    return " ".join(f"{k}={logs[k]:.3g}" for k in _SHOWN_LOGS if k in logs)


class Prefixed:
    """A sink that puts ``prefix`` before every bar's label (``[3/8]``: where a sweep is)."""

    def __init__(self, sink: ProgressSink, prefix: str) -> None:
        self.sink, self.prefix = sink, prefix

    def start(self, label: str, total: float, unit: str = "kimg", done: float = 0.0) -> None:
        self.sink.start(f"{self.prefix} {label}", total, unit, done)

    def update(self, done: float, steps: int, logs: dict[str, float] | None = None) -> None:
        self.sink.update(done, steps, logs)

    def stop(self) -> None:
        self.sink.stop()
