"""The metric table is the one declaration of every metric: ``--metrics`` and suites accept exactly its
names, a real evaluation fills exactly its columns with what its entries say, a metric whose
computation is missing fails on import, and the README's metric table says what it says."""

from __future__ import annotations

import math
import re
from pathlib import Path

import fakes
import pandas as pd
import pytest
import torch
from setups import make_setup
from torch_fidelity.metric_fid import KEY_METRIC_FID
from torch_fidelity.metric_isc import KEY_METRIC_ISC_MEAN, KEY_METRIC_ISC_STD
from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, KEY_METRIC_KID_STD
from torch_fidelity.metric_prc import KEY_METRIC_PRECISION, KEY_METRIC_RECALL
from typer.testing import CliRunner

from genbench.cli import app
from genbench.core.images import balanced_labels
from genbench.core.metrics import (
    METRICS,
    NO_BETTER_SIDE,
    Column,
    Computation,
    Metric,
    arrow,
    bound_of,
    column_order,
    column_spec,
    direction,
    estimate,
    higher_is_better,
    is_ranked,
    is_spread,
    uses_extractor,
)
from genbench.evaluation.classifier import cached_classifier
from genbench.evaluation.computation import check_computations
from genbench.evaluation.evaluate import Evaluation, evaluate
from genbench.evaluation.setup import EvaluationSetup
from genbench.options.command_line import given_on_the_command_line
from genbench.options.config import DivergenceSettings, resolve_options
from genbench.options.suite import load_suite
from genbench.results.leaderboard import sort_column

README = Path(__file__).resolve().parents[2] / "README.md"
CPU = torch.device("cpu")
N = 60  # Generated samples of the real evaluation below.
TORCH_FIDELITY_KEYS = {
    "fid": (KEY_METRIC_FID,),
    "kid": (KEY_METRIC_KID_MEAN, KEY_METRIC_KID_STD),
    "prc": (KEY_METRIC_PRECISION, KEY_METRIC_RECALL),
    "isc": (KEY_METRIC_ISC_MEAN, KEY_METRIC_ISC_STD),
}

pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.

# Values without an interval over the run's samples: a constant (the classifier's accuracy on real
# images). Adding one here is a decision.
WITHOUT_INTERVAL = {
    "acc_clf_real",
}


