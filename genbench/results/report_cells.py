"""The report's table cells and pictures as the templates show them: text, the exact value for sorting
and tooltips, and each picture's size on the page."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from genbench.results.report_numbers import number

if TYPE_CHECKING:  # genbench.results.report renders through this module.
    from genbench.results.report_model import Picture

CSS_DPI = 96  # A CSS pixel is 1/96 inch: a figure drawn N inches wide is shown N inches wide.
# Small pixel grids (8x8 digits make an 82-pixel grid) are magnified, pixelated, to about this width.
PICTURE_WIDTH = 480
MAX_MAGNIFICATION = 4


@dataclass(frozen=True)
class Cell:
    """A table cell: its text, its sort key (the exact value for numbers, "" when empty), a tooltip."""

    text: str
    sort: str = ""
    title: str = ""
    numeric: bool = False


@dataclass(frozen=True)
class Shown:
    """A picture as the page shows it: a ``data:`` URI, its size in CSS pixels, whether it is a
    magnified pixel grid (drawn pixelated) or a figure."""

    name: str
    caption: str
    uri: str
    width: int
    height: int
    pixelated: bool


def cell(value: Any) -> Cell:
    """A value of a record or leaderboard as a cell; numbers carry their exact value."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return Cell("")
    if isinstance(value, bool | str):
        return Cell(str(value), str(value))
    if isinstance(value, dict | list):
        return Cell(json.dumps(value))
    if isinstance(value, int) or float(value).is_integer():
        return Cell(str(int(value)), str(int(value)), numeric=True)
    exact = repr(float(value))
    return Cell(number(float(value)), exact, exact, numeric=True)


def shown(picture: Picture) -> Shown:
    """A picture at its size on the page: a figure that records its resolution (genbench.figures.curves)
    at its drawn size in inches; a grid of images a whole number of times its pixels, small grids
    magnified to about :data:`PICTURE_WIDTH`."""
    uri = "data:image/png;base64," + base64.b64encode(picture.data).decode("ascii")
    if picture.dpi:
        scale = CSS_DPI / picture.dpi
        size = round(picture.width * scale), round(picture.height * scale)
        return Shown(picture.name, picture.caption, uri, *size, pixelated=False)
    times = max(1, min(MAX_MAGNIFICATION, round(PICTURE_WIDTH / picture.width)))
    return Shown(picture.name, picture.caption, uri, picture.width * times, picture.height * times, True)
