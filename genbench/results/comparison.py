"""Comparison plots of every run under an output folder, one folder of PNGs per dataset.

Under ``<out>/plots/<dataset>/``:

* ``bars_<metric>.png``: one bar per model (per model and setup, labelled ``model [setup]``, where a
  model has runs of several budgets or hyperparameters), the mean over its finished seeds with the
  sample std as an error bar (none for a single seed), and the real-data floor as a dashed line;
* ``eval_vs_kimg.png`` and ``eval_vs_seconds.png``: every ``eval/<metric>`` the runs logged during
  training, against images shown and against training seconds (quality per compute). Each seed is its
  own thin line in its model's colour rather than a mean over seeds: seeds log at slightly different
  kimg and very different seconds, so a mean would need interpolation that could invent a curve.

Only finished runs count; failed or diverged runs are left out. Figures are built like
:mod:`genbench.figures.curves` (Agg canvas, no ``pyplot``, fixed size, atomic writes).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from genbench.core.files import read_jsonl
from genbench.core.layout import FLOOR_MODEL, PLOTS_DIR, RUNS_DIR, TRAIN_LOG_FILE
from genbench.core.metrics import higher_is_better, is_spread
from genbench.figures.curves import (
    EVAL_PREFIX,
    KIMG_LABEL,
    log_frame,
    metric_label,
    new_figure,
    panel_grid,
    save_figure,
)
from genbench.results.leaderboard import metric_columns, read_records, records_frame, variant_labels

FINISHED = "finished"
EVAL_X = {"kimg": ("eval_vs_kimg.png", KIMG_LABEL), "seconds": ("eval_vs_seconds.png", "training seconds")}
SEED_LINE_WIDTH = 1.0


def write_comparison_plots(out: Path) -> dict[str, list[Path]]:
    """Draw the comparison plots of every dataset with runs under ``out``; return dataset -> PNGs
    written (datasets with nothing to draw are left out)."""
    # Damaged records are left out of the plots; the report that draws them lists those records.
    frame = records_frame(read_records(out).records)
    if frame.empty:
        return {}
    # Spreads (the std columns) are figures to read, not to compare.
    metrics = [m for m in metric_columns(frame) if not is_spread(m)]
    written: dict[str, list[Path]] = {}
    for dataset, rows in frame.groupby("dataset", sort=True):
        folder = out / PLOTS_DIR / str(dataset)
        # A model with runs of several setups (budgets, hyperparameters) gets a bar and colour per setup.
        runs = finished_runs(rows)
        runs = runs.assign(model=variant_labels(runs))
        floor = rows[rows["model"] == FLOOR_MODEL]
        models = sorted(runs["model"].astype(str).unique())  # Fixes each model's colour on every figure.
        paths = []
        for metric in metrics:
            stats = seed_stats(runs, metric)
            if stats.empty:
                continue
            path = folder / f"bars_{metric.replace('/', '_')}.png"
            _write_bars(path, str(dataset), metric, stats, _floor_value(floor, metric), models)
            paths.append(path)
        paths += _write_eval_lines(folder, str(dataset), eval_logs(out, runs), models)
        for stale in set(folder.glob("*.png")) - set(paths):  # A plot no longer drawn must not linger.
            stale.unlink()
        if paths:
            written[str(dataset)] = paths
    return written


def finished_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of finished model runs: no floor, nothing failed or diverged."""
    return frame[(frame["status"] == FINISHED) & (frame["model"] != FLOOR_MODEL)]


