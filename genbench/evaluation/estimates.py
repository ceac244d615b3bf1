"""The metric table's estimates (``computation=estimate(...)`` in genbench.core.metrics): each a fresh
estimator (genbench.evaluation.divergence) trained on one pair of halves of the real and generated
images, shared by every estimate of a request, and scored on the held-out halves."""

from __future__ import annotations

from genbench.core.metrics import METRICS, Metric
from genbench.evaluation.bootstrap import difference_interval
from genbench.evaluation.computation import Computed, Request, resolve
from genbench.evaluation.divergence import HeldOut, make_halves

# What an estimate's interval resamples, as its protocol says.
INTERVAL_METHOD = (
    "normal bootstrap interval: the estimate ± 1.96 standard errors over resamples of the held-out "
    "halves' per-image terms, real and generated independently, the trained estimator held fixed"
)


def estimates(metrics: list[Metric], request: Request) -> dict[str, Computed]:
    """The estimates of ``metrics``, each from the estimator its computation argument names."""
    setup, settings = request.setup, request.setup.divergence
    halves = make_halves(setup.reference, request.samples, settings, setup.device)
    protocol = {
        "estimator": settings.protocol(),
        "images_per_half": len(halves.real_train),
        "units": _units(),
    }
    computed = {}
    for metric in metrics:
        estimator = resolve(metric.computation.argument)
        setup.progress.start(f"{request.label}{metric.name}", halves.kimg(settings))
        try:
            held_out: HeldOut = estimator(halves, settings, setup.progress)
        finally:
            setup.progress.stop()
        if not request.wants_intervals:
            computed[metric.name] = Computed((held_out.value,), protocol)
            continue
        interval = difference_interval(
            held_out.offset, held_out.real, held_out.generated, setup.intervals, low=0.0, high=held_out.high
        )
        with_interval = {**protocol, "interval": setup.intervals.protocol(INTERVAL_METHOD)}
        computed[metric.name] = Computed((held_out.value,), with_interval, (interval,))
    return computed


def _units() -> dict[str, str]:
    """Every estimate's columns and their units, as each estimate's protocol has always listed them
    (whichever estimates were asked for)."""
    function = f"{__name__}:{estimates.__name__}"
    return {c.label: c.unit for m in METRICS if m.computation.function == function for c in m.columns}
