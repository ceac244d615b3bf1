"""What ``genbench compare MODEL_A MODEL_B`` prints: per dataset, one row per metric with each model over
its seeds, the difference with its interval, the test, the probability of improvement and the verdict
(genbench.results.significance computes them; genbench.results.leaderboard_view lays the table out)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from genbench.core.metrics import column_spec, is_ranked
from genbench.errors import UserError
from genbench.results.leaderboard import read_records, records_frame
from genbench.results.significance import (
    MetricComparison,
    compare_models,
    compared_metrics,
    resolve_model,
    seed_runs,
)
from genbench.results.statistics import WELCH, format_seed_summary

METRIC_COLUMN = ""  # The figure-name column that leaderboard_view repeats in every block of a wide table.
FOOTNOTE = (
    f"A − B: difference of the means over seeds with its 95% interval; p: {WELCH} over seeds; "
    "P(A better): the fraction of (seed of A, seed of B) pairs where A is better, ties half (rliable); "
    "each model: mean ± half-width of its 95% Student t interval over seeds."
)


def comparisons(
    out: Path, a: str, b: str, data: str | None, metric: str | None, skipped: list[str]
) -> dict[str, list[MetricComparison]]:
    """Model ``a`` against ``b`` on ``data`` (default: every dataset where both have finished runs), on
    ``metric`` (default: every metric compared_metrics gives), dataset -> one comparison per metric;
    user errors for what does not exist. Records that cannot be read are appended to ``skipped``."""
    if not out.is_dir():
        raise UserError(f"no results folder at {out}; run `genbench run` first or pass --out")
    found = read_records(out)
    skipped += found.unreadable
    runs = seed_runs(records_frame(found.records)) if found.records else pd.DataFrame()
    if runs.empty:
        raise UserError(f"no finished runs in {out}; run `genbench run --out {out}` first")
    datasets = sorted(set(runs["dataset"].astype(str)))
    if data is not None and data not in datasets:
        raise UserError(
            f"no finished runs on dataset '{data}' in {out}; datasets with runs: {', '.join(datasets)}"
        )
    if data is None:
        names = {m.partition("@")[0] for m in (a, b)}
        datasets = [d for d in datasets if names <= set(runs.loc[runs["dataset"] == d, "model"].astype(str))]
        if not datasets:
            raise UserError(f"no dataset in {out} has finished runs of both '{a}' and '{b}'")
    result = {}
    for dataset in [data] if data is not None else datasets:
        on_dataset = runs[runs["dataset"] == dataset]
        metrics = compared_metrics(on_dataset)
        if metric is not None:
            if metric not in metrics and column_spec(metric) is not None and not is_ranked(metric):
                raise UserError(
                    f"'{metric}' is a diagnostic with no better side, so no verdict compares it; read it "
                    f"against the floor: genbench leaderboard --by {metric}"
                )
            if metric not in metrics:
                raise UserError(
                    f"unknown metric '{metric}' on {dataset}; metrics: {', '.join(metrics) or 'none'}"
                )
            metrics = [metric]
        variant_a, variant_b = (resolve_model(runs, dataset, name) for name in (a, b))
        result[dataset] = compare_models(runs, dataset, variant_a, variant_b, metrics)
    return result


def comparison_frame(compared: list[MetricComparison]) -> pd.DataFrame:
    """One row per metric, as ``genbench compare`` prints it."""
    rows = []
    for found in compared:
        test = found.comparison
        interval = "" if test.lo is None else f" [{_number(test.lo)}, {_number(test.hi)}]"
        rows.append(
            {
                METRIC_COLUMN: found.metric,
                "A": format_seed_summary(found.a) or "no value",
                "B": format_seed_summary(found.b) or "no value",
                "A − B (95% CI)": "" if math.isnan(test.difference) else _number(test.difference) + interval,
                "p": "" if test.p_value is None else f"{test.p_value:.2g}",
                "P(A better)": ""
                if test.probability_of_improvement is None
                else f"{test.probability_of_improvement:.2f}",
                "verdict": test.verdict,
            }
        )
    return pd.DataFrame(
        rows, columns=[METRIC_COLUMN, "A", "B", "A − B (95% CI)", "p", "P(A better)", "verdict"]
    )


def heading(compared: list[MetricComparison]) -> str:
    """The line above a dataset's table: which model is A and which is B."""
    first = compared[0]
    return f"{first.dataset}: A = {first.model_a}, B = {first.model_b}"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"
