"""A leaderboard figure over a model's seeds, as ``leaderboard --summary`` shows it
(genbench.results.leaderboard.summarise): in a table one cell, ``mean ± half-width (n seeds)`` with the
95% Student t interval of the mean (``mean (one seed: no interval)`` for one seed); in CSV and JSON
numeric columns: the mean, the interval's ends, the median, the number of seeds and every seed's value
(genbench.results.statistics.seed_summary computes them). The real-data floor is one measurement, not
seeds: its value is shown as it is."""

from __future__ import annotations

from typing import Any

import pandas as pd

from genbench.core.metrics import LOWER, UPPER
from genbench.results.statistics import format_seed_summary, seed_summary

# Suffixes of the numeric columns beside a figure's mean (LOWER and UPPER: its interval's ends).
MEDIAN, SEEDS, VALUES = "_median", "_seeds", "_values"
VALUE_SEPARATOR = ";"  # Between the per-seed values of a CSV cell, in seed order.


def summary_cells(name: str, values: pd.Series, floor: bool, numeric: bool) -> dict[str, Any]:
    """The summary's columns for figure ``name`` over ``values`` (one per seed, in seed order; missing
    ones left out): ``{name: cell}`` for a table, or the numeric columns where ``numeric``."""
    summary = seed_summary(pd.to_numeric(values, errors="coerce").astype(float).tolist())
    if not numeric:
        if floor:  # One measurement of real data: no mean, no interval across seeds.
            return {name: "" if summary.n == 0 else f"{summary.mean:.4g}"}
        return {name: format_seed_summary(summary)}
    cells: dict[str, Any] = {
        name: summary.mean if summary.n else None,
        f"{name}{LOWER}": summary.lo,
        f"{name}{UPPER}": summary.hi,
    }
    if not floor:
        cells[f"{name}{MEDIAN}"] = summary.median if summary.n else None
        cells[f"{name}{SEEDS}"] = summary.n
        cells[f"{name}{VALUES}"] = VALUE_SEPARATOR.join(f"{value:.10g}" for value in summary.values)
    return cells
