"""What the report's templates show of each dataset: its summary, its charts with captions saying what
each shows, its runs (one table row each), its models with their runs, its protocol and glossary.

Everything here is read from genbench.results.report_model's data; the templates
(genbench/results/templates) only lay it out.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from genbench.core.metrics import column_order, higher_is_better, is_ranked
from genbench.figures.palette import model_colour
from genbench.results.agreement import Agreement, feature_space_agreement
from genbench.results.comparison import CHART_PREFIX
from genbench.results.leaderboard import PROTOCOL_COLUMNS, RUN_COLUMNS, is_metric_column, value_columns
from genbench.results.metric_chart import LOG_SPAN, uses_log_axis
from genbench.results.report_cells import Cell, Shown, cell, shown
from genbench.results.report_glossary import GlossaryEntry, glossary
from genbench.results.report_numbers import number, spread
from genbench.results.report_protocol import Fact, protocol_facts
from genbench.results.report_significance import significance_section
from genbench.results.report_summary import Summary, SummaryColumn, summarise_dataset

if TYPE_CHECKING:  # genbench.results.report renders through this module.
    from genbench.results.report_model import DatasetReport, Run

# A dataset's sections, in page order: the body and the contents are both made from this one list.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Summary"),
    ("significance", "Significance over seeds"),
    ("charts", "Metric charts"),
    ("models", "Models"),
    ("runs", "All runs"),
    ("protocol", "Protocol"),
    ("glossary", "Glossary"),
)
# The leaderboard's run columns in the all-runs table, but for those shown elsewhere: the dataset is the
# table's, the run id each row's attribute, the error in the status cell, the setup and evaluation (of
# genbench eval) in the model's name.
TABLE_RUN_COLUMNS = [c for c in RUN_COLUMNS if c not in ("dataset", "run_id", "error", "setup", "evaluation")]
# A run's budget, progress and timings, from its record.
TRAINING_FIELDS = [
    "budget_kimg",
    "kimg",
    "steps",
    "stopped_by",
    "resumed_at_kimg",
    "train_seconds",
    "eval_seconds",
    "wall_seconds",
    "device",
]


@dataclass(frozen=True)
class Header:
    """A column of the all-runs table: name, how it sorts, which way is better (metrics only)."""

    name: str
    numeric: bool
    better: str = ""  # "higher", "lower", or "" for a column that is not a metric.


@dataclass(frozen=True)
class TableRow:
    """A row of the all-runs table: the run (or floor), its model as labelled, and its cells."""

    run: Run
    label: str
    cells: list[tuple[str, Cell]]


@dataclass(frozen=True)
class ModelView:
    """One model (one setup of it) with its runs, seeds in order."""

    label: str
    colour: str
    anchor: str
    runs: list[Run]


@dataclass(frozen=True)
class DatasetView:
    """Everything the page shows about one dataset."""

    name: str
    key: str
    summary: Summary
    charts: list[tuple[Shown, str]]  # Each metric chart and its caption, in the summary's order.
    plots: list[Shown]  # The other comparison plots (evaluation during training).
    headers: list[Header]
    rows: list[TableRow]
    models: list[ModelView]
    facts: list[Fact]
    glossary: list[GlossaryEntry]
    agreement: list[Agreement]  # The models' FD rankings compared across feature spaces.
    # Each metric's pairs of models over their seeds: the section's markup, escaped where it is made
    # (genbench.results.report_significance).
    significance: Markup


def slug(name: str) -> str:
    """An HTML id part made of a name's safe characters; a name with others also gets a hash of itself,
    so two names never share an id ("a b" and "a-b")."""
    clean = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
    if clean and clean == name:
        return clean
    return f"{clean}-{hashlib.sha256(name.encode()).hexdigest()[:8]}".lstrip("-")


def dataset_view(dataset: DatasetReport) -> DatasetView:
    """The page's view of ``dataset``."""
    key = slug(dataset.name)
    summary = summarise_dataset(dataset)
    plots = {p.name: p for p in dataset.plots}
    charts = {c.name: plots[chart_file(c.name)] for c in summary.columns if chart_file(c.name) in plots}
    models = [
        ModelView(label, model_colour(runs[0].record.model), f"model-{key}-{slug(label)}", runs)
        for label, runs in dataset.models().items()
    ]
    headers, rows = run_table(dataset)
    columns = [h.name for h in headers]
    return DatasetView(
        dataset.name,
        key,
        summary,
        [(shown(picture), chart_caption(summary, name)) for name, picture in charts.items()],
        [shown(p) for p in dataset.plots if p.name not in {chart_file(name) for name in charts}],
        headers,
        rows,
        models,
        protocol_facts(dataset),
        glossary(dataset, columns),
        feature_space_agreement(dataset.frame),
        Markup(significance_section(dataset)),
    )


