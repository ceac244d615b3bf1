"""How a leaderboard frame (genbench.results.leaderboard) is shown: CSV, Markdown, or rich tables that fit the
terminal.

A leaderboard has a dozen metric columns; squeezed into one terminal-wide table, rich folds every
header and number into a column of single letters. Instead the columns are laid out in blocks, each
block a table as wide as the terminal allows, every block repeating the columns that say which row is
which (dataset, model, seed; the figure's name in a table on its side), as pandas prints a wide frame.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from rich.console import Group
from rich.table import Table
from rich.text import Text

from genbench.core.layout import FLOOR_MODEL
from genbench.core.metrics import bound_of, is_spread
from genbench.results.leaderboard import (
    PROTOCOL_COLUMNS,
    SETUP_COLUMNS,
    several_setups,
    value_columns,
    variant_labels,
)

# Left out of the terminal view (bookkeeping), kept in csv and markdown.
TERMINAL_HIDDEN = [
    "status",
    "budget_kimg",
    "steps",
    "stopped_by",
    "train_seconds",
    "device",
    "run_id",
    "error",
]
# Repeated in every block of a table too wide for the terminal: they say which row is which.
# "" is the figure-name column of a table turned on its side (by_model).
KEY_COLUMNS = ("", "dataset", "model", "seed", "setup")
# What a column costs besides its text: one space of padding each side and one border line.
_COLUMN_EXTRA = 3


def terminal_view(frame: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """The columns worth a terminal: no bookkeeping, no protocol columns unless they differ between
    rows, no setup columns unless a model has several setups, no figure nobody has, no spreads (unless
    sorted by one), no run's interval ends; csv and markdown have all."""
    drop = [c for c in TERMINAL_HIDDEN if c in frame.columns and c not in SETUP_COLUMNS]
    if not several_setups(frame):
        drop += [c for c in SETUP_COLUMNS if c in frame.columns]
    drop += [c for c in PROTOCOL_COLUMNS if c in frame.columns and frame[c].nunique(dropna=False) <= 1]
    for column in value_columns(frame):
        empty = (frame[column].isna() | (frame[column] == "")).all()
        if column != by and (empty or is_spread(column) or bound_of(column) is not None):
            drop.append(column)
    frame = frame.drop(columns=list(dict.fromkeys(drop)))
    if "seeds" in frame.columns:  # The floor has no seeds: a blank, not a 0 that reads like seed 0.
        frame = frame.assign(seeds=frame["seeds"].astype("Int64").mask(frame["model"] == FLOOR_MODEL))
    return frame


def by_model(frame: pd.DataFrame) -> pd.DataFrame:
    """A summary turned on its side, one column per dataset/model (and setup, where a model has
    several) and one row per figure: a dozen metrics read better down than across."""
    labels = (frame["dataset"].astype(str) + "/" + variant_labels(frame)).tolist()
    body = frame.drop(columns=["dataset", "model"]).astype(object)
    body = body.where(body.notna(), None).T
    body.columns = labels
    return body.rename_axis("").reset_index()


def render(frame: pd.DataFrame, fmt: str, width: int = 200) -> str | Group:
    """The frame as CSV, JSON (one object per row) or Markdown text, or as rich tables no wider than
    ``width`` characters."""
    if fmt == "csv":
        return frame.to_csv(index=False)
    if fmt == "json":  # Missing values as null.
        return frame.to_json(orient="records", indent=1) + "\n"
    if fmt == "markdown":  # Missing values (None for tabulate) as empty cells, not "nan".
        return frame.astype(object).where(frame.notna(), None).to_markdown(index=False, floatfmt=".4g") + "\n"
    cells = frame.map(_cell)
    keys = [c for c in frame.columns if c in KEY_COLUMNS]
    blocks = column_blocks(
        {str(c): max([len(str(c)), *cells[c].str.len()]) for c in frame.columns}, keys, width
    )
    return Group(*(_table(frame, cells, keys + block) for block in blocks))


def column_blocks(widths: dict[str, int], keys: list[str], width: int) -> list[list[str]]:
    """The non-key columns of ``widths`` (name -> text width), in order, cut into blocks that fit
    ``width`` characters next to the ``keys`` columns; every block has at least one column."""
    base = 1 + sum(widths[k] + _COLUMN_EXTRA for k in keys)  # 1: the table's left border.
    blocks: list[list[str]] = [[]]
    used = base
    for column in (c for c in widths if c not in keys):
        cost = widths[column] + _COLUMN_EXTRA
        if blocks[-1] and used + cost > width:
            blocks.append([])
            used = base
        blocks[-1].append(column)
        used += cost
    return blocks


def _table(frame: pd.DataFrame, cells: pd.DataFrame, columns: list[str]) -> Table:
    table = Table(show_lines=False)
    for column in columns:
        justify = "right" if pd.api.types.is_numeric_dtype(frame[column]) else "left"
        # Text, not markup: "model [setup]" and error messages print as they are.
        table.add_column(Text(str(column)), justify=justify, no_wrap=column in KEY_COLUMNS, overflow="fold")
    for row in cells[columns].itertuples(index=False):
        table.add_row(*(Text(value) for value in row))
    return table


def _cell(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
