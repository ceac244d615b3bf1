"""Metrics that test themselves: checks that any metric, built in or a plugin's, reads what it claims to
read, on real images and their degradations (genbench.testing.degradations).

A metric comes as a :class:`MetricUnderTest`: a function scoring labelled uint8 images (against a
reference it holds) at an evaluation batch size, and its columns' directions. The checks:

- ``floor``: real held-out images, the same distribution as the reference, score at least as well as
  every degraded version of them;
- ``noise`` and ``blur``: the score worsens as the images are progressively noised or blurred;
- ``mode_drop``: it worsens as classes are dropped (fewer modes, every image still real), except a
  fidelity column (precision), which must not;
- ``batch_size``: the value does not depend on the evaluation batch size (256 against 7);
- ``swap``: where a metric is asymmetric (a fidelity column beside a coverage column: precision and
  recall), dropping modes lowers coverage and leaves fidelity be; swapped real and generated inputs
  do the reverse (torch-fidelity issue #58);
- ``seed``: the same images scored twice give identical values.

A check that a metric fails is information, not necessarily a bug: C_T is no quality score and rightly
"fails" noise. genbench's README lists which checks each metric of its table passes; its CI runs them
on digits (tests/evaluation/test_metric_sanity.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from genbench.api import Split
from genbench.testing.degradations import DEGRADATIONS, NOISE_LEVELS, noisy
from genbench.testing.failures import listed, require

CHECKS = ("floor", "noise", "blur", "mode_drop", "batch_size", "swap", "seed")
BATCH_SIZES = (256, 7)  # The default, and one that divides no sample count used here.
TOLERANCE = 0.05  # Of a column's range over the degradations: a step back this small is noise.
MOVE = 0.05  # Of the value on real images: a move this small is no response (accuracy as modes drop).
SAME = 1e-4  # Of a column's range: values this close are the same whatever the batch size.

Score = Callable[[Split, int], Mapping[str, float | None]]
"""``score(samples, batch_size)``: the metric's values by column for labelled uint8 samples."""


@dataclass(frozen=True)
class MetricUnderTest:
    """A metric (or several at once, sharing their work) as the checks see it: its score function, the
    columns checked with whether higher is better (None: a diagnostic with no better side, which the
    checks of a direction do not apply to), and its (fidelity, coverage) column pairs."""

    name: str
    score: Score
    higher_is_better: Mapping[str, bool | None]
    asymmetric: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class CheckResult:
    """One check of one column: passed (None: the check does not apply) and what was seen."""

    passed: bool | None
    detail: str


def run_metric_checks(metric: MetricUnderTest, real: Split) -> dict[str, dict[str, CheckResult]]:
    """Every check of :data:`CHECKS` on every column of ``metric``, with ``real`` (labelled held-out
    real images, not the metric's reference) as the samples: column -> check -> result."""
    default, other = BATCH_SIZES
    base = metric.score(real, default)
    series = {
        name: [base] + [metric.score(degrade(real, level), default) for level in levels]
        for name, (degrade, levels) in DEGRADATIONS.items()
    }
    middle = noisy(real, NOISE_LEVELS[1])  # A degraded set: pristine images may hide differences.
    first = series["noise"][2]  # Its score above: the series is the real images', then one per level.
    again, batched = metric.score(middle, default), metric.score(middle, other)
    swaps = {column: pair for pair in metric.asymmetric for column in pair}
    fidelity = {pair[0] for pair in metric.asymmetric}
    results = {}
    for column, higher in metric.higher_is_better.items():
        goodness = {
            name: _oriented([v[column] for v in values], bool(higher)) for name, values in series.items()
        }
        span = _span([g for values in goodness.values() for g in values])
        directed = {"floor": _floor(goodness, span), **{n: _worsens(v, span) for n, v in goodness.items()}}
        results[column] = {
            **(directed if higher is not None else dict.fromkeys(directed, _NO_BETTER_SIDE)),
            **({"mode_drop": _FIDELITY} if column in fidelity else {}),
            "batch_size": _same(first[column], batched[column], span, f"batch {default} vs {other}"),
            "seed": _same(first[column], again[column], 0.0, "twice"),
            "swap": _swap(metric, series["mode_drop"], swaps[column]) if column in swaps else _NOT_ASYMMETRIC,
        }
    return results


