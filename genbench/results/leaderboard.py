"""The leaderboard: rebuilt from every run record under an output folder (never appended to), so it
always agrees with the records, whichever runs were added, redone or deleted.

One row per run, plus one real-data floor row per dataset and protocol (model ``(real data floor)``,
first in its dataset). Protocol columns say what the metrics were measured against and with which
weights; each run's ``metrics.json`` holds the full protocol of every metric."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock

from genbench.core.files import atomic_write_text, is_read_only, remove_temporaries
from genbench.core.layout import (
    FLOOR_MODEL,
    FLOORS_DIR,
    LEADERBOARD_FILE,
    LEADERBOARD_LOCK,
    METRICS_FILE,
    RUNS_DIR,
)
from genbench.core.metrics import column_order, column_spec, higher_is_better, stem_of
from genbench.core.record import RecordError, RunRecord
from genbench.errors import UserError
from genbench.results.records import read_record_file

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
    "setup",
    "error",
]
# From a record's "protocol_summary": the reference images and the extractors' weights (hash prefixes).
PROTOCOL_COLUMNS = ["reference_split", "n_reference", "inception_weights", "classifier_weights"]
# The columns that tell runs of one model apart when they are different experiments (genbench.results.report).
SETUP_COLUMNS = ["setup", "budget_kimg"]
# The metric a leaderboard is sorted by when none is chosen: the first of these stems present.
DEFAULT_SORT_STEMS = ("fd_clf", "fid")
# The columns of a record's during_training (the cheap metric of --eval-every): its final and best values
# are metric columns ("final_fd_clf_1k"), the kimg where the best was reached is not.
FINAL_PREFIX, BEST_PREFIX, BEST_KIMG = "final_", "best_", "best_kimg"


@dataclass
class RecordSet:
    """The records read from an output folder, and the files that could not be read, with why."""

    records: list[RunRecord] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # One line each: the file and its problem.


def read_records(out: Path) -> RecordSet:
    """The record of every run under ``out`` in run-id order, then the floors; a damaged record is
    left out and listed in ``unreadable``."""
    found = RecordSet()
    runs = [(path, path.parent.name) for path in sorted((out / RUNS_DIR).glob(f"*/{METRICS_FILE}"))]
    floors = [(path, path.stem) for path in sorted((out / FLOORS_DIR).glob("*.json"))]
    for path, run_id in runs + floors:  # A record is its folder's (or file's) own, not a copy of another.
        try:
            found.records.append(read_record_file(path, expected_run_id=run_id))
        except RecordError as error:
            found.unreadable.append(str(error))
    return found


def records_frame(records: Iterable[RunRecord], by: str | None = None) -> pd.DataFrame:
    """One row per run: the run columns, the protocol columns, then every metric; per dataset the floor
    first, then the runs best first by ``by`` (default: the reference-classifier FD)."""
    rows = [
        {
            **{c: getattr(r, c) for c in RUN_COLUMNS},
            **{c: r.protocol_summary.get(c) for c in PROTOCOL_COLUMNS},
            **r.metrics,
            **during_training_columns(r),
        }
        for r in records
    ]
    frame = pd.DataFrame(rows)
    frame = frame.reindex(columns=RUN_COLUMNS + PROTOCOL_COLUMNS + value_columns(frame))
    for column in value_columns(frame):  # JSON null (a metric that could not be computed) -> NaN.
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    for column in ("seed", "steps", "n_reference"):  # Integers, blank where absent (the floor has no seed).
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Int64")
    return sort_frame(frame, by)


def during_training_columns(record: RunRecord) -> dict[str, Any]:
    """The cheap metric of ``--eval-every`` as columns: its final value, the best one (``best_...``) and
    the kimg where the best was reached (``best_kimg``): GANs are often best long before the end."""
    during = record.during_training or {}
    metric = during.get("metric")
    if not metric:
        return {}
    return {
        f"{FINAL_PREFIX}{metric}": during.get("final"),
        f"{BEST_PREFIX}{metric}": during.get("best"),
        BEST_KIMG: during.get("best_kimg"),
    }


def value_columns(frame: pd.DataFrame) -> list[str]:
    """The columns after the run and protocol columns, related ones together: the metrics, then other
    figures (best_kimg, a record's metric the table does not know, the summary's seconds)."""
    others = [*RUN_COLUMNS, *PROTOCOL_COLUMNS, "seeds"]  # "seeds": summarise()'s count.
    return column_order([c for c in frame.columns if c not in others])


def metric_columns(frame: pd.DataFrame) -> list[str]:
    """The metric columns of a frame, related ones together: the metric table's, at the end of training
    or during it (``final_fd_clf_1k``)."""
    return [c for c in value_columns(frame) if is_metric_column(c)]


def is_metric_column(column: str) -> bool:
    """Whether a leaderboard column holds a metric of the table, at the end of training or during it."""
    for prefix in (FINAL_PREFIX, BEST_PREFIX):
        if column.startswith(prefix) and column_spec(column.removeprefix(prefix)) is not None:
            return True
    return column_spec(column) is not None


def sort_column(frame: pd.DataFrame, by: str | None) -> str | None:
    """The metric to sort by: ``by``, checked (a user error naming the metric columns if unknown), or
    the default one present."""
    metrics = metric_columns(frame)
    if by is not None:
        if by not in metrics:
            raise UserError(f"unknown metric '{by}' for --by; metric columns: {', '.join(metrics) or 'none'}")
        return by
    for stem in DEFAULT_SORT_STEMS:
        for column in metrics:
            if stem_of(column) == stem:
                return column
    return metrics[0] if metrics else None


def sort_frame(frame: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Per dataset: the floor row first, then best first by the chosen metric (missing values last)."""
    column = sort_column(frame, by)
    keys = frame.assign(_floor=frame["model"] != FLOOR_MODEL)
    order = ["dataset", "_floor", "model", "seed"]
    ascending = [True, True, True, True]
    if column is not None:
        order.insert(2, column)
        ascending.insert(2, not higher_is_better(column))
    keys = keys.sort_values(order, ascending=ascending, na_position="last", kind="stable")
    return frame.loc[keys.index].reset_index(drop=True)


