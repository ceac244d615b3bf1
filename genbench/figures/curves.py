"""Training curves of one run, drawn from its ``train.jsonl`` into PNGs beside it.

Three figures, each skipped when it would be empty:

* ``curves_losses.png``: every ``loss*`` scalar on one axis (all networks together);
* ``curves_estimates.png``: every other scalar the model logs (its own divergence estimates and
  diagnostics), one panel each, with its held-out ``test/<key>`` points on the same panel;
* ``curves_eval.png``: every ``eval/<metric>`` measured during training, one panel each.

Dense training scalars are drawn raw but faint with an exponential moving average on top; the sparse
``test/`` and ``eval/`` points are drawn as they are. Figures are built on :class:`Figure` with the
Agg canvas, never through ``pyplot``: no global state, no display, safe from any thread.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from genbench.core.files import atomic_write, read_jsonl
from genbench.core.layout import FIGURES, TRAIN_LOG_FILE
from genbench.core.metrics import higher_is_better

FIGURE_INCHES = (12.0, 7.0)
DPI = 100  # With FIGURE_INCHES: every PNG is 1200 x 700 pixels.
# Span (in log rows) of the exponential moving average drawn over dense series: alpha = 2 / (span + 1),
# so the last ~10 rows carry most of the weight; enough to read a noisy GAN loss, short enough to keep
# its turns.
SMOOTHING_SPAN = 10
RAW_ALPHA = 0.25  # The unsmoothed series, faint under the smoothed one.
PANEL_COLUMNS = 3
AXIS_KEYS = ("step", "kimg", "seconds")
TEST_PREFIX = "test/"
EVAL_PREFIX = "eval/"
KIMG_LABEL = "kimg (thousands of real images shown)"
_SMOOTHING_NOTE = f"faint: raw, bold: moving average over ~{SMOOTHING_SPAN} log rows"
_FIGURE_TITLES = {
    "losses": f"training losses ({_SMOOTHING_NOTE})",
    "estimates": f"the model's own estimates, train ({_SMOOTHING_NOTE}) and held-out",
    "eval": "evaluation during training",
}

Panels = dict[str, list[str]]  # Panel title -> the log keys drawn on it.


def write_run_curves(run_dir: Path) -> list[Path]:
    """Draw the curves of the run in ``run_dir`` from its ``train.jsonl``; return the PNGs written
    (none when there is no log). The log itself is only read."""
    log = run_dir / TRAIN_LOG_FILE
    if not log.exists():
        return []
    frame = log_frame(read_jsonl(log))
    if "kimg" not in frame.columns:
        return []
    written = []
    for name, panels in group_series(frame.columns).items():
        figure = new_figure(f"{run_dir.name}: {_FIGURE_TITLES[name]}")
        if name == "losses":
            _draw_panel(figure.add_subplot(), frame, panels["losses"], ylabel="loss")
        else:
            axes = panel_grid(figure, len(panels))
            for ax, (title, keys) in zip(axes, panels.items(), strict=True):
                _draw_panel(ax, frame, keys, ylabel=title, title=title)
        path = run_dir / FIGURES[name]
        save_figure(figure, path)
        written.append(path)
    return written


def log_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The numeric scalars of a training log, one row per log row; a value that is missing, not a
    number or not finite (a diverged loss) is NaN, and a column with no finite value is dropped."""
    frame = pd.DataFrame(rows)
    frame = frame.apply(pd.to_numeric, errors="coerce").astype(float)
    frame = frame.where(np.isfinite(frame))
    return frame.dropna(axis="columns", how="all")


def group_series(keys: Iterable[str]) -> dict[str, Panels]:
    """Which log keys go on which figure and panel; a figure with no key is left out.

    ``losses`` has the one panel ``"losses"`` with every ``loss*`` key and its ``test/`` counterpart;
    ``estimates`` one panel per other un-prefixed key, with its ``test/`` counterpart, plus one per
    ``test/`` key with no training counterpart; ``eval`` one panel per ``eval/`` key.
    """
    keys = [k for k in keys if k not in AXIS_KEYS]
    train = [k for k in keys if "/" not in k]
    held_out = {k.removeprefix(TEST_PREFIX) for k in keys if k.startswith(TEST_PREFIX)}
    with_test = {k: [k, TEST_PREFIX + k] if k in held_out else [k] for k in train}

    losses = [key for k in train if k.startswith("loss") for key in with_test[k]]
    estimates = {k: with_test[k] for k in train if not k.startswith("loss")}
    estimates |= {k: [TEST_PREFIX + k] for k in sorted(held_out - set(train))}
    # Anything under another prefix is a scalar a model chose to namespace: a panel of its own.
    estimates |= {k: [k] for k in keys if "/" in k and not k.startswith((TEST_PREFIX, EVAL_PREFIX))}
    evals = {k.removeprefix(EVAL_PREFIX): [k] for k in keys if k.startswith(EVAL_PREFIX)}
    groups = {"losses": {"losses": losses} if losses else {}, "estimates": estimates, "eval": evals}
    return {name: panels for name, panels in groups.items() if panels}


def smooth(values: pd.Series) -> pd.Series:
    """The exponential moving average drawn over a dense series (span :data:`SMOOTHING_SPAN` rows)."""
    return values.ewm(span=SMOOTHING_SPAN).mean()


def new_figure(title: str) -> Figure:
    """A figure of the fixed size with an Agg canvas and ``title`` on top."""
    figure = Figure(figsize=FIGURE_INCHES, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(title)
    return figure


def panel_grid(figure: Figure, n: int) -> list[Axes]:
    """``n`` panels in rows of up to :data:`PANEL_COLUMNS`."""
    columns = min(n, PANEL_COLUMNS)
    rows = -(-n // columns)
    return [figure.add_subplot(rows, columns, i + 1) for i in range(n)]


def save_figure(figure: Figure, path: Path) -> None:
    """Render ``figure`` as a PNG of exactly ``FIGURE_INCHES * DPI`` pixels and write it atomically."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    atomic_write(path, lambda f: f.write(buffer.getvalue()))


def metric_label(metric: str) -> str:
    """A metric's name with the direction that is better, for an axis label or title."""
    return f"{metric} ({'higher' if higher_is_better(metric) else 'lower'} is better)"


def _draw_panel(ax: Axes, frame: pd.DataFrame, keys: list[str], ylabel: str, title: str = "") -> None:
    """Each key over kimg, over the rows that have it; a ``test/`` key in the colour of its training key."""
    colours: dict[str, str] = {}
    for key in keys:
        points = frame[["kimg", key]].dropna()
        base = key.removeprefix(TEST_PREFIX)
        colour = colours.setdefault(base, f"C{len(colours)}")
        if "/" in key:  # Sparse points (held-out, evaluation): drawn as measured.
            label = f"{base} (held-out)" if key.startswith(TEST_PREFIX) else key.split("/", 1)[1]
            ax.plot(points["kimg"], points[key], "o--", color=colour, markersize=4, label=label)
        else:
            ax.plot(points["kimg"], points[key], color=colour, alpha=RAW_ALPHA, linewidth=0.8)
            ax.plot(points["kimg"], smooth(points[key]), color=colour, linewidth=1.8, label=key)
    if title:
        ax.set_title(title)
    ax.set_xlabel(KIMG_LABEL)
    ax.set_ylabel(metric_label(ylabel) if keys[0].startswith(EVAL_PREFIX) else ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
