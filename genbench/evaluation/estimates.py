"""The metric table's estimates (``computation=estimate(...)`` in genbench.core.metrics): each a fresh
estimator (genbench.evaluation.divergence) trained on one pair of halves of the real and generated
images, shared by every estimate of a request, and scored on the held-out halves.

An estimate is floored at 0 (:data:`FLOOR`): below it, a held-out value only measures the estimator's
noise (real vs real reads around 0, either side). The raw value is recorded in the estimate's
protocol (``raw_value``), so a 0 can be told from a clamped negative one."""

from __future__ import annotations

from genbench.core.metrics import METRICS, Metric
from genbench.evaluation import deterministic
from genbench.evaluation.bootstrap import difference_interval
from genbench.evaluation.computation import Computed, Request, resolve
from genbench.evaluation.divergence import HeldOut, make_halves

# What an estimate's interval resamples, as its protocol says.
INTERVAL_METHOD = (
    "normal bootstrap interval: the estimate ± 1.96 standard errors over resamples of the held-out "
    "halves' per-image terms, real and generated independently, the trained estimator held fixed"
)

FLOOR = 0.0  # Estimates below it are noise; reported as it, recorded raw.


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
    computed = {}
    for metric in metrics:
        estimator = resolve(metric.computation.argument)
        setup.progress.start(f"{request.label}{metric.name}", settings.steps, unit="steps")
        try:
            held_out: HeldOut = estimator(halves, settings, setup.progress)
        finally:
            setup.progress.stop()
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


def _units() -> dict[str, str]:
    """Every estimate's columns and their units, as each estimate's protocol has always listed them
    (whichever estimates were asked for)."""
    function = f"{__name__}:{estimates.__name__}"
    return {c.label: c.unit for m in METRICS if m.computation.function == function for c in m.columns}
