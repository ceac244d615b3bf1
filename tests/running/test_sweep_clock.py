"""A sweep says where it is (``[3/8]``) and the time left for all of it (issue 19)."""

from __future__ import annotations

from unittest import mock

from genbench.core.progress import SilentProgress
from genbench.running.single_run import RunContext
from genbench.running.sweep_clock import SweepClock, duration


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_each_run_says_its_place_and_the_time_left_for_the_sweep() -> None:
    said: list[str] = []
    bars = mock.Mock(wraps=SilentProgress())
    context = RunContext(mock.Mock(), bars, said.append, mock.Mock())
    clock = Clock()
    sweep = SweepClock(total=3, to_train=2, clock=clock)
    reused = sweep.context(context, 1, "a", trains=False)
    reused.announce("a: already finished, reusing its record")
    sweep.done(trained=False)
    first = sweep.context(context, 2, "b", trains=True)
    first.progress.start("b", 40.0)
    clock.now += 120
    sweep.done(trained=True)
    sweep.context(context, 3, "c", trains=True)
    assert said == [
        "[1/3] a: already finished, reusing its record",
        "[2/3] b: training",  # Nothing to tell the time left from yet.
        "[3/3] c: training; about 2 min left in the sweep",
    ]
    bars.start.assert_called_once_with("[2/3] b", 40.0, "kimg", 0.0)


def test_durations_read_as_estimates() -> None:
    assert [duration(s) for s in (12, 600, 4 * 3600)] == ["12 s", "10 min", "4.0 h"]
