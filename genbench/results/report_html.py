"""The markup of the HTML report: one page with inline CSS, a small sorter script and every picture as a
``data:`` URI, so it opens from disk and reaches nothing outside itself (its Content-Security-Policy
forbids it). Every string from a record is escaped."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from genbench.core.metrics import column_order, higher_is_better
from genbench.core.record import RunRecord
from genbench.results.leaderboard import (
    PROTOCOL_COLUMNS,
    RUN_COLUMNS,
    SETUP_COLUMNS,
    is_metric_column,
    several_setups,
    value_columns,
)
from genbench.results.report_protocol import column_note, protocol_facts
from genbench.results.report_significance import significance_section
from genbench.results.report_style import SCRIPT, STYLE

if TYPE_CHECKING:  # genbench.results.report renders through this module.
    from genbench.results.report_model import DatasetReport, Picture, Run

# The leaderboard's run columns on the page, but for those shown elsewhere: the dataset is the table's,
# the run id each row's attribute, the error in the status cell, budget and setup in the protocol
# section (and as columns where a model has runs of several setups).
TABLE_RUN_COLUMNS = [c for c in RUN_COLUMNS if c not in ("dataset", "run_id", "error", *SETUP_COLUMNS)]
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
_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
# Small pixel grids (8x8 digits make an 82-pixel grid) are magnified, pixelated, to about this width.
_PICTURE_WIDTH = 480
_MAX_MAGNIFICATION = 4
_LARGE_PICTURE = 800


def esc(value: Any) -> str:
    """Text from a record, safe in element content and in quoted attributes."""
    return html.escape(str(value), quote=True)


def slug(name: str) -> str:
    """An HTML id part made of a name's safe characters; a name with others also gets a hash of itself,
    so two names never share an id ("a b" and "a-b")."""
    clean = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
    if clean and clean == name:
        return clean
    return f"{clean}-{hashlib.sha256(name.encode()).hexdigest()[:8]}".lstrip("-")


def table_id(dataset: str) -> str:
    """The id of a dataset's leaderboard table."""
    return f"leaderboard-{slug(dataset)}"


def run_anchor(run_id: str) -> str:
    """The id of a run's section."""
    return f"run-{slug(run_id)}"


