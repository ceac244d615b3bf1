"""Statistics over seeds: what a metric's values over a model's seeds say about the model.

A minimal version (the mean with its 95% Student-t interval) of the seed statistics the report and
``genbench compare`` share; the fuller version with the same :func:`seed_summary` replaces it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

CONFIDENCE = 0.95


@dataclass(frozen=True)
class SeedSummary:
    """A metric over seeds: how many finite values, their mean with its interval (``lo``, ``hi``; None
    with fewer than two values, where no interval is possible), median, the values, and the method
    that gave the interval."""

    n: int
    mean: float
    lo: float | None
    hi: float | None
    median: float
    values: tuple[float, ...]
    method: str


def seed_summary(values: Sequence[float]) -> SeedSummary:
    """The finite ``values`` (one per seed) summarised: their mean with its 95% Student-t interval
    (t with n - 1 degrees of freedom times the standard error: seeds are few, so the normal's 1.96
    would be too narrow). Non-finite values (a metric that could not be computed) are left out; with
    none left, mean and median are NaN."""
    finite = tuple(float(v) for v in values if math.isfinite(v))
    n = len(finite)
    if n == 0:
        return SeedSummary(0, math.nan, None, None, math.nan, finite, "no values")
    mean, median = statistics.fmean(finite), statistics.median(finite)
    if n < 2:
        return SeedSummary(n, mean, None, None, median, finite, "one seed: no interval")
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * statistics.stdev(finite) / math.sqrt(n)
    method = f"{CONFIDENCE:.0%} Student-t interval of the mean"
    return SeedSummary(n, mean, mean - half, mean + half, median, finite, method)
