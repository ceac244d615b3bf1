"""Comparison plots of every run under an output folder, one folder of PNGs per dataset.

Under ``<out>/plots/<dataset>/``:

* ``metric_<metric>.png``: one compact chart per metric (genbench.results.metric_chart), a row per
  model (per model and setup, labelled by what differs, ``dcgan [kimg 40]``, where a model has runs of
  several budgets or hyperparameters), a dot per finished seed, the mean with its 95% interval (none
  for a single seed), and the real-data floor as a dashed line;
* ``eval_vs_kimg.png`` and ``eval_vs_seconds.png``: every ``eval/<metric>`` the runs logged during
  training, against images shown and against training seconds (quality per compute). Each seed is its
  own thin line in its model's colour rather than a mean over seeds: seeds log at slightly different
  kimg and very different seconds, so a mean would need interpolation that could invent a curve.

Only finished runs count; failed or diverged runs are left out. A model has the same colour on every
figure (genbench.figures.palette). Figures are built like :mod:`genbench.figures.curves` (Agg canvas,
no ``pyplot``, atomic writes).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from genbench.core.files import read_jsonl
from genbench.core.layout import FLOOR_MODEL, PLOTS_DIR, RUNS_DIR, TRAIN_LOG_FILE
from genbench.core.metrics import column_spec, higher_is_better, is_spread
from genbench.figures.curves import (
    EVAL_PREFIX,
    KIMG_LABEL,
    axis_label,
    log_frame,
    new_figure,
    panel_grid,
    panel_inches,
    save_figure,
)
from genbench.figures.palette import model_colour
from genbench.results.leaderboard import metric_columns, read_records, records_frame, variant_labels
from genbench.results.metric_chart import ChartRow, write_metric_chart
from genbench.results.setup_labels import run_configs
from genbench.results.statistics import seed_summary

FINISHED = "finished"
EVAL_X = {
    "kimg": ("eval_vs_kimg.png", KIMG_LABEL),
    "seconds": ("eval_vs_seconds.png", "training seconds (optimisation only)"),  # train.jsonl's seconds.
}
CHART_PREFIX = "metric_"  # metric_<column>.png: one chart per metric.
SEED_LINE_WIDTH = 1.0


def write_comparison_plots(out: Path) -> dict[str, list[Path]]:
    """Draw the comparison plots of every dataset with runs under ``out``; return dataset -> PNGs
    written (datasets with nothing to draw are left out)."""
    # Damaged records are left out of the plots; the report that draws them lists those records.
    frame = records_frame(read_records(out).records)
    if frame.empty:
        return {}
    # The summary's columns (genbench.results.report_summary): spreads (the std columns) are figures to
    # read, not to compare; the values measured during training have their own curves.
    metrics = [m for m in metric_columns(frame) if column_spec(m) is not None and not is_spread(m)]
    configs = run_configs(out, frame["run_id"])  # To name each setup by what differs.
    written: dict[str, list[Path]] = {}
    for dataset, rows in frame.groupby("dataset", sort=True):
        folder = out / PLOTS_DIR / str(dataset)
        # A model with runs of several setups (budgets, hyperparameters) gets a row per setup.
        runs = finished_runs(rows.assign(label=variant_labels(rows, configs)))
        floor = rows[rows["model"] == FLOOR_MODEL]
        paths = []
        for metric in metrics:
            chart = chart_rows(runs, metric)
            if not chart:
                continue
            path = folder / f"{CHART_PREFIX}{metric.replace('/', '_')}.png"
            write_metric_chart(path, metric, chart, _floor_value(floor, metric))
            paths.append(path)
        paths += _write_eval_lines(folder, str(dataset), eval_logs(out, runs))
        for stale in set(folder.glob("*.png")) - set(paths):  # A plot no longer drawn must not linger.
            stale.unlink()
        if paths:
            written[str(dataset)] = paths
    return written


def finished_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of finished model runs: no floor, nothing failed or diverged."""
    return frame[(frame["status"] == FINISHED) & (frame["model"] != FLOOR_MODEL)]


def chart_rows(runs: pd.DataFrame, metric: str) -> list[ChartRow]:
    """A metric chart's rows: per model label (column ``label``), its finite values over seeds, best
    mean first; none when no run has a finite value."""
    values = runs[["label", "model", metric]].replace([np.inf, -np.inf], np.nan).dropna()
    rows = [
        ChartRow(str(label), str(group["model"].iloc[0]), seed_summary(group[metric].astype(float).tolist()))
        for label, group in values.groupby("label", sort=True)
    ]
    sign = -1 if higher_is_better(metric) else 1
    return sorted(rows, key=lambda row: sign * row.summary.mean)


def eval_logs(out: Path, runs: pd.DataFrame) -> pd.DataFrame:
    """The ``eval/`` rows of the runs' training logs: columns model, label, run_id, kimg, seconds and one
    per ``eval/<metric>`` key; empty when no run logged one."""
    frames = []
    for run in runs.itertuples(index=False):
        log = out / RUNS_DIR / str(run.run_id) / TRAIN_LOG_FILE
        if not log.exists():
            continue
        steps = log_frame(read_jsonl(log))
        keys = [k for k in steps.columns if k.startswith(EVAL_PREFIX)]
        if keys and {"kimg", "seconds"} <= set(steps.columns):
            rows = steps[["kimg", "seconds", *keys]].dropna(subset=keys, how="all")
            frames.append(rows.assign(model=run.model, label=run.label, run_id=run.run_id))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _floor_value(floor: pd.DataFrame, metric: str) -> float | None:
    """The first finite floor value of ``metric`` (one floor per protocol; the leaderboard lists the
    current one first)."""
    values = floor[metric].replace([np.inf, -np.inf], np.nan).dropna()
    return float(values.iloc[0]) if not values.empty else None


def _write_eval_lines(folder: Path, dataset: str, logs: pd.DataFrame) -> list[Path]:
    """``eval_vs_kimg.png`` and ``eval_vs_seconds.png``, or nothing when there are no eval rows."""
    if logs.empty:
        return []
    keys = sorted(k for k in logs.columns if k.startswith(EVAL_PREFIX))
    paths = []
    for x, (name, xlabel) in EVAL_X.items():
        title = f"{dataset}: evaluation during training, one line per seed"
        figure = new_figure(title, panel_inches(len(keys)))
        for ax, key in zip(panel_grid(figure, len(keys)), keys, strict=True):
            _draw_seed_lines(ax, logs, key, x)
            ax.set_xlabel(xlabel if len(keys) == 1 else x, fontsize=8)
        if len(keys) > 1:  # One long label for the figure: side by side, the panels' would overlap.
            figure.supxlabel(xlabel, fontsize=8)
        paths.append(folder / name)
        save_figure(figure, paths[-1])
    return paths


def _draw_seed_lines(ax: Axes, logs: pd.DataFrame, key: str, x: str) -> None:
    labelled: set[str] = set()
    for (label, _), run in logs.groupby(["label", "run_id"], sort=True):
        points = run[[x, key]].dropna().sort_values(x)
        if points.empty:
            continue
        legend = None if label in labelled else label  # One legend entry per model, not per seed.
        labelled.add(str(label))
        colour = model_colour(str(run["model"].iloc[0]))
        width = SEED_LINE_WIDTH
        ax.plot(points[x], points[key], "o-", label=legend, color=colour, linewidth=width, markersize=3)
    metric = key.removeprefix(EVAL_PREFIX)
    ax.set_title(metric, fontsize=9)
    ax.set_ylabel(axis_label(metric), fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    if labelled:
        ax.legend(fontsize=7)
