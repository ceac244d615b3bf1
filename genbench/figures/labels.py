"""Text drawn into a picture: a title above a grid of images and a label left of each row, so a picture
says what it shows wherever it is looked at (a file browser, a slide), not only in the report.

The grid itself is left pixel for pixel as it was, moved right and down by :func:`label_margins`.
"""

from __future__ import annotations

from functools import cache

from PIL import Image, ImageDraw, ImageFont

TEXT_PIXELS = 12  # Font size of titles and row labels.
LINE_PIXELS = 15  # From one line of a title to the next.
GAP = 6  # Pixels between a label and the grid, and around the text.
BACKGROUND = (255, 255, 255)
INK = (31, 35, 40)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@cache
def font() -> Font:
    """Pillow's bundled font at :data:`TEXT_PIXELS` (a bitmap font where Pillow has no FreeType). It
    has Latin letters, digits and punctuation, no arrows: labels are written with those."""
    return ImageFont.load_default(size=TEXT_PIXELS)


def text_width(text: str) -> int:
    """The width in pixels of ``text`` in :func:`font`."""
    left, _, right, _ = font().getbbox(text)
    return int(right - left)


def left_margin(row_labels: list[str] | None) -> int:
    """Where the grid starts, in pixels from the left, beside these row labels."""
    return max((text_width(label) for label in row_labels), default=0) + 2 * GAP if row_labels else 0


def title_lines(title: str | None, width: int) -> list[str]:
    """``title`` broken at spaces into lines at most ``width`` pixels wide (a word wider stays whole)."""
    lines: list[str] = []
    for word in (title or "").split():
        if lines and text_width(f"{lines[-1]} {word}") <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines


def labelled(grid: Image.Image, rows: int, row_labels: list[str] | None, title: str | None) -> Image.Image:
    """``grid`` (``rows`` rows of images, :data:`genbench.figures.pictures.PADDING` apart) with
    ``title`` above it and each of ``row_labels`` left of its row, on white; the grid as it was where
    there is neither."""
    if not row_labels and not title:
        return grid
    if row_labels is not None and len(row_labels) != rows:
        raise ValueError(f"{len(row_labels)} row labels for {rows} rows")
    left = left_margin(row_labels)
    lines = title_lines(title, grid.width + left - 2 * GAP)
    top = len(lines) * LINE_PIXELS + 2 * GAP if lines else 0
    picture = Image.new("RGB", (grid.width + left, grid.height + top), BACKGROUND)
    picture.paste(grid.convert("RGB"), (left, top))
    draw = ImageDraw.Draw(picture)
    for index, line in enumerate(lines):
        draw.text((GAP, GAP + index * LINE_PIXELS), line, fill=INK, font=font())
    pitch = grid.height / rows
    for row, label in enumerate(row_labels or []):
        # Right-aligned by hand: a bitmap font (no FreeType) has no text anchors.
        position = (left - GAP - text_width(label), round(top + pitch * (row + 0.5) - TEXT_PIXELS / 2))
        draw.text(position, label, fill=INK, font=font())
    return picture
