"""Pictures of a model for its run's report: PNG grids of uint8 images, each written atomically.

The runner writes them into the run folder under these names:

- :data:`PROGRESS_FILE` (``progress.png``): :func:`save_progress_strip`, one row per :func:`snapshot`
  taken during training, the same 16 latents each time, so the rows show how training went;
- :data:`CLASSES_FILE` (``classes.png``): :func:`save_class_grid`, conditional models, one row per class;
- :data:`INTERPOLATION_FILE` (``interpolation.png``): :func:`save_interpolations`, paths between pairs
  of latents from the prior (models with :meth:`~genbench.api.Model.latents`);
- :data:`ENCODED_INTERPOLATION_FILE` (``interpolation_encoded.png``): :func:`save_encoded_interpolation`,
  paths between the codes of pairs of real images (models with :meth:`~genbench.api.Model.encode`).

Each picture but the samples says what it shows: a title above the grid and a label left of each
row (the progress strip's kimg, the class, what a row interpolates between), drawn by
:mod:`genbench.figures.labels`, which moves the grid right and down by its margins.

Small images are magnified first, each pixel repeated (nearest neighbour) :func:`magnification` times
so that an image is at least :data:`MIN_IMAGE_PIXELS` pixels on its shorter side: an 8x8 digit is
drawn 32x32, a 28x28 one 56x56, a 32x32 one as it is. Grids are then torchvision's ``make_grid`` with
:data:`PADDING` pixels of black between and around the images, so a grid of ``rows x cols`` images
of ``H x W`` pixels magnified ``m`` times is exactly ``cols * (m * W + 2) + 2`` pixels wide and
``rows * (m * H + 2) + 2`` high (:func:`grid_size`).

Every picture is drawn without gradients, in eval mode (the model's previous modes are restored), from
``torch.Generator`` objects seeded here: the global random stream, and so training, is never touched.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
import torchvision
from PIL import Image

from genbench.api import Model
from genbench.blocks.modes import eval_mode
from genbench.core.files import atomic_write
from genbench.core.images import balanced_labels, to_uint8, to_unit_range

# Re-exported: the names the runner writes the pictures under (see the module docstring).
from genbench.core.layout import (  # noqa: F401
    CLASSES_FILE,
    ENCODED_INTERPOLATION_FILE,
    INTERPOLATION_FILE,
    PROGRESS_FILE,
)
from genbench.figures.labels import labelled

PROGRESS_IMAGES = 16  # Images per snapshot: one row of the progress strip.
PADDING = 2  # Pixels between and around the images of a grid.
MIN_IMAGE_PIXELS = 32  # Smaller images are magnified to at least this: an 8x8 grid is unreadable.


def magnification(height: int, width: int) -> int:
    """How many times each pixel of a ``height x width`` image is repeated in a picture: the least
    whole number that makes its shorter side at least :data:`MIN_IMAGE_PIXELS` (1 for larger images)."""
    return max(1, math.ceil(MIN_IMAGE_PIXELS / min(height, width)))


def grid_size(rows: int, cols: int, height: int, width: int) -> tuple[int, int]:
    """``(width, height)`` in pixels of the grid of ``rows x cols`` images of ``height x width``
    (before magnification) that :func:`save_image_grid` writes."""
    m = magnification(height, width)
    return cols * (m * width + PADDING) + PADDING, rows * (m * height + PADDING) + PADDING


def grid_image(images: torch.Tensor, cols: int) -> torch.Tensor:
    """uint8 images ``(N, C, H, W)`` as one uint8 picture ``(3, H', W')`` on the CPU, row-major with
    ``cols`` images per row, small images magnified (nearest neighbour, :func:`magnification`)."""
    m = magnification(*images.shape[-2:])
    images = images.cpu().repeat_interleave(m, dim=-2).repeat_interleave(m, dim=-1)
    return torchvision.utils.make_grid(images, nrow=cols, padding=PADDING)


def save_image_grid(
    images: torch.Tensor,
    cols: int,
    path: Path,
    row_labels: list[str] | None = None,
    title: str | None = None,
) -> None:
    """Save uint8 images ``(N, C, H, W)`` as a PNG grid (:func:`grid_image`), with ``title`` above it
    and one of ``row_labels`` left of each row where given (:func:`genbench.figures.labels.labelled`)."""
    grid = grid_image(images, cols)
    pixels = grid.permute(1, 2, 0).numpy()
    rows = math.ceil(len(images) / cols)
    picture = labelled(Image.fromarray(pixels), rows, row_labels, title)
    if images.shape[1] == 1:  # Grey images (make_grid repeats them to RGB): a third of the bytes.
        picture = picture.convert("L")
    buffer = io.BytesIO()
    picture.save(buffer, format="png")
    atomic_write(Path(path), lambda f: f.write(buffer.getvalue()))


@contextmanager
def _inference(model: Model) -> Iterator[None]:
    """No gradients and eval mode (:func:`genbench.blocks.modes.eval_mode`) for the block."""
    with eval_mode(model), torch.no_grad():
        yield


def _device(model: Model) -> torch.device:
    """Where the model lives: its generators and inputs are created there."""
    tensor = next(itertools.chain(model.parameters(), model.buffers()), None)
    return torch.device("cpu") if tensor is None else tensor.device


def _generator(model: Model, seed: int) -> torch.Generator:
    return torch.Generator(_device(model)).manual_seed(seed)


def snapshot(model: Model, seed: int, num_classes: int) -> torch.Tensor:
    """:data:`PROGRESS_IMAGES` uint8 samples ``(16, C, H, W)`` on the CPU, always from the same noise
    (a generator seeded with ``seed``) and, for conditional models, the same balanced labels: the same
    weights give the same images, and changed weights show as changed images of the same latents."""
    labels = balanced_labels(PROGRESS_IMAGES, num_classes, _device(model)) if model.conditional else None
    with _inference(model):
        return to_uint8(model.sample(PROGRESS_IMAGES, _generator(model, seed), labels)).cpu()


def progress_strip(snapshots: list[tuple[float, torch.Tensor]]) -> torch.Tensor:
    """One row per ``(kimg, images)`` snapshot, in the order given, as a uint8 picture (:func:`grid_image`)
    without text, for trackers (which caption it themselves)."""
    if not snapshots:
        raise ValueError("a progress strip needs at least one snapshot")
    rows = [images for _, images in snapshots]
    return grid_image(torch.cat(rows), rows[0].shape[0])


def save_progress_strip(snapshots: list[tuple[float, torch.Tensor]], path: Path) -> None:
    """One row per ``(kimg, images)`` snapshot, in the order given, each labelled with its kimg."""
    if not snapshots:
        raise ValueError("a progress strip needs at least one snapshot")
    rows = [images for _, images in snapshots]
    labels = [f"{kimg:.3g} kimg" for kimg, _ in snapshots]
    title = f"the same {rows[0].shape[0]} latents at points of training, one row each"
    save_image_grid(torch.cat(rows), rows[0].shape[0], path, labels, title)


def save_class_grid(model: Model, seed: int, num_classes: int, path: Path, per_class: int = 8) -> None:
    """A conditional model's samples, row ``k`` all of class ``k``, ``per_class`` columns.

    With a latent API, column ``j`` decodes one latent for every class, so the rows differ only in
    their class (and the columns show what the latent alone varies); otherwise every image has its
    own noise from ``seed``.
    """
    if not model.conditional:
        raise ValueError(f"model '{model.name}' is not conditional: it has no class grid")
    device = _device(model)
    labels = torch.arange(num_classes, device=device).repeat_interleave(per_class)
    generator = _generator(model, seed)
    title = "one row per class"
    with _inference(model):
        try:
            latents = model.latents(per_class, generator)
        except NotImplementedError:
            images = model.sample(len(labels), generator, labels)
        else:
            images = model.decode(latents.repeat(num_classes, *[1] * (latents.ndim - 1)), labels)
            title += ", one latent per column"
    save_image_grid(to_uint8(images), per_class, path, [f"class {k}" for k in range(num_classes)], title)


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical linear interpolation (Shoemake 1985) from each row of ``a`` ``(P, ...)`` to the same
    row of ``b`` at fractions ``t`` ``(T,)``: ``(P, T, ...)``, exactly ``a`` at ``t = 0`` and ``b`` at
    ``t = 1``; a straight line where the two are (nearly) parallel and the arc is undefined."""
    a_flat, b_flat = a.flatten(1), b.flatten(1)
    cos = torch.nn.functional.cosine_similarity(a_flat, b_flat, dim=1).clamp(-1, 1)
    omega = torch.arccos(cos)[:, None]  # (P, 1): the angle between the two endpoints.
    sin = torch.sin(omega)
    t = t.to(a.dtype)[None, :]  # (1, T)
    parallel = sin.abs() < 1e-6
    weight_a = torch.where(parallel, 1 - t, torch.sin((1 - t) * omega) / torch.where(parallel, 1, sin))
    weight_b = torch.where(parallel, t, torch.sin(t * omega) / torch.where(parallel, 1, sin))
    path = weight_a[..., None] * a_flat[:, None] + weight_b[..., None] * b_flat[:, None]
    return path.reshape(a.shape[0], t.shape[1], *a.shape[1:])


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Straight-line interpolation from each row of ``a`` ``(P, ...)`` to ``b``: ``(P, T, ...)``."""
    t = t.to(a.dtype).reshape(1, -1, *[1] * (a.ndim - 1))
    return a[:, None] + t * (b - a)[:, None]


def _interpolate(a: torch.Tensor, b: torch.Tensor, steps: int, prior: str) -> torch.Tensor:
    """Paths between latents of ``prior`` (:attr:`~genbench.api.Model.latent_prior`): :func:`slerp`
    for a normal prior, :func:`lerp` for any other.

    Why spherical: a Gaussian latent of dimension d has norm close to sqrt(d), and two independent
    draws are nearly orthogonal, so the midpoint of the straight line between them has norm about
    sqrt(d / 2), a radius the generator almost never saw in training: the middle of a linear path
    shows atypical, washed-out images. The arc of :func:`slerp` keeps the norm near sqrt(d), among
    typical latents, all the way (White 2016, "Sampling generative networks").
    A uniform prior (``gan``'s ``prior="uniform"``) lives in a box, whose support is convex: the
    straight line stays inside it, where the arc would bulge out of it.
    """
    t = torch.linspace(0, 1, steps, device=a.device)
    return slerp(a, b, t) if prior == "normal" else lerp(a, b, t)


def save_interpolations(model: Model, seed: int, path: Path, pairs: int = 8, steps: int = 10) -> str | None:
    """Row ``p``: ``steps`` images along the path from one prior latent to another (endpoints
    included), for ``pairs`` pairs drawn with a generator seeded with ``seed``. A conditional model's
    row keeps one class, rows cycling through the classes. None when written; without a latent API,
    the one-line reason there is no picture."""
    labels, classes = None, None
    if model.conditional:
        classes = balanced_labels(pairs, model.shape.num_classes, _device(model))
        labels = classes.repeat_interleave(steps)
    with _inference(model):
        try:
            ends = model.latents(2 * pairs, _generator(model, seed))
            paths = _interpolate(ends[:pairs], ends[pairs:], steps, model.latent_prior)
            images = model.decode(paths.flatten(0, 1), labels)
        except NotImplementedError:
            return f"model '{model.name}' has no latent space, so no interpolation between latents"
    rows = [f"z{p + 1} to z{pairs + p + 1}" for p in range(pairs)]
    if classes is not None:
        rows = [f"{row}, class {int(k)}" for row, k in zip(rows, classes, strict=True)]
    path_kind = "arc" if model.latent_prior == "normal" else "straight line"
    title = f"each row: the {path_kind} between two latents of the {model.latent_prior} prior, ends included"
    save_image_grid(to_uint8(images), steps, path, rows, title)
    return None


def save_encoded_interpolation(
    model: Model,
    images: torch.Tensor,
    labels: torch.Tensor | None,
    path: Path,
    pairs: int = 8,
    steps: int = 10,
) -> str | None:
    """Row ``p``: real image ``p``, then ``steps`` images decoded along the straight line from its code
    to that of real image ``pairs + p`` (so the second and second-to-last columns are the model's
    reconstructions), then real image ``pairs + p``: the reader sees the real endpoints beside them.

    ``images`` are uint8 ``(N, C, H, W)`` (e.g. test images; with fewer than ``2 * pairs`` of them, as
    many rows as they give) and ``labels`` their classes (encoded with each image; decoded with the
    row's first). The codes are interpolated
    linearly: posterior means need not lie on the prior's typical shell, so no norm is worth keeping.
    None when written; without an encoder, the one-line reason there is no picture.
    """
    pairs = min(pairs, len(images) // 2)  # A small test split (a folder of a few images) gives fewer rows.
    if not pairs:
        return f"{len(images)} test image(s): an interpolation between real images needs two"
    real, device = images[: 2 * pairs].cpu(), _device(model)
    given = None if labels is None else labels[: 2 * pairs].to(device)
    row_labels = None if given is None else given[:pairs].repeat_interleave(steps)
    t = torch.linspace(0, 1, steps, device=device)
    with _inference(model):
        try:
            codes = model.encode(to_unit_range(real.to(device)), given)
            decoded = model.decode(lerp(codes[:pairs], codes[pairs:], t).flatten(0, 1), row_labels)
        except NotImplementedError:
            return f"model '{model.name}' has no encoder, so no interpolation between real images"
    rows = to_uint8(decoded).cpu().unflatten(0, (pairs, steps))
    grid = torch.cat([real[:pairs, None], rows, real[pairs:, None]], dim=1)
    names = [f"test {p + 1} to {pairs + p + 1}" for p in range(pairs)]
    title = "real image, decoded along the line between the two codes, real image"
    save_image_grid(grid.flatten(0, 1), steps + 2, path, names, title)
    return None