def test_metrics_on_the_command_line_and_in_suites_are_the_table_names(tmp_path: Path) -> None:
    every = [m.name for m in METRICS]
    given = given_on_the_command_line({"metrics": ",".join(reversed(every))})
    assert set(resolve_options({}, given).metrics) == set(every)
    suite = tmp_path / "suite.toml"
    suite.write_text(f"metrics = {every!r}\n")
    assert resolve_options(load_suite(suite), {}).metrics == tuple(every)
    opt_in = {m.name for m in METRICS if not m.default}
    assert opt_in == {"fd_rand"}  # Each opt-in metric says why on its table entry.
    default = tuple(n for n in every if n not in opt_in)
    assert resolve_options({}, {}).metrics == default  # The rest by default.

    refused = ["run", "--metrics", "fd_clf,sharpness", "--models", "nope", "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, refused)  # The metrics are refused first (else: the model).
    assert result.exit_code == 2
    assert result.stderr == f"error: unknown metric sharpness; known: {', '.join(every)}\n"


@pytest.fixture(scope="module")
def evaluations(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, Evaluation]:
    """Every metric of the table on real images of the fake Bars dataset, as an unconditional and as a
    conditional model (keyed by whether conditional); no Inception weights."""
    dataset = fakes.Bars(Path("unused"))
    train, test = dataset.load("train"), dataset.load("test")
    cache = tmp_path_factory.mktemp("cache")
    classifier = cached_classifier("bars", fakes.Bars.shape, train, test, cache, CPU)
    names = tuple(m.name for m in METRICS)
    setup: EvaluationSetup = make_setup(
        "bars", test, classifier, cache, names, divergence=DivergenceSettings(steps=5), splits=(train, test)
    )
    labels = balanced_labels(N, fakes.Bars.shape.num_classes, CPU)
    return {flag: evaluate(train.images[:N], setup, labels if flag else None) for flag in (False, True)}


@pytest.mark.parametrize("conditional", [False, True])
def test_a_real_evaluation_fills_every_column_of_the_table(
    evaluations: dict[bool, Evaluation], conditional: bool
) -> None:
    evaluation = evaluations[conditional]
    chosen = [m for m in METRICS if m.applies_to(conditional)]
    # In table order, each column with an interval followed by its ends.
    assert list(evaluation.metrics) == [name for m in chosen for c in m.columns for name in c.names(N)]
    assert conditional == any(m.models == "conditional" for m in chosen)
    for metric in chosen:
        for column in metric.columns:
            value, protocol = evaluation.metrics[column.name(N)], evaluation.protocol[column.name(N)]
            bounds = [evaluation.metrics[name] for name in column.bounds(N)] if column.interval else []
            assert protocol["metric"] == metric.description and protocol["n_generated"] == N
            if metric.extractor == "inception":  # No weights here: empty, with the reason.
                assert value is None and "unavailable" in protocol and bounds in ([], [None, None]), column
                continue
            assert value is not None and math.isfinite(value), column
            assert not column.spread or value >= 0, column
            if column.unit:
                assert protocol["units"][column.label] == column.unit
            if column.interval:  # Every value of the table but spreads and a constant has its interval.
                lo, hi = bounds
                assert lo is not None and hi is not None and lo <= value <= hi, column
                assert protocol["interval"]["resamples"] == 200 and protocol["interval"]["seed"] == 0
                assert protocol["interval"]["method"].startswith("normal bootstrap interval"), column
            else:
                assert column.spread or column.stem in WITHOUT_INTERVAL, column
    if conditional:
        real = evaluation.protocol["acc_clf_real"]["classifier_test_accuracy"]
        assert evaluation.metrics["acc_clf_real"] == real


def test_torch_fidelity_metrics_name_torch_fidelitys_own_results() -> None:
    for metric in METRICS:
        if metric.computation.function.endswith(":torch_fidelity"):
            keys = TORCH_FIDELITY_KEYS[metric.computation.argument]
            assert tuple(c.key for c in metric.columns) == keys, metric.name


def test_a_metric_without_its_computation_fails_when_evaluation_is_imported() -> None:
    check_computations(METRICS)  # What importing genbench.evaluation.evaluate does.
    sharpness = Computation("genbench.evaluation.sharpness:sharpness")
    extra = Metric("sharpness", (Column("sharpness_{n}", True),), "how sharp", "classifier", sharpness)
    with pytest.raises(RuntimeError, match=r"metric sharpness .*'genbench.evaluation.sharpness:sharpness'"):
        check_computations([*METRICS, extra])
    typo = Metric("w2", (Column("w2"),), "W2", "estimator", estimate("genbench.evaluation.divergence:w2"))
    with pytest.raises(RuntimeError, match=r"metric w2 .*names no function"):
        check_computations([typo])
    with pytest.raises(ValueError, match=r"genbench\.evaluation\.MODULE:FUNCTION"):
        Computation("genbench.running.sweep:Benchmark")  # The table names evaluation's code only.


def test_columns_resolve_to_their_metric_direction_and_spread() -> None:
    assert column_spec("kid_std_clf_1.5k") == (METRICS[1], METRICS[1].columns[1])
    assert column_spec("final_fd_clf_1k") is None and column_spec("seed") is None
    assert higher_is_better("acc_clf_real") and higher_is_better("isc_500")
    assert not higher_is_better("isc_std_500") and not higher_is_better("w1_critic")
    assert is_spread("kid_std_10k") and is_spread("isc_std_clf_500") and not is_spread("kid_clf_500")
    assert uses_extractor(["fd_clf", "kid"], "inception") and not uses_extractor(["fd_clf"], "inception")
    every = [name for m in METRICS for c in m.columns for name in c.names(10_000)]
    assert len(set(every)) == len(every) and column_order(every[::-1]) == every
    # An interval's ends belong to their column, never to the table as columns of their own.
    assert bound_of("fid_10k_lo") == "fid_10k" and bound_of("jsd_clf_hi") == "jsd_clf"
    assert bound_of("kid_std_10k_lo") is None and bound_of("acc_clf_real_hi") is None
    assert column_spec("fid_10k_lo") is None and bound_of("fid_10k") is None


def test_the_copying_diagnostics_have_no_better_side_and_are_never_ranked() -> None:
    # C_T reads 0 for real data, above for underfitting, below for copying; noise reads authentic.
    assert not is_ranked("ct_clf_10k") and not is_ranked("auth_clf_1k") and not is_ranked("kid_std_10k")
    assert is_ranked("fd_clf_10k") and is_ranked("precision_clf_1k") and is_ranked("final_fd_clf_1k")
    assert direction("ct_clf_10k") == NO_BETTER_SIDE and arrow("auth_clf_10k") == "◇"
    assert direction("recall_10k") == "higher is better" and arrow("fd_pca_1k") == "↓"
    with pytest.raises(ValueError, match="no better side"):
        Column("x_{n}", higher_is_better=True, ranked=False)
    frame = pd.DataFrame({"ct_clf_1k": [-1.0], "fd_pca_1k": [3.0], "dataset": ["d"], "model": ["m"]})
    assert sort_column(frame, None) == "fd_pca_1k"  # By default never sorted by a diagnostic.


def _readme_rows() -> dict[str, tuple[list[str], str]]:
    """The README's metric table: ``--metrics`` name -> its columns and description, as written."""
    section = README.read_text().split("\n## Evaluation\n")[1].split("\n## ")[0]
    rows = re.findall(r"^\| `(\w+)` \| (.+?) \| (.+) \|$", section, flags=re.MULTILINE)
    return {name: (re.findall(r"`([^`]+)`", columns), what) for name, columns, what in rows}


def test_the_readme_lists_every_metric_with_its_columns_and_description() -> None:
    expected = {m.name: ([c.stem.replace("{n}", "<n>") for c in m.columns], m.description) for m in METRICS}
    assert _readme_rows() == expected
