"""``npz``: your own images in one NumPy file, no code: ``--data npz:FILE[@RES][:gray|:rgb]``.

The file holds uint8 ``images`` and integer ``labels`` (one per image), or ``train_images``,
``train_labels``, ``test_images`` and ``test_labels`` for a split of its own. Images may be laid out
``(N, H, W)`` (grey), ``(N, H, W, C)`` or ``(N, C, H, W)`` with ``C`` 1 or 3. The distinct label
values, in increasing order, become classes 0, 1, …. Without ``@RES`` the images must be square and
keep their size; with it (or with ``:gray`` / ``:rgb``) each goes through the ``folder`` dataset's
conversion: central square, bicubic resize. Without a split of its own, the seeded per-class 80/20
rule of :mod:`genbench_builtin.datasets.user_images` applies, and the description says which.
"""

from __future__ import annotations

import io
import zipfile
from functools import cached_property
from typing import Any

import numpy as np
import torch
from PIL import Image

from genbench.api import DataShape, Split, SplitName
from genbench.errors import UserError, one_line
from genbench_builtin.datasets.user_images import (
    MODES,
    SPLIT_RULE,
    ImagesSpec,
    UserImages,
    check_benchmarkable,
    check_resolution,
    content_digest,
    split_per_class,
    to_square,
)

KEYS = {
    "all": ("images", "labels"),
    "train": ("train_images", "train_labels"),
    "test": ("test_images", "test_labels"),
}


def _channels_first(images: np.ndarray, where: str) -> np.ndarray:
    """``images`` as ``(N, C, H, W)``; a one-line error for any other layout."""
    if images.ndim == 3:
        return images[:, None]
    if images.ndim == 4 and images.shape[1] in (1, 3):
        return images
    if images.ndim == 4 and images.shape[3] in (1, 3):
        return images.transpose(0, 3, 1, 2)
    raise UserError(
        f"{where} has shape {images.shape}; expected (N, H, W), (N, H, W, C) or (N, C, H, W) with C 1 or 3"
    )


