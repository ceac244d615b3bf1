"""A metric's 95% interval over a run's samples, from the bootstrap (``scipy.stats.bootstrap``): the
images behind a value (generated, reference, or the per-image terms a value averages) are drawn again
with replacement, each side independently, ``IntervalSettings.resamples`` times with a seeded generator,
and the metric recomputed on every resample.

Every interval is the *normal bootstrap interval* (Efron & Tibshirani 1993, section 13.2): the value ±
1.96 times the standard deviation of the resampled values (their standard error), clipped to the
metric's range. Not the percentile interval: FD reads high at a finite sample count (by about
tr(Σ)/n per side), and a resample, which repeats some images and leaves others out, reads higher still,
so percentiles of the resamples sit above the value and may leave it out altogether. Centred on the
value, the interval says how far another draw of as many images would move it, which is what telling
two runs apart needs; the standard error needs a few hundred resamples where percentiles need
thousands.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import torch
from scipy import stats

from genbench.core.run_spec import IntervalSettings
from genbench.evaluation.computation import Interval

# Resampled indices held at once (int64): resamples are handed to a statistic in batches this large.
MAX_RESAMPLED_INDICES = 2**22
# A vectorised statistic: one array per sample, each (batch, n), reduced along ``axis`` -> (batch,).
Statistic = Callable[..., np.ndarray]


def standard_error(samples: Sequence[np.ndarray], statistic: Statistic, settings: IntervalSettings) -> float:
    """The standard deviation of ``statistic`` over ``settings.resamples`` bootstrap resamples of
    ``samples`` (each resampled independently, with a generator seeded by ``settings.seed``)."""
    largest = max(len(sample) for sample in samples)
    with warnings.catch_warnings():  # Degenerate data (every term equal) only warns about its percentiles.
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        result = stats.bootstrap(
            tuple(samples),
            statistic,
            n_resamples=settings.resamples,
            batch=max(1, MAX_RESAMPLED_INDICES // (largest * len(samples))),
            vectorized=True,
            paired=False,
            method="percentile",  # Only its standard error is used (see the module's docstring).
            rng=np.random.default_rng(settings.seed),
        )
    return float(result.standard_error)


def normal_interval(
    value: float,
    error: float,
    settings: IntervalSettings,
    low: float = -math.inf,
    high: float = math.inf,
) -> Interval:
    """``value`` ± z ``error`` (z = 1.96 for 95%), each end clipped to the metric's range [low, high]."""
    half = float(stats.norm.ppf(0.5 + settings.confidence / 2)) * error
    return float(np.clip(value - half, low, high)), float(np.clip(value + half, low, high))


def indices(n: int) -> np.ndarray:
    """The positions 0..n-1 of a side's images: resampled, they pick the images of a resample."""
    return np.arange(n)


def mean_interval(
    terms: torch.Tensor, settings: IntervalSettings, low: float = -math.inf, high: float = math.inf
) -> Interval:
    """The interval of a fraction or mean of per-image ``terms`` (accuracy, precision, recall)."""
    values = terms.detach().double().cpu().numpy()
    error = standard_error((values,), _mean, settings)
    return normal_interval(float(values.mean()), error, settings, low, high)


def difference_interval(
    offset: float,
    first: torch.Tensor,
    second: torch.Tensor,
    settings: IntervalSettings,
    low: float = -math.inf,
    high: float = math.inf,
) -> Interval:
    """The interval of ``offset + mean(first) − mean(second)`` of two independent sets of per-image
    terms (an estimator's held-out scores of real and of generated images)."""
    a, b = (terms.detach().double().cpu().numpy() for terms in (first, second))

    def statistic(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
        return offset + x.mean(axis=axis) - y.mean(axis=axis)

    error = standard_error((a, b), statistic, settings)
    return normal_interval(offset + float(a.mean() - b.mean()), error, settings, low, high)


def _mean(values: np.ndarray, axis: int) -> np.ndarray:
    return values.mean(axis=axis)
