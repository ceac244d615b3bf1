"""The report's glossary of a dataset's columns: each metric described once, with all its columns
(``kid_clf_1k`` and its spread ``kid_std_clf_1k`` share one entry), then each run column.

Data only: genbench.results.report_html lays it out, collapsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from genbench.core.metrics import Metric, column_spec, direction
from genbench.results.report_protocol import column_note, sample_notes

if TYPE_CHECKING:  # genbench.results.report_model builds on what this module returns.
    from genbench.results.report_model import DatasetReport


@dataclass(frozen=True)
class GlossaryEntry:
    """What one or more columns hold: the columns, and one paragraph about them."""

    columns: tuple[str, ...]
    text: str


def glossary(dataset: DatasetReport, columns: list[str]) -> list[GlossaryEntry]:
    """An entry per metric of the metric table among ``columns`` (in their order), and one per other
    column (a run column, a metric measured during training, a metric the table does not know)."""
    by_metric: dict[str, list[str]] = {}
    entries: list[tuple[str, tuple[str, ...]]] = []  # (metric name or "", columns), in column order.
    for column in columns:
        spec = column_spec(column)
        if spec is None:
            entries.append(("", (column,)))
        elif spec[0].name not in by_metric:
            by_metric[spec[0].name] = [column]
            entries.append((spec[0].name, ()))
        else:
            by_metric[spec[0].name].append(column)
    found = []
    for name, own in entries:
        if not name:
            found.append(GlossaryEntry(own, column_note(dataset, own[0])))
        else:
            metric_columns = by_metric[name]
            metric = column_spec(metric_columns[0])[0]  # type: ignore[index]  # Found above.
            found.append(GlossaryEntry(tuple(metric_columns), _metric_text(dataset, metric, metric_columns)))
    return found


def _metric_text(dataset: DatasetReport, metric: Metric, columns: list[str]) -> str:
    """A metric's description, then per column which way is better, what it adds and its unit, then the
    images it was computed from. With one column this is :func:`column_note`'s text."""
    parts = [metric.glossary]
    for column in columns:
        _, spec = column_spec(column)  # type: ignore[misc]  # Columns of this metric.
        facts = [direction(column)]
        if spec.note:
            facts.append(f"this column: {spec.note}" if len(columns) == 1 else spec.note)
        if spec.unit:
            facts.append(f"units: {spec.unit}")
        parts.append("; ".join(facts) if len(columns) == 1 else f"{column}: {', '.join(facts)}")
    counts = sorted({note for column in columns for note in sample_notes(dataset, column)})
    return "; ".join(parts + counts)
