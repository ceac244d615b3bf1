"""Where a sweep's seconds went, as rows of the closing table of ``genbench run``: a run's record
says it by phase (``phase_seconds``), the table groups the phases (:data:`PHASE_ROWS`).

Preparing a dataset (loading it, the reference classifier, the real-data floor) is done once per
dataset and shared by its runs: its seconds are shown once, under the dataset's floor, not under each
model as if each had spent them."""

from __future__ import annotations

from typing import Any

import pandas as pd

from genbench.core.layout import FLOOR_MODEL
from genbench.core.record import RunRecord

PREPARE_ROW = "seconds prepare"
# Rows of the closing table, by groups of a record's phase_seconds keys (a prefix ends in "/").
PHASE_ROWS = {
    PREPARE_ROW: "prepare/",
    "seconds train": "train",
    "seconds eval during training": "eval_during_training",
    "seconds sample": "sample",
    "seconds pictures": "pictures",
    "seconds checkpoints": "checkpoints",
    "seconds eval": "metric/",
}


def with_phase_seconds(summary: pd.DataFrame, records: list[RunRecord]) -> pd.DataFrame:
    """``summary`` with a ``seconds <phase>`` column per :data:`PHASE_ROWS` entry: the mean over a
    row's runs (its seeds) of the seconds of that phase; the preparation's on the dataset's floor row
    only (every run of a dataset repeats the same figure). A phase no run recorded is left out."""
    if summary.empty:
        return summary
    totals: dict[tuple[Any, ...], list[dict[str, float]]] = {}
    prepare: dict[str, float] = {}
    for record in records:
        if not record.phase_seconds:  # A record written before phases were timed: blank, not zero.
            continue
        row = {name: _phase(record.phase_seconds, key) for name, key in PHASE_ROWS.items()}
        prepare.setdefault(record.dataset, row.pop(PREPARE_ROW))
        totals.setdefault((record.dataset, record.model, record.setup), []).append(row)
    keys = list(zip(summary["dataset"], summary["model"], summary["setup"], strict=True))
    shown_for: set[str] = set()  # Datasets whose preparation a floor row already shows.
    column = []
    for dataset, model in zip(summary["dataset"], summary["model"], strict=True):
        first = model == FLOOR_MODEL and dataset not in shown_for
        shown_for |= {dataset} if first else set()
        column.append(prepare.get(dataset) if first else None)
    summary[PREPARE_ROW] = column
    for name in PHASE_ROWS:
        if name == PREPARE_ROW:
            continue
        values = [_mean([row[name] for row in totals[key]]) if key in totals else None for key in keys]
        if any(value is not None and value > 0 for value in values):
            summary[name] = values
    return summary


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _phase(phases: dict[str, float], key: str) -> float:
    """The seconds of ``key`` (a prefix ending in ``/`` sums its keys)."""
    return sum(v for k, v in phases.items() if k == key or (key.endswith("/") and k.startswith(key)))