def rebuild_leaderboard(out: Path, unreadable: list[str] | None = None) -> pd.DataFrame:
    """Rebuild ``<out>/leaderboard.csv`` from all run records and return it; the records that could
    not be read are left out and, one line each, appended to ``unreadable``.

    Under a lock: processes sharing ``out`` take turns, so the last rebuild sees every record. In a
    folder that cannot be written the leaderboard is only returned."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock = FileLock(out / LEADERBOARD_LOCK)
        lock.acquire()
    except OSError as error:
        if not is_read_only(error):
            raise
        return _leaderboard(out, unreadable)
    try:
        frame = _leaderboard(out, unreadable)
        remove_temporaries(out, LEADERBOARD_FILE)  # Of a rebuild killed mid-write; none is being written.
        try:
            atomic_write_text(out / LEADERBOARD_FILE, frame.to_csv(index=False))
        except OSError as error:
            if not is_read_only(error):
                raise
    finally:
        lock.release()
    return frame


def _leaderboard(out: Path, unreadable: list[str] | None) -> pd.DataFrame:
    found = read_records(out)
    if unreadable is not None:
        unreadable += found.unreadable
    return records_frame(found.records)


def summarise(frame: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Per dataset, model, setup and protocol: seeds, kimg, wall seconds and each metric as
    ``mean ± std`` over seeds; per dataset the floor first, then best first by the mean of ``by``.

    Runs of one model with another budget, other hyperparameters or another evaluation (another
    ``setup``) are another row, never more seeds. Runs that failed or diverged have no metrics and are
    left out (the full leaderboard lists them with their error)."""
    frame = frame[(frame["status"] == "finished") | (frame["model"] == FLOOR_MODEL)]
    figures = value_columns(frame)
    column = sort_column(frame, by)
    keys = ["dataset", "model", "setup", *(c for c in PROTOCOL_COLUMNS if c in frame.columns)]
    rows = []
    for _, group in frame.groupby(keys, sort=False, dropna=False):
        first = group.iloc[0]
        row: dict[str, Any] = {
            "dataset": first["dataset"],
            "model": first["model"],
            "setup": first["setup"],
            "budget_kimg": first["budget_kimg"],
            "seeds": int(group["seed"].notna().sum()),
            "kimg": group["kimg"].mean(),
            "wall_seconds": group["wall_seconds"].mean(),
            "_sort": group[column].mean() if column else None,
        }
        row.update({c: first[c] for c in PROTOCOL_COLUMNS if c in frame.columns})
        for figure in figures:
            row[figure] = mean_std(group[figure])
        rows.append(row)
    summary = pd.DataFrame(rows)
    if summary.empty:
        return summary
    summary["_floor"] = summary["model"] != FLOOR_MODEL
    ascending = not higher_is_better(column) if column else True
    summary = summary.sort_values(
        ["dataset", "_floor", "_sort", "model"], ascending=[True, True, ascending, True], na_position="last"
    )
    return summary.drop(columns=["_floor", "_sort"]).reset_index(drop=True)


