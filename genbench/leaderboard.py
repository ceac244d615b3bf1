"""The leaderboard: rebuilt from every run record under an output folder (never appended to), so it
always agrees with the records, whichever runs were added, redone or deleted."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from rich.table import Table

from genbench.records import METRICS_FILE, RUNS_DIR, atomic_write_text, read_json

LEADERBOARD_FILE = "leaderboard.csv"
RUN_COLUMNS = [
    "dataset",
    "model",
    "seed",
    "status",
    "budget_kimg",
    "kimg",
    "steps",
    "stopped_by",
    "train_seconds",
    "wall_seconds",
    "device",
    "run_id",
]


def load_records(out: Path) -> list[dict[str, Any]]:
    """The ``metrics.json`` of every finished run under ``out``, in run-id order."""
    records = []
    for path in sorted((out / RUNS_DIR).glob(f"*/{METRICS_FILE}")):
        try:
            records.append(read_json(path))
        except (OSError, json.JSONDecodeError) as error:
            warnings.warn(f"skipping unreadable run record {path}: {error}", stacklevel=2)
    return records


def records_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per run: the run columns, then every metric, sorted by dataset and first metric."""
    rows = [{**{c: r.get(c) for c in RUN_COLUMNS}, **r.get("metrics", {})} for r in records]
    frame = pd.DataFrame(rows)
    metrics = metric_columns(frame)
    frame = frame.reindex(columns=RUN_COLUMNS + metrics)
    return frame.sort_values(["dataset", *metrics[:1], "model", "seed"], ignore_index=True)


def metric_columns(frame: pd.DataFrame) -> list[str]:
    """The metric columns of a leaderboard frame, in a stable order."""
    return sorted(c for c in frame.columns if c not in RUN_COLUMNS)


def rebuild_leaderboard(out: Path) -> pd.DataFrame:
    """Rebuild ``<out>/leaderboard.csv`` from all run records and return it."""
    frame = records_frame(load_records(out))
    atomic_write_text(out / LEADERBOARD_FILE, frame.to_csv(index=False))
    return frame


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """Per dataset and model: seeds, kimg, wall seconds and each metric as ``mean ± std`` over seeds."""
    metrics = metric_columns(frame)
    rows = []
    for (dataset, model), group in frame.groupby(["dataset", "model"], sort=False):
        row: dict[str, Any] = {
            "dataset": dataset,
            "model": model,
            "seeds": len(group),
            "kimg": group["kimg"].mean(),
            "wall_seconds": group["wall_seconds"].mean(),
        }
        for metric in metrics:
            row[metric] = mean_std(group[metric])
        rows.append(row)
    return pd.DataFrame(rows)


def mean_std(values: pd.Series) -> str:
    """``mean ± std`` (sample std) over seeds; just the mean for one seed; empty for none."""
    values = values.dropna().astype(float)
    if values.empty:
        return ""
    if len(values) == 1:
        return f"{values.iloc[0]:.4g}"
    return f"{values.mean():.4g} ± {values.std(ddof=1):.2g}"


def render(frame: pd.DataFrame, fmt: str) -> str | Table:
    """The frame as CSV or Markdown text, or a rich table."""
    if fmt == "csv":
        return frame.to_csv(index=False)
    if fmt == "markdown":
        return frame.to_markdown(index=False, floatfmt=".4g")
    table = Table(show_lines=False)
    for column in frame.columns:
        table.add_column(str(column), justify="left" if frame[column].dtype == object else "right")
    for row in frame.itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    return table


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
