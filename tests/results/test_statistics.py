"""Statistics across seeds: known answers on fixed values, and every verdict."""

from __future__ import annotations

import math

import pytest

from genbench.results.statistics import (
    A_BETTER,
    B_BETTER,
    NEED_MORE_SEEDS,
    NO_DIFFERENCE,
    compare_seeds,
    format_seed_summary,
    probability_of_improvement,
    seed_summary,
)


def test_the_mean_of_three_seeds_has_a_student_t_interval() -> None:
    summary = seed_summary([3.0, 1.0, 2.0])
    # mean 2, standard error 1/sqrt(3), t(0.975, 2 degrees of freedom) = 4.302653.
    assert summary.n == 3 and summary.mean == 2.0 and summary.median == 2.0
    assert summary.lo == pytest.approx(2 - 4.302653 / math.sqrt(3), abs=1e-6)
    assert summary.hi == pytest.approx(2 + 4.302653 / math.sqrt(3), abs=1e-6)
    assert summary.half_width == pytest.approx(2.484138, abs=1e-6)
    assert summary.values == (3.0, 1.0, 2.0)
    assert summary.method == "Student t, 95%, over 3 seeds"
    assert format_seed_summary(summary) == "2 ± 2.5 (3 seeds)"


def test_one_seed_has_no_interval_rather_than_one_of_zero_width() -> None:
    summary = seed_summary([7.5])
    assert (summary.n, summary.mean, summary.median, summary.values) == (1, 7.5, 7.5, (7.5,))
    assert summary.lo is None and summary.hi is None and summary.half_width is None
    assert summary.method == "one seed: no interval"
    assert format_seed_summary(summary) == "7.5 (one seed: no interval)"


def test_seeds_without_a_value_are_not_observations() -> None:
    summary = seed_summary([1.0, math.nan, 3.0, math.inf])
    assert summary.n == 2 and summary.values == (1.0, 3.0) and summary.mean == 2.0
    empty = seed_summary([math.nan])
    assert empty.n == 0 and empty.lo is None and math.isnan(empty.mean)
    assert format_seed_summary(empty) == ""


def test_identical_seeds_have_an_interval_of_zero_width() -> None:
    summary = seed_summary([4.0, 4.0, 4.0])
    assert summary.lo == summary.hi == 4.0


def test_welch_difference_interval_and_p_value_are_known_answers() -> None:
    # Means 2 and 5, both variances 1: t = -3/sqrt(2/3) = -3.674, 4 degrees of freedom.
    lower_better = compare_seeds([1.0, 2.0, 3.0], [4.0, 5.0, 6.0], higher_is_better=False)
    assert lower_better.difference == -3.0
    assert lower_better.p_value == pytest.approx(0.021312, abs=1e-6)
    assert lower_better.lo == pytest.approx(-3 - 2.776445 * math.sqrt(2 / 3), abs=1e-5)
    assert lower_better.hi == pytest.approx(-3 + 2.776445 * math.sqrt(2 / 3), abs=1e-5)
    assert lower_better.test == "Welch's t-test, two-sided"
    assert (lower_better.n_a, lower_better.n_b) == (3, 3)
    assert lower_better.verdict == A_BETTER and lower_better.probability_of_improvement == 1.0
    higher_better = compare_seeds([1.0, 2.0, 3.0], [4.0, 5.0, 6.0], higher_is_better=True)
    assert higher_better.verdict == B_BETTER and higher_better.probability_of_improvement == 0.0


def test_overlapping_seeds_are_no_significant_difference() -> None:
    result = compare_seeds([1.0, 2.0, 3.0], [1.5, 2.5, 3.5], higher_is_better=False)
    assert result.verdict == NO_DIFFERENCE and result.p_value is not None and result.p_value > 0.05
    assert result.lo is not None and result.hi is not None and result.lo < 0 < result.hi
    identical = compare_seeds([2.0, 2.0], [2.0, 2.0], higher_is_better=False)
    assert identical.verdict == NO_DIFFERENCE and identical.p_value == 1.0


def test_fewer_than_two_seeds_a_side_needs_more_seeds() -> None:
    result = compare_seeds([1.0], [4.0, 5.0, 6.0], higher_is_better=False)
    assert result.verdict == NEED_MORE_SEEDS
    assert result.lo is None and result.p_value is None and result.difference == -4.0
    assert result.probability_of_improvement == 1.0  # One seed still makes pairs.
    nothing = compare_seeds([], [1.0, 2.0], higher_is_better=True)
    assert nothing.verdict == NEED_MORE_SEEDS and nothing.probability_of_improvement is None
    assert math.isnan(nothing.difference)


def test_probability_of_improvement_counts_ties_as_half() -> None:
    # Of the 9 pairs (a, b), a is larger in (2, 1), (3, 1), (3, 2), smaller in (1, 2), (1, 4), (2, 4),
    # (3, 4), and (1, 1), (2, 2) are ties.
    assert probability_of_improvement([2.0, 3.0, 1.0], [1.0, 2.0, 4.0], True) == pytest.approx(4 / 9)
    assert probability_of_improvement([2.0, 3.0, 1.0], [1.0, 2.0, 4.0], False) == pytest.approx(5 / 9)
