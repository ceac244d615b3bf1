"""Sample sets on disk: what ``genbench sample`` writes and ``genbench score`` reads.

Two forms, told apart by the path:

- ``FILE.npz`` (numpy's ``savez``): ``images``, uint8 ``(N, H, W, C)`` (channels last, as numpy,
  PIL and most frameworks hold images; ``(N, H, W)`` is read as one channel), and for a conditional
  model ``labels``, integers ``(N,)``: the class each image was drawn for. A file whose only array is
  numpy's default ``arr_0`` is read as its images.
- ``DIR/``: one PNG (or JPEG, when read) per image, read in the order of their names, and for a
  conditional model ``labels.txt``: one class per line, in the same order.

Reading checks everything a score depends on against the dataset's shape (dtype, channels,
resolution, labels) and says what is wrong in one line naming the file (a :class:`UserError`).
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from genbench.api import DataShape
from genbench.core.files import atomic_write, file_sha256, shown
from genbench.errors import UserError

IMAGES_KEY = "images"
LABELS_KEY = "labels"
NUMPY_DEFAULT_KEY = "arr_0"  # What np.savez calls an array given without a name.
LABELS_FILE = "labels.txt"
NPZ_SUFFIX = ".npz"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
CHANNELS = {1: "grayscale", 3: "RGB"}


@dataclass(frozen=True)
class SampleSet:
    """Images as genbench scores them, uint8 ``(N, C, H, W)``, with the classes they were drawn for
    (None: unconditional) and the SHA-256 of what they were read from."""

    images: torch.Tensor
    labels: torch.Tensor | None
    sha256: str


def is_npz(path: Path) -> bool:
    """Whether ``path`` names one ``.npz`` file (otherwise: a folder of images)."""
    return path.suffix.lower() == NPZ_SUFFIX


def write_sample_set(path: Path, images: torch.Tensor, labels: torch.Tensor | None) -> None:
    """Write uint8 ``images`` ``(N, C, H, W)`` and their ``labels`` (None: unconditional) to ``path``:
    an ``.npz`` written atomically, or a new folder of PNGs filled beside it and renamed into place."""
    if is_npz(path):
        arrays = {IMAGES_KEY: images.permute(0, 2, 3, 1).contiguous().numpy()}
        if labels is not None:
            arrays[LABELS_KEY] = labels.cpu().numpy().astype(np.int64)
        atomic_write(path, lambda f: np.savez(f, **arrays))  # type: ignore[arg-type]  # numpy stubs: kwargs typed as allow_pickle
        return
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise UserError(f"--out {shown(path)}: exists and is not an empty folder; name a new folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    filling = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        digits = len(str(max(len(images) - 1, 0)))
        for index, image in enumerate(images):
            (filling / f"{index:0{digits}d}.png").write_bytes(_png(image))
        if labels is not None:
            (filling / LABELS_FILE).write_text("".join(f"{int(label)}\n" for label in labels))
        os.chmod(filling, 0o777 & ~_umask())  # mkdtemp's 0700 would hide the samples from a team.
        os.replace(filling, path)  # An empty folder there is replaced; a reader never sees half.
    except BaseException:
        for leftover in filling.glob("*"):
            leftover.unlink()
        filling.rmdir()
        raise


def _png(image: torch.Tensor) -> bytes:
    """A uint8 ``(C, H, W)`` image as PNG bytes: 8-bit grayscale (one channel) or RGB."""
    array = image.permute(1, 2, 0).numpy()
    buffer = io.BytesIO()
    Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array).save(buffer, format="PNG")
    return buffer.getvalue()


def _decoded(data: bytes, file: Path) -> torch.Tensor:
    """An image file's pixels as uint8 ``(C, H, W)``, its channels as stored (bilevel as grayscale,
    a palette as RGB); a :class:`UserError` for what is not an 8-bit image."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            image = opened.convert({"1": "L", "P": "RGB"}.get(opened.mode, opened.mode))
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise UserError(f"{shown(file)}: not an image PIL can read ({error})") from None
    if image.mode not in ("L", "LA", "RGB", "RGBA"):
        raise UserError(f"{shown(file)}: {image.mode} pixels, not 8-bit; save 8-bit images")
    array = np.asarray(image, dtype=np.uint8)
    array = array[..., None] if array.ndim == 2 else array
    return torch.from_numpy(array.copy()).permute(2, 0, 1).contiguous()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def read_sample_set(path: Path, shape: DataShape, dataset: str) -> SampleSet:
    """The sample set at ``path``, checked against ``dataset``'s ``shape``; a :class:`UserError` naming
    the file and what to do when it cannot be scored as that dataset's samples."""
    where = shown(path)
    if not path.exists():
        raise UserError(f"{where}: no such file or folder; give an .npz file or a folder of images")
    if path.is_dir():
        images, labels, sha256 = _read_folder(path, where)
    elif is_npz(path) or zipfile.is_zipfile(path):
        images, labels, sha256 = _read_npz(path, where)
    else:
        raise UserError(f"{where}: not an .npz file (numpy.savez) nor a folder of images")
    _check_images(images, shape, dataset, where)
    return SampleSet(images, _checked_labels(labels, len(images), shape, where), sha256)


