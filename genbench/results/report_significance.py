"""The report's significance matrices: for each metric of a dataset, every pair of its models over their
seeds (genbench.results.significance.significance_matrix), one cell per pair saying whether the row's
model is better, worse, not significantly different at 5%, or needs more seeds; hovering a cell shows
the numbers. One self-contained section: :func:`significance_section` returns its HTML."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import pandas as pd

from genbench.results.leaderboard import sort_column
from genbench.results.significance import compared_metrics, seed_runs, significance_matrix
from genbench.results.statistics import (
    A_BETTER,
    B_BETTER,
    NO_DIFFERENCE,
    OTHER_CLASSIFIERS,
    WELCH,
    Comparison,
)

if TYPE_CHECKING:  # Only for the type: the section reads the dataset's leaderboard frame.
    from genbench.results.report_model import DatasetReport

# What a cell says of the row's model against the column's (verdict -> text).
CELL_TEXT = {
    A_BETTER: "better",
    B_BETTER: "worse",
    NO_DIFFERENCE: "no sig. diff.",
    OTHER_CLASSIFIERS: "other classifier",
}
NEED_MORE = "need more seeds"
EXPLANATION = (
    "Each cell compares the row's model (A) with the column's (B) over their finished seeds: better or "
    f"worse at the 5% level by {WELCH}, no significant difference, or too few seeds (fewer than two a "
    "side) to tell, or not comparable: scored in the features of different reference classifiers (the "
    "classifier_weights column); hover a cell for the difference of the means with its 95% interval, "
    "the p-value, P(A better), the fraction of seed pairs where A is better (rliable), and the seeds "
    "behind it. Models are ordered best first by their mean."
)


def significance_section(dataset: DatasetReport) -> str:
    """The HTML of a dataset's significance matrices: the leaderboard's sort metric open, the others
    folded; a note where there is nothing to compare."""
    runs = seed_runs(dataset.frame)
    metrics = compared_metrics(runs) if not runs.empty else []
    if runs.empty or runs["variant"].nunique() < 2 or not metrics:
        return '<p class="note">Significance needs finished runs of at least two models.</p>'
    first = sort_column(runs, None)
    ordered = sorted(metrics, key=lambda metric: metric != first)
    parts = [f'<p class="note">{html.escape(EXPLANATION)}</p>']
    for metric in ordered:
        matrix = significance_matrix(runs, dataset.name, metric)
        opened = " open" if metric == first else ""
        parts.append(
            f"<details{opened}><summary>{html.escape(metric)}</summary>{_matrix_table(matrix)}</details>"
        )
    return "\n".join(parts)


def _matrix_table(matrix: pd.DataFrame) -> str:
    names = [str(name) for name in matrix.columns]
    head = "".join(f"<th>B: {html.escape(name)}</th>" for name in names)
    rows = []
    for a in names:
        cells = "".join(_cell(matrix.loc[a, b]) for b in names)
        rows.append(f"<tr><th>A: {html.escape(a)}</th>{cells}</tr>")
    table = f"<thead><tr><th></th>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
    return f'<div class="scroll"><table class="significance">{table}</table></div>'


def _cell(comparison: Comparison | None) -> str:
    if comparison is None:
        return "<td>–</td>"
    text = CELL_TEXT.get(comparison.verdict, NEED_MORE)
    return f'<td title="{html.escape(_numbers(comparison))}">{html.escape(text)}</td>'


def _numbers(comparison: Comparison) -> str:
    """What hovering a cell shows."""
    parts = [f"A − B = {comparison.difference:.4g}"]
    if comparison.lo is not None and comparison.hi is not None:
        parts[0] += f" [{comparison.lo:.4g}, {comparison.hi:.4g}]"
    if comparison.p_value is not None:
        parts.append(f"p = {comparison.p_value:.2g}")
    if comparison.probability_of_improvement is not None:
        parts.append(f"P(A better) = {comparison.probability_of_improvement:.2f}")
    parts.append(f"{comparison.n_a} vs {comparison.n_b} seeds")
    return "; ".join(parts)
