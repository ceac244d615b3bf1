"""The report's summary of a dataset: a row per model (per setup), each metric as its mean over the
finished seeds with a 95% interval (genbench.results.statistics), the best value of each column, the
real-data floor as a reference row, and how many seeds finished and how many did not.

Data only: genbench.results.report_html lays it out.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from genbench.core.layout import FLOOR_MODEL
from genbench.core.metrics import arrow, column_spec, direction, higher_is_better, is_spread
from genbench.results.leaderboard import sort_column
from genbench.results.setup_labels import differences, frame_facts
from genbench.results.statistics import SeedSummary, seed_summary

if TYPE_CHECKING:  # genbench.results.report_model builds on what this module returns.
    from genbench.results.report_model import DatasetReport

FINISHED = "finished"


@dataclass(frozen=True)
class SummaryColumn:
    """A metric column of the summary: its name, which way is better, its unit (empty where none), and
    whether models are ranked on it (False: a diagnostic, never marked best)."""

    name: str
    higher_is_better: bool
    unit: str = ""
    ranked: bool = True

    @property
    def arrow(self) -> str:
        """↑ where higher is better, ↓ where lower is, ◇ for a diagnostic (genbench.core.metrics.arrow)."""
        return arrow(self.name)

    @property
    def direction(self) -> str:
        """Which way is better, in words (genbench.core.metrics.direction)."""
        return direction(self.name)


@dataclass(frozen=True)
class SummaryRow:
    """One model (one setup of it): its seeds' statistics per metric column, and its seeds' fates."""

    label: str  # The model as the page names it: "dcgan", or "dcgan [kimg 40]" beside another setup.
    model: str  # The plugin name: its colour (genbench.figures.palette).
    finished: int
    not_finished: dict[str, int]  # Status (failed, diverged) -> runs.
    cells: dict[str, SeedSummary]  # Column name -> its finished seeds' values.
    best: frozenset[str] = frozenset()  # The columns where this row's mean is the best.

    @property
    def runs(self) -> int:
        """Every run of this setup, finished or not."""
        return self.finished + sum(self.not_finished.values())


@dataclass(frozen=True)
class FloorRow:
    """A real-data floor: held-out real images scored like samples, under one protocol."""

    label: str
    values: dict[str, float]


@dataclass(frozen=True)
class Summary:
    """A dataset's summary table: columns, the floors (reference rows), the models best first."""

    columns: list[SummaryColumn]
    floors: list[FloorRow]
    rows: list[SummaryRow] = field(default_factory=list)


def summary_columns(frame: pd.DataFrame) -> list[SummaryColumn]:
    """The metric columns worth a summary: the metric table's final values (no spreads, none measured
    during training), those some finished run has a value in."""
    runs = frame[(frame["model"] != FLOOR_MODEL) & (frame["status"] == FINISHED)]
    columns = []
    for name in frame.columns:
        spec = column_spec(str(name))
        if spec is None or is_spread(str(name)) or not runs[name].notna().any():
            continue
        columns.append(SummaryColumn(str(name), higher_is_better(str(name)), spec[1].unit, spec[1].ranked))
    return columns


def summarise_dataset(dataset: DatasetReport) -> Summary:
    """The summary of ``dataset``: a row per model and setup (failed and diverged runs counted, never
    averaged), best first by the leaderboard's default metric, and each floor."""
    frame = dataset.frame
    columns = summary_columns(frame)
    labels = dataset.labels()
    runs = frame[frame["model"] != FLOOR_MODEL]
    rows = []
    for label, group in runs.groupby(runs["run_id"].astype(str).map(labels), sort=False):
        finished = group[group["status"] == FINISHED]
        fates = group.loc[group["status"] != FINISHED, "status"].astype(str).value_counts()
        cells = {c.name: seed_summary(finished[c.name].dropna().astype(float).tolist()) for c in columns}
        model = str(group["model"].iloc[0])
        rows.append(SummaryRow(str(label), model, len(finished), fates.to_dict(), cells))
    return Summary(columns, _floors(frame, columns), _mark_best(_ordered(rows, frame), columns))


def _floors(frame: pd.DataFrame, columns: list[SummaryColumn]) -> list[FloorRow]:
    """One reference row per floor record (one per protocol), never averaged; where there are several,
    each labelled by what differs between them (``[n_samples 10k]``, ``[reference_split train]``)."""
    floors = frame[frame["model"] == FLOOR_MODEL]
    ids = floors["run_id"].astype(str)
    facts = {run_id: frame_facts(floors[ids == run_id]) for run_id in ids}
    names = differences(facts, unknown=lambda run_id: run_id) if len(floors) > 1 else {}
    rows = []
    for run_id, (_, floor) in zip(ids, floors.iterrows(), strict=True):
        values = {c.name: float(floor[c.name]) for c in columns if pd.notna(floor[c.name])}
        name = names.get(run_id, "")
        if not values:  # A floor of another sample count than every run: nothing to compare with.
            continue
        rows.append(FloorRow("real-data floor" + (f" [{name}]" if name else ""), values))
    return rows


def _ordered(rows: list[SummaryRow], frame: pd.DataFrame) -> list[SummaryRow]:
    """Best first by the leaderboard's default metric, rows without a value of it last, then by name."""
    column = sort_column(frame, None)
    if column is None or not rows or column not in rows[0].cells:
        return sorted(rows, key=lambda row: row.label)
    sign = -1 if higher_is_better(column) else 1

    def key(row: SummaryRow) -> tuple[bool, float, str]:
        cell = row.cells[column]
        return cell.n == 0, sign * cell.mean if cell.n else 0.0, row.label

    return sorted(rows, key=key)


def _mark_best(rows: list[SummaryRow], columns: list[SummaryColumn]) -> list[SummaryRow]:
    """The rows with the best mean of each column marked, where two or more rows have one (ties: all),
    unless every row has the same mean: then none is better (precision 0 for every model); diagnostics
    have no best."""
    best: dict[str, set[str]] = {row.label: set() for row in rows}
    for column in (c for c in columns if c.ranked):
        means = {row.label: row.cells[column.name].mean for row in rows if row.cells[column.name].n}
        if len(set(means.values())) < 2:
            continue
        top = max(means.values()) if column.higher_is_better else min(means.values())
        for label, mean in means.items():
            if mean == top:
                best[label].add(column.name)
    return [dataclasses.replace(row, best=frozenset(best[row.label])) for row in rows]
