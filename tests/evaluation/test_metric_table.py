"""The metric table is the one declaration of every metric: evaluation has a computation for each and
fills exactly its columns, and the README's metric table says what it says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from genbench.core.metrics import (
    METRICS,
    Column,
    Metric,
    column_order,
    column_spec,
    higher_is_better,
    uses_extractor,
)
from genbench.evaluation.computations import COMPUTATIONS, check_computations
from genbench.options.config import KNOWN_METRICS

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_metric_has_a_computation_and_a_half_added_one_fails_loudly() -> None:
    check_computations(METRICS, COMPUTATIONS)  # What importing genbench.evaluation does.
    extra = Metric("sharpness", (Column("sharpness_{n}", True),), "how sharp", "classifier")
    with pytest.raises(RuntimeError, match=r"no computation for \['sharpness'\]"):
        check_computations([*METRICS, extra], COMPUTATIONS)
    with pytest.raises(RuntimeError, match=r"no metric for \['fid'\]"):
        check_computations([m for m in METRICS if m.name != "fid"], COMPUTATIONS)


def test_options_and_leaderboard_read_the_table() -> None:
    assert tuple(m.name for m in METRICS) == KNOWN_METRICS
    assert column_spec("kid_std_clf_1.5k") == (METRICS[1], METRICS[1].columns[1])
    assert column_spec("final_fd_clf_1k") is None and column_spec("seed") is None
    assert higher_is_better("acc_clf_real") and higher_is_better("isc_500")
    assert not higher_is_better("isc_std_500") and not higher_is_better("w1_critic")
    assert uses_extractor(["fd_clf", "kid"], "inception") and not uses_extractor(["fd_clf"], "inception")
    every = [c.name(10_000) for m in METRICS for c in m.columns]
    assert len(set(every)) == len(every) and column_order(every[::-1]) == every


def _readme_rows() -> dict[str, tuple[list[str], str]]:
    """The README's metric table: ``--metrics`` name -> its columns and description, as written."""
    section = README.read_text().split("\n## Evaluation\n")[1].split("\n## ")[0]
    rows = re.findall(r"^\| `(\w+)` \| (.+?) \| (.+) \|$", section, flags=re.MULTILINE)
    return {name: (re.findall(r"`([^`]+)`", columns), what) for name, columns, what in rows}


def test_the_readme_lists_every_metric_with_its_columns_and_description() -> None:
    expected = {m.name: ([c.stem.replace("{n}", "<n>") for c in m.columns], m.description) for m in METRICS}
    assert _readme_rows() == expected
