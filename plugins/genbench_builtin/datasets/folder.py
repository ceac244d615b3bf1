"""``folder``: your own images, no code: ``--data folder:PATH[@RES][:gray|:rgb]``.

``PATH`` holds one subfolder per class (torchvision's ImageFolder layout), each with images in any
format PIL reads (``.png``, ``.jpg``, ``.bmp``, ``.gif``, ``.tif``, ``.webp``…, found recursively;
files with other extensions and hidden files are skipped). Classes are numbered in order of their
folder names. Every image is converted to RGB (or grey with ``:gray``), its central square cropped and
resized to ``RES`` pixels (default 32) with PIL's bicubic filter.

Split: when ``PATH`` has both ``train/`` and ``test/``, each laid out as above, those are the splits;
otherwise the seeded per-class 80/20 rule of :mod:`genbench_builtin.datasets.user_images`, which the
dataset's description states. A file that is not a readable image is a one-line error naming it.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
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
    content_digest,
    split_per_class,
    to_square,
)

DEFAULT_RESOLUTION = 32
GIVEN_SPLITS: tuple[SplitName, ...] = ("train", "test")

Files = list[tuple[Path, int]]  # (image file, class index)


def _image_files(folder: Path) -> list[Path]:
    """The image files under ``folder``, recursively, in path order; hidden ones skipped."""
    extensions = Image.registered_extensions()
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and path.suffix.lower() in extensions
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def _class_folders(root: Path) -> list[Path]:
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise UserError(f"{root} has no class subfolders: put each class's images in {root}/<class name>/")
    return folders


def _files(root: Path, classes: list[str], every: bool = True) -> Files:
    """Every image of ``root/<class>/`` for each class in ``classes``, labelled by its index; with
    ``every`` false (a given test split) a class may lack a folder."""
    files: Files = []
    for label, name in enumerate(classes):
        if not every and not (root / name).is_dir():
            continue
        found = _image_files(root / name) if (root / name).is_dir() else []
        if not found:
            raise UserError(f"{root / name} has no image files (any format PIL reads: .png, .jpg, …)")
        files += [(path, label) for path in found]
    return files


def _decode(files: Files, mode: str, resolution: int) -> Split:
    pil_mode = MODES[mode][0]
    images = []
    for path, _ in files:
        try:
            with Image.open(path) as image:
                images.append(to_square(image, pil_mode, resolution))
        except (OSError, ValueError, Image.DecompressionBombError) as error:
            raise UserError(
                f"{path} cannot be read as an image ({one_line(error)}); replace or remove it"
            ) from error
    labels = np.array([label for _, label in files], dtype=np.int64)
    return Split(torch.from_numpy(np.stack(images)), torch.from_numpy(labels))


class FolderImages(UserImages):
    """Your images, one subfolder per class: ``--data folder:PATH[@RES][:gray]``."""

    name = "folder"
    kind = "folder"
    description = "Your images in class subfolders: --data folder:PATH@RES (32 by default; :gray for grey)"

    @classmethod
    def _inspect(cls, spec: ImagesSpec) -> tuple[DataShape, str, str, dict[str, Any]]:
        root = spec.path
        if not root.is_dir():
            raise UserError(f"--data folder:{root}: {root} is not a folder")
        resolution, mode = spec.resolution or DEFAULT_RESOLUTION, spec.mode or "rgb"
        given = all((root / split).is_dir() for split in GIVEN_SPLITS)
        if given:
            classes = [p.name for p in _class_folders(root / "train")]
            unknown = sorted({p.name for p in _class_folders(root / "test")} - set(classes))
            if unknown:
                raise UserError(
                    f"{root / 'test'} has classes that {root / 'train'} lacks: {', '.join(unknown)}"
                )
            parts = {split: _files(root / split, classes, every=split == "train") for split in GIVEN_SPLITS}
        else:
            classes = [p.name for p in _class_folders(root)]
            parts = {"all": _files(root, classes)}
        labels = {part: np.array([label for _, label in part_files]) for part, part_files in parts.items()}
        check_benchmarkable(f"--data folder:{root}", labels, len(classes))
        rule = "its own train/ and test/ folders" if given else SPLIT_RULE
        digest = content_digest(
            [f"folder resolution={resolution} mode={mode} split={rule}", *classes]
            + [
                item
                for part, files in parts.items()
                for path, label in files
                for item in (part, str(label), path.relative_to(root).as_posix(), path.read_bytes())
            ]
        )
        count = sum(len(files) for files in parts.values())
        description = (
            f"{count} images in {len(classes)} classes from {root}, {mode} {resolution}x{resolution}; "
            f"split: {rule}"
        )
        shape = DataShape(MODES[mode][1], resolution, len(classes))
        return shape, digest, description, {"parts": parts, "mode": mode, "resolution": resolution}

    @cached_property
    def _all(self) -> tuple[Split, dict[SplitName, np.ndarray]]:
        split = _decode(self.source["parts"]["all"], self.source["mode"], self.source["resolution"])
        return split, split_per_class(split.labels.numpy(), self.shape.num_classes)

    def _load_split(self, split: SplitName) -> Split:
        parts = self.source["parts"]
        if "all" not in parts:
            return _decode(parts[split], self.source["mode"], self.source["resolution"])
        every, indices = self._all
        index = torch.from_numpy(indices[split])
        return Split(every.images[index].contiguous(), every.labels[index])