def render_page(datasets: list[DatasetReport], out: Path, generated: str) -> str:
    """The whole page for the datasets of one output folder."""
    runs = [run for dataset in datasets for run in dataset.runs if not run.is_floor]
    models = {run.record.model for run in runs}
    try:
        version = metadata.version("genbench")
    except metadata.PackageNotFoundError:
        version = "(not installed)"
    body = "\n".join(_dataset_section(dataset) for dataset in datasets)
    counts = (
        f"{_count(len(runs), 'run')} of {_count(len(models), 'model')} on {_count(len(datasets), 'dataset')}"
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>genbench report: {esc(out)}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>genbench report</h1>
<p class="meta">{counts}, from
<code>{esc(out)}</code>; page generated {esc(generated)} by genbench {esc(version)}. Every number comes
from the run records (<code>runs/*/metrics.json</code>, <code>config.json</code>) and the real-data
floors (<code>floors/*.json</code>); each section says how it was obtained.</p>
{_contents(datasets)}
{body}
<script>{SCRIPT}</script>
</body>
</html>
"""


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _contents(datasets: list[DatasetReport]) -> str:
    items = []
    for dataset in datasets:
        key = slug(dataset.name)
        models = "".join(
            f'<li><a href="#model-{key}-{slug(model)}">{esc(model)}</a></li>' for model in dataset.models()
        )
        items.append(
            f'<li><a href="#dataset-{key}">{esc(dataset.name)}</a><ul>'
            f'<li><a href="#{table_id(dataset.name)}">Leaderboard</a></li>'
            f'<li><a href="#plots-{key}">Comparison plots</a></li>'
            f'<li><a href="#significance-{key}">Significance over seeds</a></li>'
            f'<li><a href="#models-{key}">Models</a><ul>{models}</ul></li>'
            f'<li><a href="#protocol-{key}">Protocol</a></li></ul></li>'
        )
    return f'<nav class="toc"><h2>Contents</h2><ul>{"".join(items)}</ul></nav>'


def _dataset_section(dataset: DatasetReport) -> str:
    key = slug(dataset.name)
    return f"""<section class="dataset" id="dataset-{key}">
<h2>{esc(dataset.name)}</h2>
<h3>Leaderboard</h3>
<p class="note">One row per run, the real-data floor first; click a column header to sort by it (best first
for metrics, click again to reverse; empty cells stay last).</p>
{leaderboard_table(dataset)}
<h3 id="plots-{key}">Comparison plots</h3>
{_figures(dataset.plots, f"No comparison plots in plots/{dataset.name}/.")}
<h3 id="significance-{key}">Significance over seeds</h3>
{significance_section(dataset)}
<h3 id="models-{key}">Models</h3>
{"".join(_model_section(dataset, model, runs) for model, runs in dataset.models().items())}
<h3 id="protocol-{key}">Protocol</h3>
{_protocol(dataset)}
</section>"""


def leaderboard_table(dataset: DatasetReport) -> str:
    """The dataset's leaderboard as a sortable table, one row per run and one per floor."""
    frame = dataset.frame
    varying = [c for c in PROTOCOL_COLUMNS if frame[c].nunique(dropna=False) > 1]
    if several_setups(frame):  # Runs of one model that are different experiments: say which is which.
        varying = [*SETUP_COLUMNS, *varying]
    figures = [c for c in value_columns(frame) if frame[c].notna().any()]
    columns = [*TABLE_RUN_COLUMNS, *varying, *figures]
    head = "".join(_header(frame, column, is_metric_column(column)) for column in columns)
    records = {run.run_id: run.record for run in dataset.runs}
    rows = [_row(row, columns, records.get(str(row["run_id"]))) for _, row in frame.iterrows()]
    notes = "".join(f"<dt>{esc(c)}</dt><dd>{esc(column_note(dataset, c))}</dd>" for c in columns)
    return (
        f'<div class="scroll"><table class="leaderboard sortable" id="{table_id(dataset.name)}">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        f'<details class="notes" open><summary>What each column holds</summary><dl>{notes}</dl></details>'
    )


def _header(frame: pd.DataFrame, column: str, metric: bool) -> str:
    kind = "number" if pd.api.types.is_numeric_dtype(frame[column]) else "text"
    better = f' data-better="{"higher" if higher_is_better(column) else "lower"}"' if metric else ""
    return f'<th data-type="{kind}"{better}><button type="button">{esc(column)}</button></th>'


def _row(row: pd.Series, columns: list[str], record: RunRecord | None) -> str:
    run_id = str(row["run_id"])
    status = record.status if record is not None else ""
    cells = []
    for column in columns:
        value = row[column]
        if column == "model" and status != "floor":
            cells.append(f'<td><a href="#{run_anchor(run_id)}">{esc(value)}</a></td>')
        elif column == "status":
            cells.append(f'<td class="status-cell">{_status(status, record.error if record else None)}</td>')
        else:
            cells.append(_cell(value))
    if status == "floor":
        return f'<tr class="floor" data-floor-id="{esc(run_id)}">{"".join(cells)}</tr>'
    return f'<tr data-run-id="{esc(run_id)}">{"".join(cells)}</tr>'


def _status(status: str, error: str | None = None) -> str:
    detail = f'<div class="error">{esc(error)}</div>' if error else ""
    return f'<span class="status status-{slug(status)}">{esc(status)}</span>{detail}'


def _cell(value: Any) -> str:
    """A table cell; numbers carry their exact value for the sorter and the tooltip."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return '<td data-sort=""></td>'
    if isinstance(value, bool | str):
        return f"<td>{esc(value)}</td>"
    if isinstance(value, int) or float(value).is_integer():
        return f'<td class="num" data-sort="{int(value)}">{int(value)}</td>'
    exact = repr(float(value))
    return f'<td class="num" data-sort="{exact}" title="{exact}">{float(value):.4g}</td>'


def _model_section(dataset: DatasetReport, model: str, runs: list[Run]) -> str:
    anchor = f"model-{slug(dataset.name)}-{slug(model)}"
    seeds = ", ".join(esc(run.record.seed) for run in runs)
    body = "".join(_run_section(run) for run in runs)
    heading = f'<h4>{esc(model)}</h4><p class="note">seeds {seeds}</p>'
    return f'<section class="model" id="{anchor}">{heading}{body}</section>'


def _run_section(run: Run) -> str:
    record = run.record
    error = f'<p class="error">{esc(record.error)}</p>' if record.error else ""
    metrics = {k: v for k, v in record.metrics.items() if v is not None}
    tables = (
        _key_values("Headline metrics", {k: metrics[k] for k in column_order(list(metrics))}, "no metrics")
        + _key_values(
            "Training",
            {k: getattr(record, k) for k in TRAINING_FIELDS if getattr(record, k) not in (None, [])},
        )
        + _key_values("During training (--eval-every)", record.during_training or {})
        + _key_values("Hyperparameters (config.json)", run.spec.hparams if run.spec else {}, "no config.json")
    )
    skipped = "".join(
        f"<li><code>{esc(name)}</code>: {esc(reason)}</li>"
        for name, reason in record.pictures_skipped.items()
    )
    skipped = f'<p class="note">Pictures not drawn:</p><ul class="note">{skipped}</ul>' if skipped else ""
    config = run.spec.to_dict() if run.spec else {}
    raw = json.dumps({"config.json": config, "metrics.json": record.to_dict()}, indent=2, sort_keys=True)
    status = _status(record.status)
    return f"""<article class="run" id="{run_anchor(run.run_id)}">
<h5>seed {esc(record.seed)} {status} <code>{esc(run.run_id)}</code></h5>
{error}<div class="facts">{tables}</div>
{_figures(run.pictures, "No pictures in this run's folder.")}{skipped}
<details><summary>The run's records: config.json and metrics.json (every metric's protocol)</summary>
<pre>{esc(raw)}</pre></details>
</article>"""


def _key_values(title: str, values: dict[str, Any], empty: str = "") -> str:
    if not values:
        return f'<p class="note">{esc(empty)}</p>' if empty else ""
    rows = "".join(
        f"<tr><th>{esc(k)}</th>{_cell(v) if _is_number(v) else _text(v)}</tr>" for k, v in values.items()
    )
    return f'<table class="kv"><caption>{esc(title)}</caption>{rows}</table>'


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text(value: Any) -> str:
    return f"<td>{esc(json.dumps(value) if isinstance(value, dict | list) else value)}</td>"


def _figures(pictures: list[Picture], empty: str) -> str:
    if not pictures:
        return f'<p class="note">{esc(empty)}</p>'
    return f'<div class="figures">{"".join(_figure(p) for p in pictures)}</div>'


def _figure(picture: Picture) -> str:
    """A picture embedded as a data URI at its pixel size, small grids magnified a whole number of times."""
    scale = max(1, min(_MAX_MAGNIFICATION, round(_PICTURE_WIDTH / picture.width)))
    # Figures wider than the page show at about half size, two to a row; a click shows one whole.
    large = picture.width > _LARGE_PICTURE
    figure = '<figure class="large" title="click to enlarge or shrink">' if large else "<figure>"
    uri = "data:image/png;base64," + base64.b64encode(picture.data).decode("ascii")
    return (
        f'{figure}<img src="{uri}" width="{picture.width * scale}" height="{picture.height * scale}" '
        f'alt="{esc(picture.caption)}"><figcaption><code>{esc(picture.name)}</code>: '
        f"{esc(picture.caption)}</figcaption></figure>"
    )


def _protocol(dataset: DatasetReport) -> str:
    rows = []
    for fact in protocol_facts(dataset):
        if len(fact.values) == 1:
            values = esc(next(iter(fact.values)))
        else:
            items = "".join(
                f'<li>{esc(value)} <span class="note">({_count(len(ids), "run")}: {esc(", ".join(ids))})'
                "</span></li>"
                for value, ids in fact.values.items()
            )
            values = f'<span class="differs">differs between runs:</span><ul>{items}</ul>'
        rows.append(
            f'<tr><th>{esc(fact.label)}</th><td>{values}</td><td class="note">{esc(fact.note)}</td></tr>'
        )
    return (
        '<table class="protocol"><thead><tr><th>setting</th><th>value</th><th>what it is</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        '<p class="note">How each metric was computed is under the leaderboard ("What each column holds")'
        " and, in full, in each run's metrics.json (the records at the end of each run).</p>"
    )
