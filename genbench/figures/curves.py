"""Training curves of one run, drawn from its ``train.jsonl`` into PNGs beside it.

Three figures, each skipped when it would be empty:

* ``curves_losses.png``: every ``loss*`` scalar on one axis (all networks together);
* ``curves_estimates.png``: every other scalar the model logs (its own divergence estimates and
  diagnostics), one panel each, with its held-out ``test/<key>`` points on the same panel;
* ``curves_eval.png``: every ``eval/<metric>`` measured during training, one panel each.

Training scalars and their held-out ``test/`` points are drawn raw but faint, each with the same
centred moving mean on top (:func:`smooth`): a trailing average lags behind the raw values and would
open a train/held-out gap that the values do not have. For the same reason a training scalar, the mean
over the steps of its log interval, is drawn at the middle of that interval (:func:`interval_middles`),
a held-out point where it was measured. ``eval/`` points are drawn as measured. Each figure's title
names the run by its dataset, model and seed, and says how it was smoothed.

Figures are built on :class:`Figure` with the Agg canvas, never through ``pyplot``: no global state,
no display, safe from any thread. They are drawn at the size the report shows them (their PNG
records :data:`DPI`, from which the report takes that size) and stored with the fixed palette of
genbench.figures.palette: a line drawing loses nothing visible by it and takes a third of the bytes.
Each PNG carries a stamp of what drew it from what (:func:`drawn_from`): the report redraws a figure
only where its stamp is not the current one (a log that grew, an older genbench), not every figure of
every run of a results folder each time (issue 22).
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image, PngImagePlugin

from genbench.core.files import atomic_write, read_json, read_jsonl
from genbench.core.layout import CONFIG_FILE, FIGURES, TRAIN_LOG_FILE
from genbench.core.metrics import column_spec, direction
from genbench.figures.palette import figure_palette

FIGURE_INCHES = (6.3, 3.6)  # One row of panels: shown this size (605 x 346 CSS px), two side by side.
PANEL_INCHES = 2.2  # The height of each row of panels.
DPI = 120  # A little sharper than the screen's pixels; the report shows a figure at its size in inches.
# The centred moving mean drawn over a series: the mean of the values within half a window of each
# point, the window this fraction of the run's kimg. Centred, it does not lag; the same window for train
# and held-out, so the two stay comparable. Enough to read a noisy GAN loss, short enough to keep its
# turns; a sparse held-out series (a point per several windows) is left as it is.
SMOOTHING_FRACTION = 0.05
RAW_ALPHA = 0.25  # The unsmoothed series, faint under the smoothed one.
PANEL_COLUMNS = 3
AXIS_KEYS = ("step", "kimg", "seconds")
TEST_PREFIX = "test/"
STAMP_KEY = "genbench-curves"  # The PNG text chunk that holds a figure's stamp (drawn_from).
EVAL_PREFIX = "eval/"
KIMG_LABEL = "kimg (thousands of real images shown)"
_FIGURE_TITLES = {
    "losses": "training losses",
    "estimates": "the model's own estimates, train and held-out",
    "eval": "evaluation during training (as measured)",
}

Panels = dict[str, list[str]]  # Panel title -> the log keys drawn on it.


def write_run_curves(run_dir: Path, redraw: bool = True) -> list[Path]:
    """Draw the curves of the run in ``run_dir`` from its ``train.jsonl``; return the PNGs written
    (none when there is no log). ``redraw=False`` leaves a figure whose stamp says it was drawn from
    this very log and config by this genbench and matplotlib. The log itself is only read."""
    log = run_dir / TRAIN_LOG_FILE
    if not log.exists():
        return []
    frame = log_frame(read_jsonl(log))
    if "kimg" not in frame.columns:
        return []
    window = smoothing_window(frame["kimg"])
    stamp = curves_stamp(run_dir)
    written = []
    for name, panels in group_series(frame.columns).items():
        path = run_dir / FIGURES[name]
        if not redraw and drawn_from(path) == stamp:
            continue
        title = f"{run_title(run_dir)}: {_FIGURE_TITLES[name]}"
        if name != "eval":
            title += f"\n{smoothing_note(window)}"
        figure = new_figure(title, panel_inches(len(panels)))
        axes = panel_grid(figure, len(panels))
        for ax, (panel, keys) in zip(axes, panels.items(), strict=True):
            _draw_panel(ax, frame, keys, window, title="" if name == "losses" else panel)
            ax.set_xlabel(KIMG_LABEL if len(panels) == 1 else "kimg", fontsize=8)
        if len(panels) > 1:  # One long label for the figure: side by side, the panels' would overlap.
            figure.supxlabel(KIMG_LABEL, fontsize=8)
        save_figure(figure, path, stamp)
        written.append(path)
    return written


def curves_stamp(run_dir: Path) -> str:
    """What a run's curves are drawn from and by: the versions of genbench and matplotlib, and a hash
    of its log and config (its title) as they are now."""
    digest = hashlib.sha256()
    for name in (TRAIN_LOG_FILE, CONFIG_FILE):
        try:
            digest.update((run_dir / name).read_bytes())
        except OSError:
            digest.update(b"missing")
        digest.update(b"\0")
    return f"genbench {_version()}, matplotlib {matplotlib.__version__}, sha256 {digest.hexdigest()}"


def drawn_from(path: Path) -> str | None:
    """The stamp a figure was saved with (:func:`curves_stamp`); None for a missing, unreadable or
    unstamped one."""
    try:
        with Image.open(path) as image:
            stamp = image.info.get(STAMP_KEY)
    except (OSError, ValueError):  # ValueError: a damaged PNG chunk.
        return None
    return stamp if isinstance(stamp, str) else None


def _version() -> str:
    try:
        return metadata.version("genbench")
    except metadata.PackageNotFoundError:  # A source tree on sys.path, not installed.
        return "unknown"


def run_title(run_dir: Path) -> str:
    """The run as a reader names it, from its ``config.json``: ``digits · dcgan · seed 0``; the folder
    name where the config cannot be read."""
    try:
        config = read_json(run_dir / CONFIG_FILE)
    except (OSError, ValueError):  # ValueError: JSON and UnicodeDecode errors.
        return run_dir.name
    if not isinstance(config, dict) or not {"dataset", "model", "seed"} <= set(config):
        return run_dir.name
    return f"{config['dataset']} · {config['model']} · seed {config['seed']}"


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


def smoothing_window(kimg: pd.Series) -> float:
    """The width in kimg of the centred moving mean: :data:`SMOOTHING_FRACTION` of the kimg logged."""
    finite = kimg.dropna()
    return float(finite.max() - finite.min()) * SMOOTHING_FRACTION if len(finite) else 0.0


def smoothing_note(window: float) -> str:
    """How a figure's series are smoothed, for its title and caption."""
    return (
        "faint: raw, train values (each a log interval's mean) at the middle of their interval\n"
        f"bold: centred mean over {window:.2g} kimg, the same for train and held-out (no lag)"
    )


