"""What ``genbench plugins`` prints: every installed model, dataset and tracker, and the plugins that failed.

Names are never cut: a user greps for them and types them into ``--models``. A terminal gets a rich
table whose short columns keep their full width, the description (last) wrapping in what is left; a
pipe or a log gets plain aligned text, one line per plugin, the description last.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from genbench.core.registry import Registry

HEADER = ("name", "kind", "conditional", "distribution", "version", "description")
Row = Sequence[str]
MIN_DESCRIPTION = 30  # Narrower, a description wraps into a column of single words: put it under its row.


def plugin_rows(registry: Registry) -> list[Row]:
    """One row per model, dataset, conflicting and broken plugin, in the columns of :data:`HEADER`."""
    rows: list[Row] = []
    for entry in registry.entries():
        conditional = "" if entry.conditional is None else ("yes" if entry.conditional else "no")
        rows.append(
            (entry.name, entry.kind, conditional, entry.distribution, entry.version, entry.description)
        )
    for entry, reason in registry.conflicting():  # Listed, so the user sees which packages to choose from.
        rows.append((entry.name, entry.kind, "", entry.distribution, entry.version, f"CONFLICT: {reason}"))
    for broken in registry.broken:  # Shown, not hidden: a plugin the user installed is missing.
        error = f"BROKEN: {broken.error}"
        rows.append((broken.name, "broken", "", broken.distribution, broken.version, error))
    return rows


def plain_listing(rows: Sequence[Row]) -> str:
    """Aligned plain text: a header line, then one line per row, the description whole at the end."""
    table = [HEADER, *rows]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(HEADER) - 1)]
    lines = []
    for row in table:
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, " ".join(str(row[-1]).split())]).rstrip())
    return "\n".join(lines) + "\n"


def rich_listing(rows: Sequence[Row], width: int = 200) -> RenderableType:
    """For a terminal ``width`` characters wide: a rich table whose columns but the description keep
    their full width, never cut; where that would leave the description fewer than
    :data:`MIN_DESCRIPTION` characters, the plain columns with each description wrapped under its row."""
    widths = [max(len(name), *(len(str(row[i])) for row in rows)) for i, name in enumerate(HEADER[:-1])]
    if width - sum(w + 3 for w in widths) - 4 < MIN_DESCRIPTION:
        return Text(_stacked(rows, width))
    table = Table()
    for name, column_width in zip(HEADER, widths, strict=False):
        table.add_column(name, no_wrap=True, min_width=column_width)
    table.add_column(HEADER[-1], overflow="fold", ratio=1)
    for row in rows:
        table.add_row(*(Text(str(cell)) for cell in row))
    return table


def _stacked(rows: Sequence[Row], width: int) -> str:
    """The plain columns (a header, a line per row) with each description wrapped, indented, below."""
    short = plain_listing([(*row[:-1], "") for row in rows]).splitlines()
    lines = [short[0].removesuffix("description").rstrip()]
    indent = " " * 4
    for line, row in zip(short[1:], rows, strict=True):
        lines.append(line)
        wrapped = textwrap.wrap(str(row[-1]), max(width, 24) - 4)
        lines += [indent + part for part in wrapped]
    return "\n".join(lines)