def check_metric(metric: MetricUnderTest, real: Split, checks: Iterable[str] = CHECKS) -> None:
    """Run :func:`run_metric_checks` and raise :class:`~genbench.testing.ContractError` naming every
    column and check of ``checks`` that failed (checks that do not apply to a column are skipped)."""
    checks = tuple(checks)
    unknown = sorted(set(checks) - set(CHECKS))
    require(not unknown, "metric checks", f"unknown {listed(unknown)}", f"choose from {', '.join(CHECKS)}")
    results = run_metric_checks(metric, real)
    failed = [
        f"{column} {check} ({result.detail})"
        for column, by_check in results.items()
        for check in checks
        if (result := by_check[check]).passed is False
    ]
    require(not failed, f"metric '{metric.name}'", f"failed {listed(failed)}", "fix it, or expect less of it")


_NOT_ASYMMETRIC = CheckResult(None, "no fidelity/coverage pair")
_NO_BETTER_SIDE = CheckResult(None, "a diagnostic: no better side to move towards")
_FIDELITY = CheckResult(None, "a fidelity column: dropped modes must leave it be (the swap check)")


def _oriented(values: list[float | None], higher_is_better: bool) -> list[float | None]:
    """Values as goodness: higher is better."""
    return [None if v is None else (v if higher_is_better else -v) for v in values]


def _span(values: list[float | None]) -> float:
    present = [v for v in values if v is not None]
    return max(present) - min(present) if present else 0.0


def _floor(goodness: dict[str, list[float | None]], span: float) -> CheckResult:
    real = goodness["noise"][0]
    worse = [v for values in goodness.values() for v in values[1:]]
    if real is None or None in worse:
        return CheckResult(False, "empty")
    best = max(v for v in worse if v is not None)
    return CheckResult(
        real >= best - TOLERANCE * span, f"real {real:.4g}, best degraded {best:.4g} (as goodness)"
    )


def _worsens(values: list[float | None], span: float) -> CheckResult:
    """Worse at the last level than on real images by a margin (MOVE of the real images' value, or of
    TOLERANCE of the range where that is near 0), never better by more than TOLERANCE on the way."""
    present = [v for v in values if v is not None]
    if len(present) < len(values):
        return CheckResult(False, "empty")
    margin = MOVE * max(abs(present[0]), TOLERANCE * span)
    steps_ok = all(b <= a + TOLERANCE * span for a, b in pairwise(present))
    shown = ", ".join(f"{v:.4g}" for v in present)
    return CheckResult(present[-1] < present[0] - margin and steps_ok, f"goodness {shown}")


def _same(first: float | None, second: float | None, span: float, what: str) -> CheckResult:
    if first is None or second is None:
        return CheckResult(False, "empty")
    return CheckResult(abs(first - second) <= SAME * span, f"{first:.6g} and {second:.6g}, {what}")


def _swap(
    metric: MetricUnderTest, dropped: list[Mapping[str, float | None]], pair: tuple[str, str]
) -> CheckResult:
    """Dropping modes lowers the coverage column more than twice as much as the fidelity column."""
    losses = []
    for column in pair:
        higher = bool(metric.higher_is_better[column])  # A swap pair has a better side (not a diagnostic).
        before, after = _oriented([dropped[0][column], dropped[-1][column]], higher)
        if before is None or after is None:
            return CheckResult(False, "empty")
        losses.append(before - after)
    fidelity_loss, coverage_loss = losses
    detail = f"modes dropped: {pair[1]} lost {coverage_loss:.3g}, {pair[0]} lost {fidelity_loss:.3g}"
    return CheckResult(coverage_loss > 0 and coverage_loss > 2 * max(fidelity_loss, 0.0), detail)