def seed_stats(runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per model (index): ``mean``, ``std`` (sample std, 0 for one seed) and ``seeds`` of ``metric``
    over its finite values, best model first; empty when no run has a finite value."""
    values = runs[["model", metric]].replace([np.inf, -np.inf], np.nan).dropna()
    stats = values.groupby("model")[metric].agg(["mean", "std", "count"]).rename(columns={"count": "seeds"})
    stats["std"] = stats["std"].fillna(0.0)
    return stats.sort_values("mean", ascending=not higher_is_better(metric), kind="stable")


def eval_logs(out: Path, runs: pd.DataFrame) -> pd.DataFrame:
    """The ``eval/`` rows of the runs' training logs: columns model, run_id, kimg, seconds and one per
    ``eval/<metric>`` key; empty when no run logged one."""
    frames = []
    for run in runs.itertuples(index=False):
        log = out / RUNS_DIR / str(run.run_id) / TRAIN_LOG_FILE
        if not log.exists():
            continue
        steps = log_frame(read_jsonl(log))
        keys = [k for k in steps.columns if k.startswith(EVAL_PREFIX)]
        if keys and {"kimg", "seconds"} <= set(steps.columns):
            rows = steps[["kimg", "seconds", *keys]].dropna(subset=keys, how="all")
            frames.append(rows.assign(model=run.model, run_id=run.run_id))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _floor_value(floor: pd.DataFrame, metric: str) -> float | None:
    """The first finite floor value of ``metric`` (one floor per protocol; the leaderboard lists the
    current one first)."""
    values = floor[metric].replace([np.inf, -np.inf], np.nan).dropna()
    return float(values.iloc[0]) if not values.empty else None


def _write_bars(
    path: Path, dataset: str, metric: str, stats: pd.DataFrame, floor: float | None, models: list[str]
) -> None:
    figure = new_figure(f"{dataset}: {metric_label(metric)}; mean ± std over seeds of finished runs")
    ax = figure.add_subplot()
    x = np.arange(len(stats))
    ax.bar(x, stats["mean"], color=[_colour(model, models) for model in stats.index])
    several = (stats["seeds"] > 1).to_numpy()  # One seed has no spread to show.
    spread = stats[several]
    ax.errorbar(x[several], spread["mean"], yerr=spread["std"], fmt="none", ecolor="black", capsize=6)
    if floor is not None:
        ax.axhline(floor, color="black", linestyle="--", linewidth=1.2, label="real data floor")
        ax.legend()
    ax.set_xticks(x, [f"{model}\n({n} seed{'s' * (n > 1)})" for model, n in stats["seeds"].items()])
    ax.set_ylabel(metric)
    ax.grid(axis="y", alpha=0.3)
    save_figure(figure, path)


def _write_eval_lines(folder: Path, dataset: str, logs: pd.DataFrame, models: list[str]) -> list[Path]:
    """``eval_vs_kimg.png`` and ``eval_vs_seconds.png``, or nothing when there are no eval rows."""
    if logs.empty:
        return []
    keys = sorted(k for k in logs.columns if k.startswith(EVAL_PREFIX))
    paths = []
    for x, (name, xlabel) in EVAL_X.items():
        figure = new_figure(f"{dataset}: evaluation during training against {xlabel}, one line per seed")
        for ax, key in zip(panel_grid(figure, len(keys)), keys, strict=True):
            _draw_seed_lines(ax, logs, key, x, models)
            ax.set_xlabel(xlabel)
        paths.append(folder / name)
        save_figure(figure, paths[-1])
    return paths


def _draw_seed_lines(ax: Axes, logs: pd.DataFrame, key: str, x: str, models: list[str]) -> None:
    labelled: set[str] = set()
    for (model, _), run in logs.groupby(["model", "run_id"], sort=True):
        points = run[[x, key]].dropna().sort_values(x)
        if points.empty:
            continue
        label = None if model in labelled else model  # One legend entry per model, not per seed.
        labelled.add(str(model))
        style = {"color": _colour(model, models), "linewidth": SEED_LINE_WIDTH, "markersize": 3}
        ax.plot(points[x], points[key], "o-", label=label, **style)
    metric = key.removeprefix(EVAL_PREFIX)
    ax.set_title(metric)
    ax.set_ylabel(metric_label(metric))
    ax.grid(alpha=0.3)
    if labelled:
        ax.legend(fontsize="small")


def _colour(model: object, models: list[str]) -> str:
    """A model's colour: its rank among the dataset's model names, so it is the same on every figure."""
    return f"C{models.index(str(model)) % 10}"
