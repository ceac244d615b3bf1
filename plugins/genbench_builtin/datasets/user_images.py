"""What the ``folder`` and ``npz`` datasets share: the ``PATH[@RES][:gray|:rgb]`` argument, the
content-derived name, the split rule and the square resize.

``--data folder:PATH@32`` names a dataset by its argument; :meth:`UserImages.configure` turns that into
a class of its own, named ``<kind>-<slug>-<hash>``: the slug is the file or folder name, the hash
(8 hex digits of SHA-256) covers every file's bytes and the resolution, colour mode and split rule. A
changed file therefore makes a new dataset name, and with it new runs, rather than reusing old
scores; a copy of the same files elsewhere keeps the name.

The split rule, when the data has no train/test split of its own: within each class, the images in
order of file path (``folder``) or of index (``npz``) are permuted by
``numpy.random.default_rng([SPLIT_SEED, class_index])``, and the first ``round(n / 5)`` (at least one
when the class has two images or more) are the test split, the rest the train split: a fixed seeded
80/20 split per class.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from PIL import Image

from genbench.api import Dataset, DataShape, SplitName
from genbench.errors import UserError
from genbench_builtin.datasets.cached import CachedDataset

SPLIT_SEED = 20_261_201
TEST_FRACTION = 0.2
SPLIT_RULE = f"seeded per-class 80/20 split (numpy default_rng([{SPLIT_SEED}, class]))"
MODES = {"gray": ("L", 1), "rgb": ("RGB", 3)}
MIN_RESOLUTION, MAX_RESOLUTION = 4, 1024  # Pixels per side, with @RES or without.
# The shape of a ``folder`` or ``npz`` entry before it has its argument: never used to build a model
# (constructing the unconfigured dataset is refused), only there because every dataset declares one.
PLACEHOLDER_SHAPE = DataShape(channels=3, resolution=32, num_classes=1)

_ARGUMENT_RE = re.compile(r"^(?P<path>.+?)(?:@(?P<resolution>\d+))?(?::(?P<mode>gray|rgb))?$")


@dataclass(frozen=True)
class ImagesSpec:
    """A parsed ``PATH[@RES][:gray|:rgb]``; None where the argument leaves it to the data."""

    path: Path
    resolution: int | None
    mode: str | None  # "gray", "rgb" or None


def parse_argument(kind: str, argument: str) -> ImagesSpec:
    """``~/pets@32:rgb`` -> ``ImagesSpec(~/pets, 32, "rgb")``; a one-line error showing the form."""
    match = _ARGUMENT_RE.match(argument)
    if not match:
        raise UserError(f"--data {kind}:{argument}: expected --data {kind}:PATH[@RES][:gray|:rgb]")
    resolution = None if match["resolution"] is None else int(match["resolution"])
    if resolution is not None and not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION:
        raise UserError(
            f"--data {kind}:{argument}: the resolution must lie in {MIN_RESOLUTION}..{MAX_RESOLUTION}, "
            f"got {resolution}"
        )
    return ImagesSpec(Path(match["path"]).expanduser(), resolution, match["mode"])


def dataset_name(kind: str, path: Path, digest: str) -> str:
    """``folder-my-pets-1a2b3c4d``: a valid genbench name, readable and tied to the content."""
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")[:24].strip("-") or "images"
    return f"{kind}-{slug}-{digest[:8]}"


def split_per_class(labels: np.ndarray, num_classes: int) -> dict[SplitName, np.ndarray]:
    """Indices of the train and test images under the module's split rule; sorted within each split."""
    test: list[np.ndarray] = []
    for label in range(num_classes):
        members = np.flatnonzero(labels == label)
        n_test = max(round(len(members) * TEST_FRACTION), 1) if len(members) >= 2 else 0
        test.append(np.random.default_rng([SPLIT_SEED, label]).permutation(members)[:n_test])
    is_test = np.zeros(len(labels), dtype=bool)
    is_test[np.concatenate(test)] = True
    return {"train": np.flatnonzero(~is_test), "test": np.flatnonzero(is_test)}


