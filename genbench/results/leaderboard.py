"""The leaderboard: rebuilt from every run record under an output folder (never appended to), so it
always agrees with the records, whichever runs were added, redone or deleted.

One row per run, plus one real-data floor row per dataset and protocol (model ``(real data floor)``,
first in its dataset), one per scored sample set (``external:<label>``) and one per evaluation of a
finished run by ``genbench eval``: the run's model and seed, its ``evaluation`` column saying what
differs from the run's own evaluation, and a ``setup`` of its own (the run's setup with the evaluation
options), so that the summary pools it only with the same evaluation of the run's other seeds.
Protocol columns say what the metrics were measured against and with which weights; each run's
``metrics.json`` holds the full protocol of every metric."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from genbench.core.files import atomic_write_text, is_read_only, remove_temporaries
from genbench.core.layout import (
    EVALS_DIR,
    FLOOR_MODEL,
    FLOORS_DIR,
    LEADERBOARD_FILE,
    LEADERBOARD_LOCK,
    METRICS_FILE,
    RUNS_DIR,
    SCORES_DIR,
)
from genbench.core.locks import Lock
from genbench.core.metrics import bound_of, column_order, column_spec, higher_is_better, is_ranked, stem_of
from genbench.core.record import EXTERNAL_PREFIX, RecordError, RunRecord
from genbench.errors import UserError
from genbench.results.floors import floor_groups, floor_protocol
from genbench.results.folder_readme import write_folder_readme
from genbench.results.over_seeds import summary_cells
from genbench.results.records import read_record_file
from genbench.results.setup_labels import setup_names

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
    "evaluation",  # `genbench eval`'s: what differs from the run's own evaluation; blank for that one.
    "nfe",  # Network evaluations per sample under the sampling options; blank before records had it.
    "error",
]
# From a record's "protocol_summary": the reference images and the extractors' weights (hash prefixes).
PROTOCOL_COLUMNS = ["reference_split", "n_reference", "inception_weights", "classifier_weights"]
# The columns that tell runs of one model apart when they are different experiments (genbench.results.report).
SETUP_COLUMNS = ["setup", "evaluation", "budget_kimg"]
# The metric a leaderboard is sorted by when none is chosen: the first of these stems present.
DEFAULT_SORT_STEMS = ("fd_clf", "fid")
# summarise()'s counts: the seeds that finished, and the runs that failed or diverged.
OUTCOME_COLUMNS = ["seeds", "failed"]
NOT_FINISHED = ("failed", "diverged")
# The columns of a record's during_training (the cheap metric of --eval-every): its final and best values
# are metric columns ("final_fd_clf_1k"), the kimg where the best was reached is not.
FINAL_PREFIX, BEST_PREFIX, BEST_KIMG = "final_", "best_", "best_kimg"


@dataclass
class RecordSet:
    """The records read from an output folder, and the files that could not be read, with why."""

    records: list[RunRecord] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # One line each: the file and its problem.


def read_records(out: Path) -> RecordSet:
    """The record of every run under ``out`` in run-id order, then the floors, the scored sample sets
    (genbench score) and the runs' later evaluations (genbench eval); a damaged record is left out and
    listed in ``unreadable``."""
    found = RecordSet()
    runs = [(path, path.parent.name) for path in sorted((out / RUNS_DIR).glob(f"*/{METRICS_FILE}"))]
    floors = [(path, path.stem) for path in sorted((out / FLOORS_DIR).glob("*.json"))]
    scores = [(path, path.stem) for path in sorted((out / SCORES_DIR).glob("*.json"))]
    evals = [(path, path.stem) for path in sorted((out / EVALS_DIR).glob("*.json"))]
    # A record is its folder's (or file's) own, not a copy of another.
    for path, run_id in runs + floors + scores + evals:
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
            **({"setup": floor_protocol(r)} if r.model == FLOOR_MODEL else {}),  # Floors apart by it.
            "evaluation": (r.evaluation or {}).get("label"),
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
    # Integers, blank where absent (the floor has no seed, an older record no NFE).
    for column in ("seed", "steps", "n_reference", "nfe"):
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
    others = [*RUN_COLUMNS, *PROTOCOL_COLUMNS, *OUTCOME_COLUMNS]
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
    ranked = [column for column in metrics if is_ranked(column)]  # Never a diagnostic by default.
    return (ranked or metrics or [None])[0]


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
        lock = Lock(out / LEADERBOARD_LOCK)
        lock.acquire()
    except OSError as error:
        if not is_read_only(error):
            raise
        return _leaderboard(out, unreadable)
    try:
        frame = _leaderboard(out, unreadable)
        remove_temporaries(out, LEADERBOARD_FILE)  # Of a rebuild killed mid-write; none is being written.
        try:
            write_folder_readme(out)  # On first use: what each file and folder here is.
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


def summarise(frame: pd.DataFrame, by: str | None = None, numeric: bool = False) -> pd.DataFrame:
    """Per dataset, model, setup and protocol: seeds that finished, runs that did not (``failed``:
    failed or diverged), kimg, wall seconds and each figure over the finished seeds as
    ``mean ± half-width (n seeds)``, the 95% Student t interval (genbench.results.over_seeds; with
    ``numeric``, the mean, the interval's ends, the median and the per-seed values as columns of their
    own); per dataset the floors first (one row each, never averaged), then best first by the mean of
    ``by``.

    Runs of one model with another budget, other hyperparameters or another evaluation (another
    ``setup``; a ``genbench eval`` of the run has its own) are another row, never more seeds."""
    figures = [c for c in value_columns(frame) if bound_of(c) is None]  # Runs' intervals: not over seeds.
    column = sort_column(frame, by)
    frame = frame.assign(_group=floor_groups(frame))
    keys = ["dataset", "model", "setup", "_group", *(c for c in PROTOCOL_COLUMNS if c in frame.columns)]
    rows = []
    for _, group in frame.groupby(keys, sort=False, dropna=False):
        group = group.sort_values("seed", kind="stable")  # Per-seed values in seed order.
        first = group.iloc[0]
        done = group[~group["status"].isin(NOT_FINISHED)]  # Failed runs have no metrics to average.
        row: dict[str, Any] = {
            "dataset": first["dataset"],
            "model": first["model"],
            "setup": first["setup"],
            "evaluation": first.get("evaluation"),
            "budget_kimg": first["budget_kimg"],
            "seeds": int(done["seed"].notna().sum()),
            "failed": int(group["status"].isin(NOT_FINISHED).sum()),
            "kimg": done["kimg"].mean(),
            "wall_seconds": done["wall_seconds"].mean(),
            "_sort": done[column].mean() if column else None,
        }
        row.update({c: first[c] for c in PROTOCOL_COLUMNS if c in frame.columns})
        for figure in figures:
            row.update(summary_cells(figure, done[figure], _one_measurement(first["model"]), numeric))
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


def _one_measurement(model: object) -> bool:
    """Whether a row is one measurement, not seeds: a real-data floor, or a sample set scored by
    ``genbench score`` (model ``external:<label>``)."""
    return model == FLOOR_MODEL or str(model).startswith(EXTERNAL_PREFIX)


def several_setups(frame: pd.DataFrame) -> bool:
    """Whether some model has runs of more than one setup on one dataset in ``frame``."""
    return bool((variant_labels(frame) != frame["model"].astype(str)).any())


def variant_labels(frame: pd.DataFrame, configs: Mapping[str, Mapping[str, Any]] | None = None) -> pd.Series:
    """Per row, the name to show for its model: the model's name, followed by what differs where the
    model has runs of several setups on the row's dataset (different experiments, shown apart):
    ``dcgan [kimg 40]`` vs ``dcgan [kimg 4]``. What differs is read from the runs' ``configs`` (by run
    id, :func:`genbench.results.setup_labels.run_configs`) where given, else from the frame; a record
    older than setups counts as one more setup, ``[unrecorded]``, as :func:`summarise` groups it."""
    labels = frame["model"].astype(str)
    names = setup_names(frame, configs)
    return labels.where(names == "", labels + " [" + names + "]")
