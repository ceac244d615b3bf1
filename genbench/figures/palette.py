"""Model colours: each model's colour is derived from its name alone, so a model has the same colour in
every chart, every report and every output folder, whichever other models it is shown with.

The palette is matplotlib's ``tab10`` without its grey: grey and black are the real-data floor's. Ten
names share nine colours, so two models may share one; their charts label every row and line, so the
colour is a reading aid, never the only way to tell models apart.
"""

from __future__ import annotations

import hashlib

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
# Hashed in front of the name: the first salt under which the eight built-in unconditional models
# (dcgan, vae, gan, wgan-gp, wgan, lsgan, ddpm, flow-matching), and the four conditional ones, each get
# a colour of their own. Changing it changes every model's colour.
SALT = "genbench-colour-285:"


def model_colour(model: str) -> str:
    """The colour of the model called ``model`` (its plugin name, without any setup): a hash of the name
    into :data:`PALETTE`, the same in every process (unlike Python's salted ``hash``)."""
    digest = hashlib.sha256((SALT + model).encode("utf-8")).digest()
    return PALETTE[int.from_bytes(digest[:8], "big") % len(PALETTE)]
