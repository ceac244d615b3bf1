"""The metric table's estimates (``computation=estimate(...)`` in genbench.core.metrics): each a fresh
estimator (genbench.evaluation.divergence) trained on one pair of halves of the real and generated
images, shared by every estimate of a request, and scored on the held-out halves.

An estimate is floored at 0 (:data:`FLOOR`): below it, a held-out value only measures the estimator's
noise (real vs real reads around 0, either side). The raw value is recorded in the estimate's
protocol (``raw_value``), so a 0 can be told from a clamped negative one.

On the CPU, where the caller lets torch use two threads or more, the estimators train side by side,
one Python thread each, each on one torch thread (genbench.evaluation.deterministic): every op runs
alone on the thread that called it, so each estimator computes exactly the bits it computes alone
(tested), and the evaluation's wall-clock time is about that of the slower one (issue 22). One torch
thread (``OMP_NUM_THREADS=1``, a Ray task given one CPU) keeps them one after the other. On CUDA they
stay one after the other: both would queue on the same stream."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import torch

from genbench.core.metrics import METRICS, Metric
from genbench.core.progress import ProgressSink
from genbench.core.run_spec import DivergenceSettings
from genbench.evaluation import deterministic
from genbench.evaluation.bootstrap import difference_interval
from genbench.evaluation.computation import Computed, Request, resolve
from genbench.evaluation.divergence import Halves, HeldOut, make_halves
from genbench.evaluation.setup import EvaluationSetup

# What an estimate's interval resamples, as its protocol says.
INTERVAL_METHOD = (
    "normal bootstrap interval: the estimate ± 1.96 standard errors over resamples of the held-out "
    "halves' per-image terms, real and generated independently, the trained estimator held fixed"
)

FLOOR = 0.0  # Estimates below it are noise; reported as it, recorded raw.
Estimator = Callable[[Halves, DivergenceSettings, ProgressSink], HeldOut]


def estimates(metrics: list[Metric], request: Request) -> dict[str, Computed]:
    """The estimates of ``metrics``, each from the estimator its computation argument names."""
    setup, settings = request.setup, request.setup.divergence
    halves = make_halves(setup.reference, request.samples, settings, setup.device)
    protocol = {
        "estimator": settings.protocol(),
        "images_per_half": len(halves.real_train),
        "units": _units(),
        # How the estimator was trained: the same images give the same bits in any process.
        "deterministic": {**deterministic.protocol(setup.device), "input_layout": "contiguous (NCHW)"},
    }
    estimators = {metric.name: resolve(metric.computation.argument) for metric in metrics}
    if side_by_side(setup.device, len(estimators)):
        trained = _side_by_side(estimators, halves, setup, request.label)
    else:
        trained = {name: _alone(name, e, halves, setup, request.label) for name, e in estimators.items()}
    computed = {}
    for metric in metrics:
        held_out = trained[metric.name]
        floored = {**protocol, "raw_value": held_out.value, "reported": f"max({FLOOR:g}, raw_value)"}
        value = max(FLOOR, held_out.value)
        if not request.wants_intervals:
            computed[metric.name] = Computed((value,), floored)
            continue
        interval = difference_interval(
            held_out.offset, held_out.real, held_out.generated, setup.intervals, low=FLOOR, high=held_out.high
        )
        with_interval = {**floored, "interval": setup.intervals.protocol(INTERVAL_METHOD)}
        computed[metric.name] = Computed((value,), with_interval, (interval,))
    return computed


def side_by_side(device: torch.device, estimators: int) -> bool:
    """Whether ``estimators`` train side by side on ``device`` (the module's docstring says when)."""
    return device.type == "cpu" and estimators > 1 and torch.get_num_threads() > 1


def _alone(name: str, estimator: Estimator, halves: Halves, setup: EvaluationSetup, label: str) -> HeldOut:
    setup.progress.start(f"{label}{name}", setup.divergence.steps, unit="steps")
    try:
        return estimator(halves, setup.divergence, setup.progress)
    finally:
        setup.progress.stop()


def _side_by_side(
    estimators: dict[str, Estimator], halves: Halves, setup: EvaluationSetup, label: str
) -> dict[str, HeldOut]:
    """Every estimator trained at once, a thread each, under one bar counting all their steps. The
    deterministic context is entered here, before the threads start, so that no thread's own entering
    and leaving it changes the thread count under another."""
    bar = _SharedBar(setup.progress, len(estimators))
    setup.progress.start(
        f"{label}{' + '.join(estimators)}", setup.divergence.steps * len(estimators), "steps"
    )
    try:
        with deterministic.deterministic(), ThreadPoolExecutor(len(estimators)) as pool:
            futures = {
                name: pool.submit(estimator, halves, setup.divergence, bar.part(i))
                for i, (name, estimator) in enumerate(estimators.items())
            }
            return {name: future.result() for name, future in futures.items()}
    finally:
        setup.progress.stop()


class _SharedBar:
    """One progress bar fed by several estimators, each through its :meth:`part`: the bar shows the
    steps all of them have done."""

    def __init__(self, progress: ProgressSink, parts: int) -> None:
        self.progress, self.done, self.lock = progress, [0.0] * parts, threading.Lock()

    def part(self, index: int) -> _Part:
        """The sink estimator ``index`` reports its own steps to."""
        return _Part(self, index)

    def report(self, index: int, done: float, logs: dict[str, float] | None) -> None:
        """Estimator ``index`` has done ``done`` steps: show all of theirs."""
        with self.lock:
            self.done[index] = done
            total = sum(self.done)
            self.progress.update(total, int(total), logs)


@dataclass(frozen=True)
class _Part:
    """One estimator's view of a :class:`_SharedBar`, started and stopped once for all of them."""

    bar: _SharedBar
    index: int

    def start(self, label: str, total: float, unit: str = "kimg", done: float = 0.0) -> None:
        pass

    def update(self, done: float, steps: int, logs: dict[str, float] | None = None) -> None:
        self.bar.report(self.index, done, logs)

    def stop(self) -> None:
        pass


def _units() -> dict[str, str]:
    """Every estimate's columns and their units, as each estimate's protocol has always listed them
    (whichever estimates were asked for)."""
    function = f"{__name__}:{estimates.__name__}"
    return {c.label: c.unit for m in METRICS if m.computation.function == function for c in m.columns}
