"""Statistics across seeds: what a metric reads over a model's seeds (:func:`seed_summary`) and whether
one model beats another (:func:`compare_seeds`). Each seed is one training run, so the seeds of a model
are its independent observations; these functions see only their values, never the samples behind
them (a run's own interval over its samples is in its record, ``<column>_lo`` / ``<column>_hi``).

The statistics are scipy's, not written here:

- the interval of a mean over seeds is Student's t (``scipy.stats.t``), exact for normal values and
  the usual choice for the few seeds a benchmark affords;
- a difference of two models' means is tested with Welch's t-test (``scipy.stats.ttest_ind`` with
  ``equal_var=False``), whose 95% interval of the difference comes with it. Not a permutation test:
  with 3 seeds a side there are only 20 ways to split 6 values, so an exact permutation test's
  smallest two-sided p-value is 0.1 and it could never find a difference at 5%;
- the probability of improvement is rliable's (Agarwal et al. 2021): over every pair of one seed of A
  and one seed of B, the fraction where A's value is better, ties counting one half: the Mann–Whitney
  U statistic over the number of pairs (``scipy.stats.mannwhitneyu``).

No interval and no test is made from fewer than two seeds a side: one seed says nothing about how much
another seed would differ, and the verdict then says ``need more seeds``.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE  # The significance level of a verdict.
A_BETTER = "A better"
B_BETTER = "B better"
NO_DIFFERENCE = "no significant difference at 5%"
NEED_MORE_SEEDS = "need more seeds"
# Two models scored in the features of different reference classifiers: two rulers, no comparison.
OTHER_CLASSIFIERS = "not comparable: scored with different reference classifiers"
VERDICTS = (A_BETTER, B_BETTER, NO_DIFFERENCE, NEED_MORE_SEEDS, OTHER_CLASSIFIERS)
ONE_SEED = "one seed: no interval"
WELCH = "Welch's t-test, two-sided"


@dataclass(frozen=True)
class SeedSummary:
    """A metric over a model's seeds: the mean with its 95% interval, the median and every value."""

    n: int  # Seeds with a value.
    mean: float
    lo: float | None  # 95% interval; None when n < 2 (no interval across seeds is possible).
    hi: float | None
    median: float
    values: tuple[float, ...]
    method: str  # e.g. "Student t, 95%, over 3 seeds" or "one seed: no interval".

    @property
    def half_width(self) -> float | None:
        """Half the interval's width (the ``±`` of ``mean ± half-width``); None without an interval."""
        return None if self.lo is None or self.hi is None else (self.hi - self.lo) / 2


def finite_values(values: Sequence[float | None]) -> tuple[float, ...]:
    """The finite values of ``values`` as floats: a seed without a value (None, NaN, inf) is no
    observation."""
    found = []
    for value in values:
        if value is not None and math.isfinite(float(value)):
            found.append(float(value))
    return tuple(found)


def seed_summary(values: Sequence[float]) -> SeedSummary:
    """The mean of ``values`` (one per seed; non-finite ones left out) with its 95% Student t interval,
    the median and the values themselves; no interval from fewer than two seeds."""
    kept = finite_values(values)
    n = len(kept)
    if n == 0:
        return SeedSummary(0, math.nan, None, None, math.nan, (), "no seed with a value")
    mean, median = float(np.mean(kept)), float(np.median(kept))
    if n == 1:
        return SeedSummary(1, mean, None, None, median, kept, ONE_SEED)
    sem = float(stats.sem(kept))
    if sem == 0:  # Every seed read the same: scipy's interval needs a positive scale.
        lo = hi = mean
    else:
        lo, hi = (float(bound) for bound in stats.t.interval(CONFIDENCE, n - 1, loc=mean, scale=sem))
    return SeedSummary(n, mean, lo, hi, median, kept, f"Student t, 95%, over {n} seeds")


def format_seed_summary(summary: SeedSummary) -> str:
    """``mean ± half-width (n seeds)``, or ``mean (one seed: no interval)``; empty without seeds."""
    if summary.n == 0:
        return ""
    if summary.half_width is None:
        return f"{summary.mean:.4g} ({ONE_SEED})"
    # Two significant digits, without the exponent .2g gives 130 (1.3e+02).
    half_width = float(f"{summary.half_width:.2g}")
    return f"{summary.mean:.4g} ± {half_width:g} ({summary.n} seeds)"


@dataclass(frozen=True)
class Comparison:
    """Model A against model B on one metric, over their seeds."""

    difference: float  # mean(A) − mean(B); NaN where a side has no seed.
    lo: float | None  # Welch's 95% interval of the difference; None with fewer than 2 seeds a side.
    hi: float | None
    p_value: float | None  # Of ``test``; None with fewer than 2 seeds a side.
    test: str  # Which test gave ``p_value``.
    probability_of_improvement: float | None  # P(A better than B) over seed pairs; None without seeds.
    n_a: int
    n_b: int
    higher_is_better: bool
    verdict: str  # One of VERDICTS.


def compare_seeds(a: Sequence[float], b: Sequence[float], higher_is_better: bool) -> Comparison:
    """Whether A's seeds (``a``, one value each) beat B's on a metric where ``higher_is_better`` says
    which way is better: the difference of means with Welch's 95% interval and p-value, rliable's
    probability of improvement, and a verdict (:data:`VERDICTS`) at the 5% level."""
    a, b = finite_values(a), finite_values(b)
    difference = float(np.mean(a) - np.mean(b)) if a and b else math.nan
    improvement = probability_of_improvement(a, b, higher_is_better) if a and b else None
    untested = Comparison(
        difference, None, None, None, WELCH, improvement, len(a), len(b), higher_is_better, NEED_MORE_SEEDS
    )
    if len(a) < 2 or len(b) < 2:
        return untested
    with warnings.catch_warnings():  # Identical seeds: scipy warns of cancellation, then says NaN.
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.ttest_ind(a, b, equal_var=False)
        lo, hi = (float(bound) for bound in result.confidence_interval(CONFIDENCE))
    # NaN: every seed of both models read exactly the same value, so there is no difference to find.
    p_value = 1.0 if math.isnan(result.pvalue) else float(result.pvalue)
    if p_value >= ALPHA:
        verdict = NO_DIFFERENCE
    else:
        verdict = A_BETTER if (difference > 0) == higher_is_better else B_BETTER
    return dataclasses.replace(untested, lo=lo, hi=hi, p_value=p_value, verdict=verdict)


def unranked(comparison: Comparison, verdict: str) -> Comparison:
    """``comparison`` with no test and no better side, only ``verdict`` saying why (the means and
    seeds are kept to read)."""
    return dataclasses.replace(
        comparison, lo=None, hi=None, p_value=None, probability_of_improvement=None, verdict=verdict
    )


def probability_of_improvement(a: Sequence[float], b: Sequence[float], higher_is_better: bool) -> float:
    """P(A better than B) as rliable defines it: over every pair of a value of ``a`` and one of ``b``,
    the fraction where A's is better, a tie counting one half (Mann–Whitney's U over the pairs)."""
    better, worse = (a, b) if higher_is_better else (b, a)  # U counts pairs where its first is larger.
    return float(stats.mannwhitneyu(better, worse).statistic) / (len(a) * len(b))