def interval_middles(kimg: pd.Series) -> pd.Series:
    """Where a training scalar's log rows are drawn: each is the mean over the steps since the row
    before (the first, since 0 kimg), so at the middle of that interval, not at its end."""
    return (kimg.shift(1, fill_value=0.0) + kimg) / 2


def smooth(x: pd.Series, y: pd.Series, window: float) -> pd.Series:
    """The centred moving mean of ``y`` over ``x`` (sorted): at each point, the mean of the values whose
    ``x`` lies within ``window / 2`` of its own; never later values only, so it does not lag."""
    xs, ys = x.to_numpy(dtype=float), y.to_numpy(dtype=float)
    sums = np.concatenate([[0.0], np.cumsum(ys)])
    low = np.searchsorted(xs, xs - window / 2, side="left")
    high = np.searchsorted(xs, xs + window / 2, side="right")
    return pd.Series((sums[high] - sums[low]) / (high - low), index=y.index)


def new_figure(title: str, inches: tuple[float, float] = FIGURE_INCHES) -> Figure:
    """A figure of ``inches`` with an Agg canvas and ``title`` (if any) on top."""
    figure = Figure(figsize=inches, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    if title:
        figure.suptitle(title, fontsize=10)
    return figure


def panel_inches(n: int) -> tuple[float, float]:
    """The size of a figure of ``n`` panels: :data:`FIGURE_INCHES` wide, a row per three panels."""
    rows = max(1, math.ceil(n / PANEL_COLUMNS))
    return FIGURE_INCHES[0], FIGURE_INCHES[1] if rows == 1 else 0.8 + PANEL_INCHES * rows


def panel_grid(figure: Figure, n: int) -> list[Axes]:
    """``n`` panels in rows of up to :data:`PANEL_COLUMNS`."""
    columns = min(n, PANEL_COLUMNS)
    rows = -(-n // columns)
    return [figure.add_subplot(rows, columns, i + 1) for i in range(n)]


def save_figure(figure: Figure, path: Path, stamp: str | None = None) -> None:
    """Render ``figure`` as a PNG at :data:`DPI` (recorded in the file), in the figures' palette
    (genbench.figures.palette.figure_palette), with ``stamp`` as its :data:`STAMP_KEY` text where
    given, and write it atomically."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    buffer.seek(0)
    with Image.open(buffer) as image:
        reduced = image.convert("RGB").quantize(palette=figure_palette(), dither=Image.Dither.NONE)
    output = io.BytesIO()
    text = PngImagePlugin.PngInfo()
    if stamp is not None:
        text.add_text(STAMP_KEY, stamp)
    reduced.save(output, format="png", optimize=True, dpi=(DPI, DPI), pnginfo=text)
    atomic_write(path, lambda f: f.write(output.getvalue()))


def axis_label(key: str) -> str:
    """A panel's y label: the key, with the better direction and unit for a metric of the table."""
    spec = column_spec(key)
    if spec is None:
        return key
    unit = f"; {spec[1].unit}" if spec[1].unit else ""
    return f"{key} ({direction(key)}{unit})"


def _draw_panel(ax: Axes, frame: pd.DataFrame, keys: list[str], window: float, title: str = "") -> None:
    """Each key over kimg, over the rows that have it; a ``test/`` key in the colour of its training key.
    Training and held-out series are drawn alike (raw, faint, with the centred mean on top); eval
    points as measured."""
    colours: dict[str, str] = {}
    for key in keys:
        points = frame[["kimg", key]].dropna().sort_values("kimg")
        base = key.removeprefix(TEST_PREFIX)
        colour = colours.setdefault(base, f"C{len(colours)}")
        if key.startswith(EVAL_PREFIX):
            label = key.removeprefix(EVAL_PREFIX)
            ax.plot(points["kimg"], points[key], "o-", color=colour, markersize=4, label=label)
            continue
        held_out = key.startswith(TEST_PREFIX)
        label = f"{base} (held-out)" if held_out else key
        x = points["kimg"] if held_out else interval_middles(points["kimg"])
        style = "o" if held_out else "-"
        ax.plot(x, points[key], style, color=colour, alpha=RAW_ALPHA, markersize=3, linewidth=0.8)
        smoothed = smooth(x, points[key], window)
        ax.plot(x, smoothed, "--" if held_out else "-", color=colour, linewidth=1.8, label=label)
    if title:
        ax.set_title(title, fontsize=9)
    ylabel = "loss" if keys[0].startswith("loss") else axis_label(keys[0].removeprefix(EVAL_PREFIX))
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
