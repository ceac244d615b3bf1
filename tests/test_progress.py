"""Progress: rich bars in a terminal; plain lines every so often in a pipe or a log file."""

from __future__ import annotations

import io

from rich.console import Console
from rich.progress import Progress

from genbench.core.progress import PlainProgress, RichProgress, progress_for


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_log_gets_a_plain_line_every_tenth_of_the_budget() -> None:
    lines: list[str] = []
    clock = Clock()
    progress = PlainProgress(lines.append, every_seconds=1e9, clock=clock)
    progress.start("digits/dcgan seed 0", 4.0)
    for step in range(1, 101):
        clock.now += 0.5
        progress.update(4.0 * step / 100, step, {"loss_d": 1.25, "loss_g": 0.5, "other": 3.0})
    progress.update(4.0, 100)  # The loop's last report repeats the last kimg: no second line.
    progress.stop()
    assert len(lines) == 10, lines  # 10%, 20%, ..., 100%; stop adds nothing after the last.
    assert lines[0] == "digits/dcgan seed 0: 0.40/4 kimg (10%), 2.0 it/s, loss_d=1.25 loss_g=0.5"
    assert lines[-1].startswith("digits/dcgan seed 0: 4.00/4 kimg (100%)")


def test_a_slow_run_also_gets_a_line_every_so_many_seconds() -> None:
    lines: list[str] = []
    clock = Clock()
    progress = PlainProgress(lines.append, every_seconds=30, clock=clock)
    progress.start("run", 100.0)
    for step in range(1, 5):
        clock.now += 31
        progress.update(0.1 * step, step)
    progress.stop()
    assert len(lines) == 4 and lines[-1].startswith("run: 0.40/100 kimg (0%)")  # By time; stop adds none.


def test_a_terminal_gets_rich_bars_and_a_pipe_plain_lines() -> None:
    terminal = Console(file=io.StringIO(), force_terminal=True)
    pipe = Console(file=io.StringIO(), force_terminal=False)
    assert isinstance(progress_for(terminal), RichProgress)
    plain = progress_for(pipe)
    assert isinstance(plain, PlainProgress)
    plain.start("run", 1.0)
    plain.update(1.0, 10)
    plain.stop()
    assert pipe.file.getvalue().startswith("run: 1.00/1 kimg (100%)")  # type: ignore[attr-defined]


def test_local_bars_and_the_ray_drivers_lines_have_one_layout() -> None:
    from genbench.running.ray_task import RunLines

    console = Console(file=io.StringIO(), force_terminal=True, width=150)
    local = RichProgress(console)
    local.start("dcgan digits seed0", 1.0)
    local.update(0.5, 10, {"loss_d": 0.25})
    cluster = RunLines(console)
    cluster.show({"run": {"label": "dcgan digits seed0 @node", "kimg": 0.5, "total": 1.0, "rate": 3.0}})

    def layout(progress: Progress) -> list[tuple[type, object]]:
        return [(type(column), getattr(column, "text_format", None)) for column in progress.columns]

    assert local._progress is not None and layout(local._progress) == layout(cluster.progress)
    local.stop()
    cluster.stop()
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "0.50/1 kimg" in shown and "loss_d=0.25" in shown  # The cluster's lines are transient.