def check_benchmarkable(source: str, labels: dict[str, np.ndarray], num_classes: int) -> None:
    """Refuse data that cannot make a benchmark, saying what to do: no images, a single class (the
    reference classifier, whose features score every model, learns nothing from one class), or no
    image for one of the splits. ``labels``: class indices (0..num_classes-1) per part, ``all`` for data
    without a split of its own (then the split rule must leave images on both sides)."""
    if not sum(len(part) for part in labels.values()):
        raise UserError(f"{source} holds no images")
    if num_classes < 2:
        raise UserError(
            f"{source} has a single class: genbench's reference classifier, whose features score every "
            "model, learns nothing from one class; give images of at least two classes"
        )
    parts = split_per_class(labels["all"], num_classes) if "all" in labels else labels
    for split in ("train", "test"):
        if not len(parts[split]):
            how = "every class has a single image" if "all" in labels else f"its {split} split is empty"
            raise UserError(
                f"{source} leaves no {split} images ({how}); give at least two images per class "
                "(five or more for a true 80/20 split), or a test split of its own"
            )


def check_resolution(source: str, height: int) -> None:
    """The images' own size must lie in the bounds ``@RES`` has (4..1024), or ``@RES`` must resize them."""
    if not MIN_RESOLUTION <= height <= MAX_RESOLUTION:
        raise UserError(
            f"{source}: the images are {height}x{height} pixels; genbench takes {MIN_RESOLUTION} to "
            f"{MAX_RESOLUTION}: add @RES to resize them"
        )


def to_square(image: Image.Image, mode: str, resolution: int) -> np.ndarray:
    """``image`` in PIL ``mode`` ("L" or "RGB"), its central square cropped and resized (bicubic) to
    ``resolution`` pixels, as uint8 ``(C, R, R)``."""
    image = image.convert(mode)
    width, height = image.size
    side = min(width, height)
    if width != height:
        left, top = (width - side) // 2, (height - side) // 2
        image = image.crop((left, top, left + side, top + side))
    if side != resolution:
        image = image.resize((resolution, resolution), Image.Resampling.BICUBIC)
    array = np.asarray(image, dtype=np.uint8)
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def content_digest(parts: Iterable[bytes | str]) -> str:
    """SHA-256 over ``parts`` (file bytes, names, settings), each length-prefixed so none run together."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


class UserImages(CachedDataset):
    """Base of ``folder`` and ``npz``: datasets made from the user's files by ``--data KIND:PATH``.

    The registered class is a template: :meth:`configure` makes the dataset of one argument, a
    subclass whose class attributes (``name``, ``shape``, ``description`` and :attr:`source`) say
    which files, at which resolution and colour mode, under which split.
    """

    kind: ClassVar[str]
    shape = PLACEHOLDER_SHAPE
    source: ClassVar[dict[str, Any]] = {}  # Set by configure: what the subclass reads.

    def __init__(self, root: Path, download: bool = True) -> None:
        if not self.source:
            raise UserError(
                f"dataset '{self.kind}' needs the images' location: --data {self.kind}:PATH[@RES][:gray|:rgb]"
            )
        super().__init__(root, download)

    @classmethod
    def configure(cls, argument: str) -> type[Dataset]:
        """The dataset of ``KIND:argument``: files read, checked and hashed now, images decoded at load."""
        spec = parse_argument(cls.kind, argument)
        shape, digest, description, source = cls._inspect(spec)
        attributes = {
            "name": dataset_name(cls.kind, spec.path, digest),
            "shape": shape,
            "description": description,
            "source": source,
            "__doc__": description,
        }
        return type(f"{cls.__name__}_{digest[:8]}", (cls,), attributes)

    @classmethod
    def _inspect(cls, spec: ImagesSpec) -> tuple[DataShape, str, str, dict[str, Any]]:
        """The shape, content digest, one-line description and source of ``spec``'s data."""
        raise NotImplementedError