def chart_file(column: str) -> str:
    """The file name of a metric's chart (genbench.results.comparison)."""
    return f"{CHART_PREFIX}{column.replace('/', '_')}.png"


def chart_caption(summary: Summary, name: str) -> str:
    """What one metric chart shows that the others do not: the best model at its mean and interval, the
    floor, and whether the axis is logarithmic (genbench.results.metric_chart decides it alike)."""
    column = next(c for c in summary.columns if c.name == name)
    rows = [row for row in summary.rows if row.cells[name].n]
    best = [row for row in rows if name in row.best]
    parts = [f"{name}: {column.direction}{_unit(column)}"]
    if best:
        cells = best[0].cells[name]
        parts.append(f"best {' and '.join(r.label for r in best)}, {number(cells.mean)} {spread(cells)}")
    floors = [floor.values[name] for floor in summary.floors if name in floor.values]
    if floors:
        parts.append(f"real-data floor {number(floors[0])} (dashed)")
    values = [v for row in rows for v in (*row.cells[name].values, row.cells[name].lo, row.cells[name].hi)]
    if uses_log_axis([v for v in [*values, *floors[:1]] if v is not None]):
        parts.append(f"log axis: the values span more than {LOG_SPAN:g} times")
    return "; ".join(parts) + "."


def _better(column: str) -> str:
    """How the all-runs table first sorts a metric column: best first, a diagnostic ascending."""
    return "higher" if is_ranked(column) and higher_is_better(column) else "lower"


def _unit(column: SummaryColumn) -> str:
    return f"; units: {column.unit}" if column.unit else ""


def run_table(dataset: DatasetReport) -> tuple[list[Header], list[TableRow]]:
    """The all-runs table: a row per run and per floor; the protocol columns where runs differ in them,
    then every figure some run has."""
    frame = dataset.frame
    varying = [c for c in PROTOCOL_COLUMNS if frame[c].nunique(dropna=False) > 1]
    figures = column_order([c for c in value_columns(frame) if frame[c].notna().any()])
    columns = [*TABLE_RUN_COLUMNS, *varying, *figures]
    numeric = {c: frame[c].dtype.kind in "iuf" for c in columns}
    headers = [Header(c, numeric[c], _better(c) if is_metric_column(c) else "") for c in columns]
    labels = dataset.labels()
    runs = {run.run_id: run for run in dataset.runs}
    rows = []
    for _, values in frame.iterrows():
        run = runs.get(str(values["run_id"]))
        if run is not None:
            label = labels.get(run.run_id, run.record.model)
            rows.append(TableRow(run, label, [(c, cell(values[c])) for c in columns]))
    return headers, rows


def run_facts(run: Run) -> list[tuple[str, list[tuple[str, Cell]], str]]:
    """A run's tables: (title, rows, what to say where it has none)."""
    record = run.record
    metrics = {k: v for k, v in record.metrics.items() if v is not None}
    training = {k: getattr(record, k) for k in TRAINING_FIELDS if getattr(record, k) not in (None, [])}
    tables: list[tuple[str, dict[str, Any], str]] = [
        ("Headline metrics", {k: metrics[k] for k in column_order(list(metrics))}, "no metrics"),
        ("Training", training, ""),
        ("During training (--eval-every)", record.during_training or {}, ""),
        ("Hyperparameters (config.json)", run.spec.hparams if run.spec else {}, "no config.json"),
    ]
    return [(title, [(k, cell(v)) for k, v in values.items()], empty) for title, values, empty in tables]


def raw_records(run: Run) -> str:
    """The run's config.json and metrics.json, as one JSON text (every metric's protocol is in it)."""
    config = run.spec.to_dict() if run.spec else {}
    records = {"config.json": config, "metrics.json": run.record.to_dict()}
    return json.dumps(records, indent=1, sort_keys=True)
