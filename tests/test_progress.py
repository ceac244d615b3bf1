"""Progress: rich bars in a terminal, fitted to its width; plain lines every so often in a pipe or a
log file."""

from __future__ import annotations

import io
import re

from rich.console import Console
from rich.progress import Progress

from genbench.core.progress import PlainProgress, RichProgress, fit_line, progress_for


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
    assert lines[0] == "digits/dcgan seed 0: 0.40/4 kimg (10%), 0.08 kimg/s, loss_d=1.25 loss_g=0.5"
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


def test_a_plain_bar_counts_in_its_unit_and_a_resumed_one_starts_where_it_was() -> None:
    lines: list[str] = []
    clock = Clock()
    progress = PlainProgress(lines.append, every_seconds=1e9, clock=clock)
    progress.start("digits-vae/w1_critic", 300, unit="steps")
    clock.now += 2
    progress.update(150, 150)
    progress.stop()
    assert lines == ["digits-vae/w1_critic: 150/300 steps (50%), 75 steps/s"]
    lines.clear()
    progress.start("run", 4.0, done=2.0)  # Resumed at 2 kimg: no line for the tenths already done.
    clock.now += 10
    progress.update(2.4, 60)
    assert lines == ["run: 2.40/4 kimg (60%), 0.04 kimg/s"]  # This process's pace, not 2.4 kimg in 10 s.


def _screen(console: Console) -> list[str]:
    """What a terminal shows of a console's output: escape codes gone, one entry per drawn line."""
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", console.file.getvalue())  # type: ignore[attr-defined]
    return [line for line in text.replace("\r", "\n").splitlines() if line.strip()]


LOSSES = {"loss": 123.4567, "kl": 12.345, "recon": 111.11, "elbo": -3.0}


def test_a_bar_at_80_columns_keeps_bar_kimg_and_time_left_and_drops_losses_first() -> None:
    # Issue 19: at 80 columns the bar fell apart once losses appeared ("3.20/40 k… 124.8 i…"), and the
    # VAE's many losses squeezed its bar to nothing.
    console = Console(file=io.StringIO(), width=80, force_terminal=True, color_system=None)
    progress = RichProgress(console)
    progress.start("digits-vae-seed0-e79c9601d3", 40.0)
    progress.update(3.2, 100, LOSSES)
    progress.stop()
    last = _screen(console)[-1]
    assert len(last) <= 77, last  # Room for a ^C echo: it must not wrap the line (drawn twice).
    assert "3.20/40 kimg" in last and re.search(r" (\d+:\d\d:\d\d|-:--:--) ", last), last
    assert "━" in last or "╸" in last  # The bar is there.
    assert "it/s" not in last and "…" not in last


def test_the_layout_fits_whole_losses_then_the_rate_then_widens_the_bar() -> None:
    wide = fit_line(120, "vae seed 0", "3.20/40 kimg", "1.2 kimg/s", "loss=123 kl=12.3 recon=111")
    assert wide.figures == "3.20/40 kimg 1.2 kimg/s" and wide.logs == "loss=123 kl=12.3 recon=111"
    label, losses = "[3/8] digits/vae seed 0", "loss=123 kl=12.3 recon=111"
    narrow = fit_line(80, label, "3.20/40 kimg", "1.2 kimg/s", losses)
    assert narrow.figures == "3.20/40 kimg" and narrow.logs == "loss=123 kl=12.3"
    assert narrow.bar_width >= 10
    tiny = fit_line(60, "a-very-long-run-label-that-cannot-fit/jsd_clf", "150/300 steps", "90 steps/s", "")
    assert tiny.label.startswith("a-very") and tiny.label.endswith("jsd_clf") and "…" in tiny.label
    assert tiny.bar_width >= 10 and tiny.logs == ""
    for line in (wide, narrow, tiny):
        assert "kimg" in line.figures or "steps" in line.figures


def test_a_resumed_bar_starts_where_the_run_was() -> None:
    # Issue 19: after "resuming at 4 kimg" the bar read 0.00/4 kimg.
    console = Console(file=io.StringIO(), width=80, force_terminal=True, color_system=None)
    progress = RichProgress(console)
    progress.start("vae seed 0", 4.0, done=4.0)
    progress.stop()
    assert all("4.00/4 kimg" in line for line in _screen(console))


def test_local_bars_and_the_ray_drivers_lines_have_one_layout() -> None:
    from genbench.running.ray_task import RunLines

    console = Console(file=io.StringIO(), force_terminal=True, width=150)
    local = RichProgress(console)
    local.start("dcgan digits seed0", 1.0)
    local.update(0.5, 10, {"loss_d": 0.25})
    cluster = RunLines(console)
    cluster.show({"run": {"label": "dcgan digits seed0 @node", "done": 0.5, "total": 1.0, "rate": 3.0}})

    def layout(progress: Progress) -> list[tuple[type, object]]:
        return [(type(column), getattr(column, "text_format", None)) for column in progress.columns]

    assert local._progress is not None and layout(local._progress) == layout(cluster.progress)
    local.stop()
    cluster.stop()
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "0.50/1 kimg" in shown and "loss_d=0.25" in shown  # The cluster's lines are transient.
