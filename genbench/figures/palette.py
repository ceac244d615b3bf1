"""Colours. A model's colour is derived from its name alone, so a model has the same colour in every
chart, every report and every output folder, whichever other models it is shown with. Figures are
stored with a fixed palette of these colours (:func:`figure_palette`), so a model's colour survives
exactly.

The palette is matplotlib's ``tab10`` without its grey: grey and black are the real-data floor's. Ten
names share nine colours, so two models may share one; their charts label every row and line, so the
colour is a reading aid, never the only way to tell models apart.
"""

from __future__ import annotations

import hashlib
from functools import cache

from PIL import Image

PALETTE = (
    "#1f77b4",  # blue
    "#ff7f0e",  # orange
    "#2ca02c",  # green
    "#d62728",  # red
    "#9467bd",  # purple
    "#8c564b",  # brown
    "#e377c2",  # pink
    "#bcbd22",  # olive
    "#17becf",  # cyan
)
FLOOR_COLOUR = "#000000"
# matplotlib's default colour cycle (C0..C9), which the curves of one run use.
CYCLE = (*PALETTE[:7], "#7f7f7f", *PALETTE[7:])
# Each colour as drawn faint (alpha) or antialiased on white: these mixes of it with white are kept.
MIXES = (1.0, 0.8, 0.6, 0.4, 0.25, 0.12)
GREYS = 24  # Shades from black to white: text, axes, grid and their antialiasing.
# Hashed in front of the name: the first salt under which the eight built-in unconditional models
# (dcgan, vae, gan, wgan-gp, wgan, lsgan, ddpm, flow-matching), and the four conditional ones, each get
# a colour of their own. Changing it changes every model's colour.
SALT = "genbench-colour-285:"


def model_colour(model: str) -> str:
    """The colour of the model called ``model`` (its plugin name, without any setup): a hash of the name
    into :data:`PALETTE`, the same in every process (unlike Python's salted ``hash``)."""
    digest = hashlib.sha256((SALT + model).encode("utf-8")).digest()
    return PALETTE[int.from_bytes(digest[:8], "big") % len(PALETTE)]


@cache
def figure_palette() -> Image.Image:
    """A palette image for ``Image.quantize``: the colour cycle, each mixed with white at :data:`MIXES`,
    and :data:`GREYS` greys. A figure's lines, dots, text and fills map onto it without losing a
    model's colour, which an adaptive palette drops where a model has a few dots only."""
    colours = [_rgb(colour) for colour in CYCLE]
    mixed = [tuple(round(255 - a * (255 - c)) for c in rgb) for rgb in colours for a in MIXES]
    greys = [(round(255 * i / (GREYS - 1)),) * 3 for i in range(GREYS)]
    flat = [channel for rgb in mixed + greys for channel in rgb]
    image = Image.new("P", (1, 1))
    image.putpalette(flat + flat[-3:] * (256 - len(flat) // 3))  # Padded with white to 256 entries.
    return image


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
