"""Progress display for training runs. The training loop only calls a :class:`ProgressSink`; rich
stays out of the training math."""

from __future__ import annotations

import time
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

# Losses shown beside the bar, in this order when present; others are left to train.jsonl.
_SHOWN_LOGS = ("loss_d", "loss_g", "loss", "jsd", "kl", "recon")


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
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:.2f}/{task.total:g} kimg"),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[logs]}"),
            console=self.console,
            transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task(label, total=total_kimg, rate="", logs="")
        self._started = time.monotonic()

    def update(self, kimg: float, steps: int, logs: dict[str, float] | None = None) -> None:
        assert self._progress is not None
        elapsed = max(time.monotonic() - self._started, 1e-9)
        fields: dict[str, str] = {"rate": f"{steps / elapsed:.1f} it/s"}
        if logs is not None:
            fields["logs"] = " ".join(f"{k}={logs[k]:.3g}" for k in _SHOWN_LOGS if k in logs)
        self._progress.update(self._task, completed=kimg, **fields)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