def mean_std(values: pd.Series) -> str:
    """``mean ± std`` (sample std) over seeds; just the mean for one seed; empty for none."""
    values = pd.to_numeric(values, errors="coerce").dropna().astype(float)
    if values.empty:
        return ""
    if len(values) == 1:
        return f"{values.iloc[0]:.4g}"
    return f"{values.mean():.4g} ± {values.std(ddof=1):.2g}"


def several_setups(frame: pd.DataFrame) -> bool:
    """Whether some model has runs of more than one setup on one dataset in ``frame``."""
    return bool((variant_labels(frame) != frame["model"].astype(str)).any())


def variant_labels(frame: pd.DataFrame) -> pd.Series:
    """Per row, the name to show for its model: the model's name, followed by ``[setup]`` where the
    model has runs of several setups on the row's dataset (different experiments, shown apart; a
    record older than setups counts as one more, ``[unrecorded]``, as :func:`summarise` groups it)."""
    labels = frame["model"].astype(str)
    if "setup" not in frame.columns:
        return labels
    setups = frame["setup"].astype(object).where(frame["setup"].notna(), "unrecorded").astype(str)
    counts = setups.groupby([frame["dataset"], frame["model"]], dropna=False).transform("nunique")
    several = (counts > 1) & (frame["model"] != FLOOR_MODEL)
    return labels.where(~several, labels + " [" + setups + "]")


# Rows of the closing table: where a run's seconds went, by groups of its record's phase_seconds keys.
PHASE_ROWS = {
    "seconds prepare": "prepare/",
    "seconds train": "train",
    "seconds sample": "sample",
    "seconds pictures": "pictures",
    "seconds eval": "metric/",
}


def with_phase_seconds(summary: pd.DataFrame, records: list[RunRecord]) -> pd.DataFrame:
    """``summary`` with a ``seconds <phase>`` column per :data:`PHASE_ROWS` entry: the mean over a
    row's runs (its seeds) of the seconds of that phase (a prefix ending in ``/`` sums its keys)."""
    if summary.empty:
        return summary
    totals: dict[tuple[Any, ...], list[dict[str, float]]] = {}
    for record in records:
        phases = record.phase_seconds
        if not phases:  # A record written before phases were timed: blank, not zero.
            continue
        row = {
            name: sum(v for k, v in phases.items() if k == key or (key.endswith("/") and k.startswith(key)))
            for name, key in PHASE_ROWS.items()
        }
        totals.setdefault((record.dataset, record.model, record.setup), []).append(row)
    keys = list(zip(summary["dataset"], summary["model"], summary["setup"], strict=True))
    for name in PHASE_ROWS:
        summary[name] = [
            pd.Series([row[name] for row in totals[key]]).mean() if key in totals else None for key in keys
        ]
    return summary
