"""The copying gallery's data: the run's samples nearest to a training image, each with that training
image and their distance in the reference classifier's features, and what held-out real images read
in the same features, so a reader sees what "copying" would look like.

genbench.evaluation.copying picks the pairs, genbench.figures.copying_gallery draws them into the run
folder's :data:`~genbench.core.layout.COPYING_FILE`, and the same data goes into
:data:`~genbench.core.layout.COPYING_DATA_FILE` (:meth:`CopyingGallery.to_dict`), which the report
reads back for the picture's caption (:func:`read_gallery`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genbench.core.files import read_json
from genbench.core.typed_json import read_typed


@dataclass(frozen=True)
class NearestPair:
    """A sample and the training image nearest to it."""

    sample: int  # Index of the sample among the evaluated ones (drawn with the run's seed).
    train: int  # Index of the training image in the train split.
    distance: float  # Between their features: 0 for an exact copy.


@dataclass(frozen=True)
class CopyingGallery:
    """The pairs, nearest first, and the held-out images' distances to their nearest training image,
    which they are read against (the reference the C_T statistic compares with).

    The pairs are the nearest of many samples, so even a model that does not copy shows them nearer
    than a typical held-out image: read them against the nearest held-out image rather than the
    median, and the whole sample through :attr:`nearer_than_held_out`."""

    pairs: tuple[NearestPair, ...]
    n_samples: int  # Among how many samples these are the nearest.
    n_held_out: int
    held_out_median: float  # The median held-out image's distance to its nearest training image.
    held_out_nearest: float  # The nearest held-out image's: real images no model trained on get this close.
    # The fraction of the samples nearer to a training image than the nearest held-out image: about
    # 1 / (n_held_out + 1) for samples as far from the training set as real held-out images, near 1
    # for a model that copies.
    nearer_than_held_out: float
    features: str  # The feature space the distances are measured in.

    def to_dict(self) -> dict[str, Any]:
        """The gallery as JSON-ready data (:func:`read_gallery` reads it back)."""
        return dataclasses.asdict(self)


def read_gallery(path: Path) -> CopyingGallery:
    """The gallery written to ``path``; ValueError (a one-line reason) or OSError where it cannot be read."""
    return read_typed(CopyingGallery, read_json(path))
