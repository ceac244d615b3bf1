"""One compact chart per metric: a row per model (per setup), a dot per seed, the mean with its 95%
interval (genbench.results.statistics), the real-data floor as a dashed line, and a log axis where the
values span decades. Drawn to be read at the size the report shows it (:data:`CHART_INCHES` wide,
at the PNG's own resolution), each model in its own colour (genbench.figures.palette).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from genbench.core.metrics import arrow, column_spec, direction
from genbench.figures.curves import new_figure, save_figure
from genbench.figures.palette import FLOOR_COLOUR, model_colour
from genbench.results.report_numbers import number
from genbench.results.statistics import SeedSummary

CHART_INCHES = 4.0  # Three charts side by side on a 1280-px page.
ROW_INCHES = 0.42  # Per model row, room for a two-line label.
FRAME_INCHES = 0.95  # Title, axis and tick labels.
LOG_SPAN = 20.0  # A log axis where the largest value is this many times the smallest (all positive).
LABEL_CHARACTERS = 22  # Row labels wrap at this width.
SEED_SPREAD = 0.3  # Seeds' dots are this far apart at most above and below their row: told apart.


@dataclass(frozen=True)
class ChartRow:
    """One row of a chart: the model as labelled, its plugin name (its colour) and its seeds' values."""

    label: str
    model: str
    summary: SeedSummary


def uses_log_axis(values: Iterable[float]) -> bool:
    """Whether a chart of ``values`` (the seeds' values, intervals and floor) has a log axis: all
    positive, and spanning at least :data:`LOG_SPAN` times (a floor of 46 on a 0-7000 axis is a line
    on the axis; on a log axis it has room)."""
    finite = [v for v in values if math.isfinite(v)]
    return bool(finite) and min(finite) > 0 and max(finite) >= LOG_SPAN * min(finite)


def chart_values(rows: list[ChartRow], floor: float | None) -> list[float]:
    """Every value a chart draws: seeds, interval ends and floor."""
    values = [v for row in rows for v in row.summary.values]
    values += [v for row in rows for v in (row.summary.lo, row.summary.hi) if v is not None]
    return values + ([floor] if floor is not None else [])


def write_metric_chart(path: Path, metric: str, rows: list[ChartRow], floor: float | None) -> None:
    """Draw the chart of ``metric`` (rows top to bottom in the order given) to ``path``."""
    height = FRAME_INCHES + ROW_INCHES * max(len(rows), 1)
    figure = new_figure("", (CHART_INCHES, height))
    ax = figure.add_subplot()
    for index, row in enumerate(rows):
        _draw_row(ax, len(rows) - 1 - index, row)
    values = chart_values(rows, floor)
    log = uses_log_axis(values)
    if floor is not None:
        ax.axvline(floor, color=FLOOR_COLOUR, linestyle="--", linewidth=1)
        ax.annotate(
            "floor", (floor, 1), xycoords=("data", "axes fraction"), xytext=(2, -2),
            textcoords="offset points", fontsize=7, va="top", ha="left",
        )  # fmt: skip
    _limits(ax, values, log)
    ax.set_yticks(range(len(rows)), [_wrapped(row) for row in reversed(rows)], fontsize=8)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    # The direction's first clause: "no better side" fits a panel, the caption says the rest.
    ax.set_title(f"{metric}  {arrow(metric)} {direction(metric).split(':')[0]}", fontsize=9, loc="left")
    spec = column_spec(metric)
    unit = spec[1].unit if spec else ""
    ax.set_xlabel(f"{metric} ({unit})" if unit else metric, fontsize=8)
    ax.tick_params(axis="x", which="both", labelsize=7)
    ax.grid(axis="x", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    save_figure(figure, path)


def _draw_row(ax: Axes, y: int, row: ChartRow) -> None:
    """The row's seeds as dots, its mean as a tick and its interval as a line through it."""
    colour = model_colour(row.model)
    summary = row.summary
    n = len(summary.values)
    step = min(0.12, 2 * SEED_SPREAD / (n - 1)) if n > 1 else 0.0
    offsets = [(i - (n - 1) / 2) * step for i in range(n)]
    ax.scatter(
        summary.values, [y + o for o in offsets], s=22, color=colour, alpha=0.85,
        edgecolors="white", linewidths=0.5, zorder=3,
    )  # fmt: skip
    if summary.lo is None or summary.hi is None:  # One seed: its dot is the value; no interval.
        return
    ax.plot([summary.lo, summary.hi], [y, y], color=colour, linewidth=2, solid_capstyle="butt", zorder=1)
    ax.plot([summary.mean], [y], marker="|", markersize=14, markeredgewidth=1.5, color="black", zorder=2)


def _limits(ax: Axes, values: list[float], log: bool) -> None:
    """x limits that hold every value with a margin; a log scale where :func:`uses_log_axis` says so."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return
    low, high = min(finite), max(finite)
    if log:
        ax.set_xscale("log")
        ratio = (high / low) ** 0.08
        ax.set_xlim(low / ratio, high * ratio)
        # Plain numbers (20, 500, 1e4), not powers of ten; minor ticks labelled at 2 and 5 where the
        # axis spans few decades and has few major ticks.
        few = math.log10(high / low) < 2.5
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: number(v)))
        minor = FuncFormatter(lambda v, _: number(v) if few and _leading(v) in (2, 5) else "")
        ax.xaxis.set_minor_formatter(minor)
        return
    margin = (high - low) * 0.08 or max(abs(high) * 0.1, 0.05)
    ax.set_xlim(low - margin, high + margin)


def _leading(value: float) -> int:
    """The first significant digit of a positive number."""
    return int(f"{value:e}"[0])


def _wrapped(row: ChartRow) -> str:
    """A row's tick label: the model's label, wrapped, and its number of seeds."""
    seeds = f"{row.summary.n} seed{'s' * (row.summary.n != 1)}"
    return "\n".join([*textwrap.wrap(row.label, LABEL_CHARACTERS), seeds])
