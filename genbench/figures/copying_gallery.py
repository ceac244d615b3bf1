"""The copying gallery's picture (:data:`~genbench.core.layout.COPYING_FILE`): one row per sample of
the gallery (genbench.core.copying_gallery), the sample beside the training image nearest to it, the
row labelled with their distance; the title gives the held-out real images' distances to read them by.

A model that copies shows rows of identical pairs at distance about 0, far nearer than the nearest
held-out image; a model that does not shows pairs that merely look alike (the same class, a similar
stroke), about as far apart as the nearest held-out image is from its nearest training image.
"""

from __future__ import annotations

from pathlib import Path

import torch

from genbench.core.copying_gallery import CopyingGallery, NearestPair
from genbench.figures.pictures import save_image_grid


def pair_label(pair: NearestPair) -> str:
    """A row's label: the distance, and which sample and training image the row shows."""
    return f"d {pair.distance:.3g} (sample {pair.sample}, train {pair.train})"


def gallery_title(gallery: CopyingGallery) -> str:
    """What the picture shows, with the held-out images' distances its rows are read against."""
    return (
        f"each row: a sample beside its nearest training image, the {len(gallery.pairs)} nearest of "
        f"{gallery.n_samples} samples; d: distance in the reference classifier's features. Held-out "
        f"real images: nearest d {gallery.held_out_nearest:.3g}, median {gallery.held_out_median:.3g}. "
        f"Samples nearer than any held-out image: {gallery.nearer_than_held_out:.1%}"
    )


def save_copying_gallery(
    gallery: CopyingGallery, samples: torch.Tensor, train: torch.Tensor, path: Path
) -> None:
    """Draw ``gallery`` from the uint8 ``samples`` and ``train`` images ``(N, C, H, W)`` its indices
    refer to, as a labelled PNG grid at ``path`` (genbench.figures.pictures.save_image_grid)."""
    if not gallery.pairs:
        raise ValueError("a copying gallery needs at least one pair")
    rows = [torch.stack([samples[pair.sample], train[pair.train]]) for pair in gallery.pairs]
    labels = [pair_label(pair) for pair in gallery.pairs]
    save_image_grid(torch.cat(rows), 2, path, labels, gallery_title(gallery))
