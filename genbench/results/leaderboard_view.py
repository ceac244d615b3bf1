"""How a leaderboard frame (genbench.results.leaderboard) is shown: CSV, Markdown, or rich tables that fit the
terminal.

A leaderboard has a dozen metric columns; squeezed into one terminal-wide table, rich folds every
header and number into a column of single letters. Instead the columns are laid out in blocks, each
block a table as wide as the terminal allows, every block repeating the columns that say which row is
which (dataset, model, seed; the figure's name in a table on its side), as pandas prints a wide frame.
"""

from __future__ import annotations

import difflib
from typing import Any

import pandas as pd
from rich.console import Group
from rich.table import Table
from rich.text import Text

from genbench.core.metrics import bound_of, is_spread
from genbench.errors import UserError
from genbench.results.floors import floor_labels, is_floor, several_floors
from genbench.results.leaderboard import (
    NOT_FINISHED,
    OUTCOME_COLUMNS,
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
    rows, no setup columns unless a model has several setups (or a dataset several floors), no figure
    nobody has, no spreads (unless sorted by one), no run's interval ends; csv and markdown have all.
    Where a run failed or diverged, its status and the first line of its error are shown."""
    failures = "status" in frame.columns and bool(frame["status"].isin(NOT_FINISHED).any())
    shown = set(SETUP_COLUMNS) | ({"status", "error"} if failures else set())
    drop = [c for c in TERMINAL_HIDDEN if c in frame.columns and c not in shown]
    if failures and "error" in frame.columns:
        frame = frame.assign(error=frame["error"].map(first_line))
    if not several_setups(frame) and not several_floors(frame):
        drop += [c for c in SETUP_COLUMNS if c in frame.columns]
    drop += [c for c in PROTOCOL_COLUMNS if c in frame.columns and frame[c].nunique(dropna=False) <= 1]
    for column in value_columns(frame):
        if column != by and (_empty(frame[column]) or is_spread(column) or bound_of(column) is not None):
            drop.append(column)
    frame = frame.drop(columns=list(dict.fromkeys(drop)))
    for count in (c for c in OUTCOME_COLUMNS if c in frame.columns):  # A floor has no seeds: a blank,
        frame = frame.assign(**{count: frame[count].astype("Int64").mask(is_floor(frame))})  # not a 0.
    return frame


def first_line(error: Any) -> Any:
    """The first line of an error message (the rest is in the record and the run's error.log)."""
    return error.strip().splitlines()[0] if isinstance(error, str) and error.strip() else error


def choose_columns(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Only the columns ``names``, in that order, after those that say which row is which (dataset,
    model, seed; setup where a model has several); a name the frame lacks is a user error listing
    the columns it has (with the nearest, where one is close)."""
    unknown = [name for name in names if name not in frame.columns]
    if unknown:
        close = difflib.get_close_matches(unknown[0], [str(c) for c in frame.columns], n=1)
        nearest = f" (did you mean {close[0]}?)" if close else ""
        listed = ", ".join(map(str, frame.columns))
        raise UserError(f"unknown column '{unknown[0]}' for --columns{nearest}; columns: {listed}")
    keys = [c for c in ("dataset", "model", "seed") if c in frame.columns]
    if "setup" in frame.columns and (several_setups(frame) or several_floors(frame)):
        keys.append("setup")
    return frame[list(dict.fromkeys([*keys, *names]))]


def by_model(frame: pd.DataFrame) -> pd.DataFrame:
    """A summary turned on its side, one column per dataset/model (and setup, where a model has
    several) and one row per figure: a dozen metrics read better down than across."""
    labels = (frame["dataset"].astype(str) + "/" + floor_labels(frame, variant_labels(frame))).tolist()
    body = frame.drop(columns=["dataset", "model"]).astype(object)
    body = body.where(body.notna(), None).T
    body.columns = labels
    return body.rename_axis("").reset_index()


def render(frame: pd.DataFrame, fmt: str, width: int = 200) -> str | Group:
    """The frame as CSV, JSON (a list of rows, null where empty) or Markdown text (without the columns
    no row fills), or as rich tables no wider than ``width`` characters."""
    if fmt == "csv":
        return frame.to_csv(index=False)
    if fmt == "json":
        return frame.to_json(orient="records", indent=2, force_ascii=False) + "\n"
    if fmt == "markdown":  # Missing values (None for tabulate) as empty cells, not "nan".
        frame = frame.drop(columns=[c for c in frame.columns if _empty(frame[c])])
        return frame.astype(object).where(frame.notna(), None).to_markdown(index=False, floatfmt=".4g") + "\n"
    cells = frame.map(_cell)
    keys = [c for c in frame.columns if c in KEY_COLUMNS]
    needed = {str(c): max([_header_width(str(c), c in keys), *cells[c].str.len()]) for c in frame.columns}
    blocks = column_blocks(needed, keys, width)
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


def _header_width(header: str, key: bool) -> int:
    """What a header needs: its length for a key column (never wrapped), else its longest word (rich
    wraps a header between words)."""
    return len(header) if key else max((len(word) for word in header.split()), default=0)


def _empty(column: pd.Series) -> bool:
    """Whether no row has a value in ``column``."""
    return bool((column.isna() | (column.astype(str) == "")).all())


def _cell(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