def _read_npz(path: Path, where: str) -> tuple[torch.Tensor, np.ndarray | None, str]:
    """Images ``(N, C, H, W)`` and labels of an ``.npz``, with the file's SHA-256."""
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):  # One .npy array under an .npz name.
            raise UserError(f"{where}: one .npy array, not an .npz file (numpy.savez); save it with np.savez")
        with loaded:
            arrays = {key: loaded[key] for key in loaded.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, pickle.UnpicklingError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise UserError(f"{where}: not an .npz file numpy can read ({reason})") from None
    key = IMAGES_KEY if IMAGES_KEY in arrays else NUMPY_DEFAULT_KEY
    if key not in arrays:
        found = ", ".join(sorted(arrays)) or "none"
        raise UserError(
            f"{where}: no array '{IMAGES_KEY}' (arrays: {found}); save the images as {IMAGES_KEY}="
        )
    images = arrays[key]
    if images.dtype != np.uint8:
        raise UserError(
            f"{where}: images are {images.dtype}, not uint8; quantise them to 0..255 first "
            "(e.g. ((x + 1) * 127.5).round().clip(0, 255).astype(np.uint8) for values in [-1, 1])"
        )
    if images.ndim == 3:
        images = images[..., None]  # (N, H, W): one channel.
    if images.ndim != 4:
        raise UserError(f"{where}: images of shape {images.shape}; expected (N, H, W, C) or (N, H, W)")
    if images.shape[-1] not in CHANNELS and images.shape[1] in CHANNELS:
        raise UserError(
            f"{where}: images of shape {images.shape} look like (N, C, H, W); genbench reads (N, H, W, C): "
            "save images.transpose(0, 2, 3, 1)"
        )
    return (
        torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(),
        arrays.get(LABELS_KEY),
        file_sha256(path),
    )


def _read_folder(path: Path, where: str) -> tuple[torch.Tensor, np.ndarray | None, str]:
    """Images ``(N, C, H, W)`` of a folder, in name order, its labels.txt, and one SHA-256 of both
    (of each file's name and bytes, in order)."""
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise UserError(f"{where}: no images ({', '.join(IMAGE_SUFFIXES)}) in this folder")
    digest, images = hashlib.sha256(), list[torch.Tensor]()
    for file in files:
        data = file.read_bytes()
        digest.update(f"{file.name}\0{len(data)}\0".encode() + data)
        image = _decoded(data, file)
        if images and image.shape != images[0].shape:
            raise UserError(
                f"{shown(file)}: {_size(image)} where {files[0].name} is {_size(images[0])}; "
                "every image must have the same size and channels"
            )
        images.append(image)
    labels = None
    if (label_file := path / LABELS_FILE).is_file():
        text = label_file.read_bytes()
        digest.update(f"{LABELS_FILE}\0{len(text)}\0".encode() + text)
        try:
            labels = np.array([int(line) for line in text.decode().split()], dtype=np.int64)
        except (UnicodeDecodeError, ValueError):
            raise UserError(f"{shown(label_file)}: not one integer class per line") from None
    return torch.stack(images), labels, digest.hexdigest()


def _size(image: torch.Tensor) -> str:
    channels, height, width = image.shape
    return f"{height}x{width} with {channels} channel(s)"


def _check_images(images: torch.Tensor, shape: DataShape, dataset: str, where: str) -> None:
    """Channels and resolution as the dataset's (genbench does not convert nor resize: that would
    change the numbers)."""
    channels, height, width = images.shape[1:]
    if channels != shape.channels:
        kind = CHANNELS.get(shape.channels, f"{shape.channels} channels")
        raise UserError(
            f"{where}: images with {channels} channel(s); dataset '{dataset}' is {kind} "
            f"({shape.channels} channel(s)): convert them first"
        )
    if (height, width) != (shape.resolution, shape.resolution):
        raise UserError(
            f"{where}: {height}x{width} images; dataset '{dataset}' is "
            f"{shape.resolution}x{shape.resolution}: sample (or resize) at the dataset's resolution"
        )


def _checked_labels(labels: np.ndarray | None, n: int, shape: DataShape, where: str) -> torch.Tensor | None:
    """The labels as int64, one per image and each a class of the dataset; None when there are none."""
    if labels is None:
        return None
    if labels.ndim != 1 or not (np.issubdtype(labels.dtype, np.integer)):
        raise UserError(
            f"{where}: labels of shape {labels.shape} and type {labels.dtype}; expected N integers"
        )
    if len(labels) != n:
        raise UserError(f"{where}: {len(labels):,} labels for {n:,} images; give one label per image")
    if len(labels) and (labels.min() < 0 or labels.max() >= shape.num_classes):
        raise UserError(
            f"{where}: labels from {labels.min()} to {labels.max()}; the dataset's classes are "
            f"0 to {shape.num_classes - 1}"
        )
    return torch.from_numpy(labels.astype(np.int64))
