"""The metric table checks itself on digits (genbench.testing's metric checks): every metric that runs
offline is scored on held-out real digits and their degradations, and the checks it passes are exactly
those its row of the README's self-check table marks ✓ (✗: fails, –: does not apply, ?: not run here,
no Inception weights). A metric that stops responding to quality, or starts to, fails this test."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from caches import session_cache
from setups import CPU, make_setup

from genbench import Split
from genbench.core.metrics import METRICS, Metric, stem_of
from genbench.evaluation.classifier import cached_classifier
from genbench.evaluation.evaluate import evaluate
from genbench.evaluation.generalisation import held_out_halves
from genbench.evaluation.setup import EvaluationSetup
from genbench.options.config import DivergenceSettings
from genbench.testing import METRIC_CHECKS, CheckResult, MetricUnderTest, check_metric, run_metric_checks

README = Path(__file__).resolve().parents[2] / "README.md"
OFFLINE = tuple(m for m in METRICS if m.extractor != "inception")
CONSTANT = {"acc_clf_real"}  # The classifier's accuracy on the real test split: not the samples'.
ASYMMETRIC = (("precision_clf", "recall_clf"),)  # (fidelity, coverage): torch-fidelity issue #58.
MARKS = {True: "✓", False: "✗", None: "–"}

pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.


def _checked(metric: Metric) -> list[str]:
    """The columns checked: not spreads, not constants."""
    return [c.label for c in metric.columns if not c.spread and c.label not in CONSTANT]


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> tuple[MetricUnderTest, Split, EvaluationSetup]:
    """Every offline metric of the table as one metric under test, on the test split's halves: one half
    the reference, the other the "real" samples, so both are real images no network trained on."""
    from genbench_builtin.datasets import Digits

    train, test = (Digits(Path("unused")).load(split) for split in ("train", "test"))
    classifier = cached_classifier(
        "digits", Digits.shape, train, test, session_cache(tmp_path_factory) / "classifiers", CPU
    )
    real_half, reference_half = (Split(test.images[i], test.labels[i]) for i in held_out_halves(len(test)))
    names = tuple(m.name for m in OFFLINE)
    setup = make_setup(
        "digits",
        reference_half,
        classifier,
        tmp_path_factory.mktemp("fidelity"),
        names,
        divergence=DivergenceSettings(steps=40),
        splits=(train, test),
    )

    def score(samples: Split, batch_size: int) -> dict[str, float | None]:
        sized = dataclasses.replace(setup, batch_size=batch_size)
        values = evaluate(samples.images, sized, samples.labels).metrics  # As a conditional model.
        return {stem_of(name): value for name, value in values.items()}

    directions = {
        label: c.higher_is_better if c.ranked else None
        for m in OFFLINE
        for c in m.columns
        if (label := c.label) in _checked(m)
    }
    return MetricUnderTest("the metric table", score, directions, ASYMMETRIC), real_half, setup


@pytest.fixture(scope="module")
def results(table: tuple[MetricUnderTest, Split, EvaluationSetup]) -> dict[str, dict[str, CheckResult]]:
    metric, real, _ = table
    return run_metric_checks(metric, real)


def _marks(metric: Metric, results: dict[str, dict[str, CheckResult]]) -> list[str]:
    """The metric's mark per check: ✓ where every checked column passes, – where none applies."""
    marks = []
    for check in METRIC_CHECKS:
        passed = [results[column][check].passed for column in _checked(metric)]
        applies = [p for p in passed if p is not None]
        marks.append(MARKS[None] if not applies else MARKS[all(applies)])
    return marks


def _readme_marks() -> dict[str, list[str]]:
    section = README.read_text().split("\n### Metrics that test themselves\n")[1].split("\n#")[0]
    rows = re.findall(r"^\| (\w+) \| (.+) \|$", section, flags=re.MULTILINE)
    return {name: [cell.strip() for cell in cells.split("|")] for name, cells in rows if name != "metric"}


def test_each_metric_passes_exactly_the_checks_its_readme_row_marks(results) -> None:
    readme = _readme_marks()
    assert list(readme) == [m.name for m in METRICS]
    found = {m.name: _marks(m, results) for m in OFFLINE}
    details = {c: {k: r.detail for k, r in by.items()} for c, by in results.items()}
    assert {name: readme[name] for name in found} == found, details
    for metric in METRICS:
        if metric.extractor == "inception":
            assert readme[metric.name] == ["?"] * len(METRIC_CHECKS)


def test_fd_in_every_offline_space_passes_every_quality_check(results) -> None:
    for column in ("fd_clf", "fd_pca", "fd_rand", "kid_clf"):
        for check in ("floor", "noise", "blur", "batch_size", "seed"):
            assert results[column][check].passed, (column, check, results[column][check].detail)


def test_check_metric_raises_naming_the_failed_checks(table) -> None:
    _, real, setup = table
    only_prc = dataclasses.replace(setup, metrics=("prc_clf",))

    def swapped(samples: Split, batch_size: int) -> dict[str, float | None]:
        values = {stem_of(name): v for name, v in evaluate(samples.images, only_prc).metrics.items()}
        return {"precision_clf": values["recall_clf"], "recall_clf": values["precision_clf"]}

    inverted = MetricUnderTest("swapped", swapped, {"precision_clf": True, "recall_clf": True}, ASYMMETRIC)
    with pytest.raises(AssertionError, match=r"metric 'swapped': failed .*swap"):
        check_metric(inverted, real, checks=("swap",))
    with pytest.raises(AssertionError, match="unknown sharpness"):
        check_metric(inverted, real, checks=("sharpness",))