def _read(spec: ImagesSpec) -> tuple[bytes, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """The file's bytes and its ``{part: (images (N, C, H, W), raw labels)}``, checked."""
    path = spec.path
    try:
        data = path.read_bytes()
        archive = np.load(io.BytesIO(data), allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:  # EOFError: an empty file.
        what = one_line(error) if str(error) else f"{type(error).__name__}, an empty file?"
        raise UserError(f"{path} cannot be read as an .npz file ({what})") from error
    keys = set(getattr(archive, "files", []))
    layout = ("all",) if set(KEYS["all"]) <= keys else ("train", "test")
    if not all(set(KEYS[part]) <= keys for part in layout):
        raise UserError(
            f"{path} has arrays {', '.join(sorted(keys)) or 'none'}; it needs 'images' and 'labels' "
            "(or train_images, train_labels, test_images, test_labels)"
        )
    parts = {}
    for part in layout:
        image_key, label_key = KEYS[part]
        try:
            images, labels = archive[image_key], archive[label_key]
        except (OSError, ValueError, zipfile.BadZipFile) as error:
            raise UserError(f"{path}: cannot read '{image_key}' / '{label_key}' ({error})") from error
        if images.dtype != np.uint8:
            raise UserError(
                f"{path}: '{image_key}' must be uint8 in 0..255, got {images.dtype}; "
                "convert with (x * 255).round().astype('uint8') for [0, 1] floats"
            )
        if labels.ndim != 1 or len(labels) != len(images) or not np.issubdtype(labels.dtype, np.integer):
            raise UserError(
                f"{path}: '{label_key}' must be {len(images)} integers, one per image; "
                f"got {labels.dtype} of shape {labels.shape}"
            )
        parts[part] = (_channels_first(images, f"{path}: '{image_key}'"), labels)
    return data, parts


def _numbering(values: np.ndarray) -> str:
    """How labels that are not already 0, 1, … (negative, gaps) became classes, for the description."""
    if np.array_equal(values, np.arange(len(values))):
        return ""
    listed = ", ".join(map(str, values)) if len(values) <= 6 else f"{values[0]}..{values[-1]}"
    return f"; labels {listed} are classes 0..{len(values) - 1} in increasing order"


def _convert(images: np.ndarray, mode: str | None, resolution: int) -> np.ndarray:
    """``(N, C, H, W)`` uint8 at ``resolution`` in ``mode`` (None: as stored)."""
    channels = images.shape[1]
    if images.shape[2] == images.shape[3] == resolution and mode in (None, {1: "gray", 3: "rgb"}[channels]):
        return images
    pil_mode = MODES[mode][0] if mode else {1: "L", 3: "RGB"}[channels]
    hwc = images.transpose(0, 2, 3, 1)
    return np.stack(
        [
            to_square(Image.fromarray(image.squeeze(-1) if channels == 1 else image), pil_mode, resolution)
            for image in hwc
        ]
    )


class NpzImages(UserImages):
    """Your images in an .npz of ``images`` and ``labels``: ``--data npz:FILE[@RES][:gray|:rgb]``."""

    name = "npz"
    kind = "npz"
    description = "Your images in an .npz of images and labels: --data npz:FILE (optional @RES, :gray, :rgb)"

    @classmethod
    def _inspect(cls, spec: ImagesSpec) -> tuple[DataShape, str, str, dict[str, Any]]:
        if not spec.path.is_file():
            raise UserError(f"--data npz:{spec.path}: {spec.path} is not a file")
        data, parts = _read(spec)
        height, width = next(iter(parts.values()))[0].shape[2:]
        if any(images.shape[2:] != (height, width) for images, _ in parts.values()):
            raise UserError(f"{spec.path}: the train and test images differ in size")
        if spec.resolution is None and height != width:
            raise UserError(f"{spec.path}: the images are {height}x{width}; add @RES to crop and resize them")
        if spec.resolution is None:
            check_resolution(str(spec.path), height)
        resolution = spec.resolution or height
        channels = MODES[spec.mode][1] if spec.mode else next(iter(parts.values()))[0].shape[1]
        values = np.unique(np.concatenate([labels for _, labels in parts.values()]))
        classes = {part: np.searchsorted(values, labels) for part, (_, labels) in parts.items()}
        check_benchmarkable(f"--data npz:{spec.path}", classes, len(values))
        given = "all" not in parts
        rule = "the file's own train/test arrays" if given else SPLIT_RULE
        digest = content_digest([f"npz resolution={resolution} mode={spec.mode} split={rule}", data])
        count = sum(len(labels) for _, labels in parts.values())
        description = (
            f"{count} images in {len(values)} classes from {spec.path}, {resolution}x{resolution}, "
            f"{channels} channel{'s' if channels > 1 else ''}; split: {rule}{_numbering(values)}"
        )
        shape = DataShape(channels, resolution, len(values))
        return shape, digest, description, {"parts": parts, "values": values, "mode": spec.mode}

    def _part(self, part: str) -> Split:
        images, labels = self.source["parts"][part]
        converted = _convert(images, self.source["mode"], self.shape.resolution)
        classes = np.searchsorted(self.source["values"], labels).astype(np.int64)
        return Split(torch.from_numpy(np.ascontiguousarray(converted)), torch.from_numpy(classes))

    @cached_property
    def _all(self) -> tuple[Split, dict[SplitName, np.ndarray]]:
        split = self._part("all")
        return split, split_per_class(split.labels.numpy(), self.shape.num_classes)

    def _load_split(self, split: SplitName) -> Split:
        if "all" not in self.source["parts"]:
            return self._part(split)
        every, indices = self._all
        index = torch.from_numpy(indices[split])
        return Split(every.images[index].contiguous(), every.labels[index])
