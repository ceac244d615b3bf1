"""The report's pictures (genbench.figures.pictures) of tiny built-in models and the latent-free fake."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import fakes
import numpy as np
import pytest
import torch
from PIL import Image

from genbench.api import DataShape, Model
from genbench.core.copying_gallery import CopyingGallery, NearestPair
from genbench.core.images import to_uint8
from genbench.core.registry import Registry
from genbench.figures.copying_gallery import save_copying_gallery
from genbench.figures.pictures import (
    PADDING,
    PROGRESS_IMAGES,
    grid_size,
    magnification,
    save_class_grid,
    save_encoded_interpolation,
    save_interpolations,
    save_progress_strip,
    slerp,
    snapshot,
)

SHAPE = DataShape(1, 8, 3)
REGISTRY = Registry.discover()

pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.


@pytest.fixture(autouse=True)
def _global_rng_untouched() -> Iterator[None]:
    """No picture may draw from the global random stream: training's noise must not depend on them."""
    torch.manual_seed(1234)
    state = torch.random.get_rng_state()
    yield
    assert torch.equal(torch.random.get_rng_state(), state), "a picture drew from the global RNG"


def _model(name: str, trained: bool = False, **overrides: object) -> Model:
    """A tiny model in training mode, built (and trained one step) on a forked global RNG."""
    cls = fakes.PixelGaussian if name == "pixel-gaussian" else REGISTRY.model(name).cls
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = cls.build(SHAPE, batch_size=8, **overrides)
        if trained:
            model.train_step(torch.rand(8, *SHAPE.image_shape) * 2 - 1, torch.arange(8) % SHAPE.num_classes)
    return model.train()


def _png(path: Path) -> np.ndarray:
    """The picture as an ``(H, W)`` array of its first channel (grey images fill all three)."""
    image = Image.open(path)
    assert image.format == "PNG"
    return np.asarray(image.convert("RGB"))[..., 0]


def _cell(png: np.ndarray, row: int, col: int) -> torch.Tensor:
    """The ``(H, W)`` pixels of image (row, col) of a grid of SHAPE images, magnified 4 times (8 px to
    32): each 4x4 block must be one pixel of the image, returned once."""
    m, size = 4, 4 * SHAPE.resolution
    top, left = PADDING + row * (size + PADDING), PADDING + col * (size + PADDING)
    cell = torch.from_numpy(png[top : top + size, left : left + size].copy())
    pixels = cell[::m, ::m]
    assert torch.equal(cell, pixels.repeat_interleave(m, 0).repeat_interleave(m, 1))  # Nearest neighbour.
    return pixels


def _assert_grid(path: Path, rows: int, cols: int, labelled: bool = True) -> np.ndarray:
    """The grid of ``path``: its bottom-right corner, the title above it and the row labels left of it
    (each band holding text where ``labelled``)."""
    png = _png(path)
    width, height = grid_size(rows, cols, SHAPE.resolution, SHAPE.resolution)
    assert (width, height) == (cols * 34 + 2, rows * 34 + 2)
    left, top = png.shape[1] - width, png.shape[0] - height
    assert (left > 0 and top > 0) if labelled else (left, top) == (0, 0)
    if labelled:
        assert (png[:top] < 128).any()  # The title.
        for row in range(rows):  # Each row's label, beside its row.
            band = png[top + row * 34 + 2 : top + (row + 1) * 34, :left]
            assert (band < 128).any(), f"row {row} has no label"
    return png[top:, left:]


@pytest.mark.parametrize(("size", "times"), [(8, 4), (28, 2), (32, 1), (64, 1), (10, 4)])
def test_small_images_are_magnified_to_at_least_32_pixels(size: int, times: int) -> None:
    assert magnification(size, size) == times
    assert grid_size(1, 8, size, size) == (8 * (times * size + PADDING) + PADDING, times * size + 2 * PADDING)


def _assert_close(cell: torch.Tensor, image: torch.Tensor) -> None:
    """Equal up to one grey level: the grid decodes a larger batch, whose float sums may round apart."""
    assert (cell.int() - to_uint8(image)[0].int()).abs().max() <= 1


Calls = list[tuple[torch.Tensor, torch.Tensor | None]]


def _spy_decode(model: Model, monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Record the latents and labels of every ``model.decode`` call."""
    calls: Calls = []
    decode = model.decode

    def spy(latents: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        calls.append((latents, labels))
        return decode(latents, labels)

    monkeypatch.setattr(model, "decode", spy)
    return calls


@pytest.mark.parametrize("name", ["dcgan", "acgan", "pixel-gaussian"])
def test_a_snapshot_is_repeatable_and_leaves_the_model_as_it_was(name: str) -> None:
    model = _model(name, trained=True)
    for child in list(model.children())[:1]:
        child.eval()  # A part the model keeps in eval mode stays so.
    modes = [m.training for m in model.modules()]
    first = snapshot(model, 3, SHAPE.num_classes)
    assert first.shape == (PROGRESS_IMAGES, *SHAPE.image_shape) and first.dtype == torch.uint8
    assert torch.equal(first, snapshot(model, 3, SHAPE.num_classes))
    assert not torch.equal(first, snapshot(model, 4, SHAPE.num_classes))
    assert [m.training for m in model.modules()] == modes


def test_the_progress_strip_has_one_row_per_snapshot_in_order_each_labelled(tmp_path: Path) -> None:
    model = _model("dcgan")
    snapshots = [(float(kimg), snapshot(model, kimg, SHAPE.num_classes)) for kimg in range(3)]
    save_progress_strip(snapshots, tmp_path / "progress.png")
    png = _assert_grid(tmp_path / "progress.png", 3, PROGRESS_IMAGES)
    for row, (_, images) in enumerate(snapshots):
        for col in (0, 15):
            assert torch.equal(_cell(png, row, col), images[col, 0])


@pytest.mark.parametrize("name", ["cgan", "acgan"])
def test_the_class_grid_has_one_row_per_class_and_one_latent_per_column(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _model(name)
    calls = _spy_decode(model, monkeypatch)
    save_class_grid(model, 0, SHAPE.num_classes, tmp_path / "classes.png", per_class=4)
    png = _assert_grid(tmp_path / "classes.png", SHAPE.num_classes, 4)
    ((latents, labels),) = calls
    assert labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert all(torch.equal(latents[4 * k : 4 * k + 4], latents[:4]) for k in range(SHAPE.num_classes))
    for k in range(SHAPE.num_classes):
        _assert_close(_cell(png, k, 2), model.decode(latents[2:3], torch.tensor([k])))


def test_only_a_conditional_model_has_a_class_grid(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not conditional"):
        save_class_grid(_model("dcgan"), 0, SHAPE.num_classes, tmp_path / "classes.png")
    assert not (tmp_path / "classes.png").exists()


@pytest.mark.parametrize("name", ["dcgan", "acgan"])
def test_interpolations_run_between_latents_of_the_prior(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _model(name)
    calls = _spy_decode(model, monkeypatch)
    assert save_interpolations(model, 5, tmp_path / "interpolation.png", pairs=3, steps=4) is None
    png = _assert_grid(tmp_path / "interpolation.png", 3, 4)
    ((path, labels),) = calls
    path = path.unflatten(0, (3, 4))
    ends = model.latents(6, torch.Generator().manual_seed(5))
    assert torch.equal(path[:, 0], ends[:3]) and torch.equal(path[:, -1], ends[3:])
    norms = path.norm(dim=2)  # Spherical: the middle keeps about the endpoints' norms (see slerp).
    assert (norms[:, 1:-1] > 0.9 * norms[:, [0, -1]].min(dim=1, keepdim=True).values).all()
    if model.conditional:
        assert labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4  # One class per row.
    for row in range(3):
        row_labels = None if labels is None else labels[4 * row : 4 * row + 1]
        _assert_close(_cell(png, row, 0), model.decode(ends[row : row + 1], row_labels))
        _assert_close(_cell(png, row, 3), model.decode(ends[3 + row : 4 + row], row_labels))


def test_latents_of_a_hypercube_prior_are_joined_by_straight_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _model("gan", prior="uniform")
    calls = _spy_decode(model, monkeypatch)
    save_interpolations(model, 0, tmp_path / "interpolation.png", pairs=2, steps=3)
    path = calls[0][0].unflatten(0, (2, 3))
    assert torch.allclose(path[:, 1], (path[:, 0] + path[:, 2]) / 2)


def test_the_declared_prior_not_the_latents_range_picks_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A normal-prior model whose latents happen to lie in [0, 1] still gets arcs.
    model = _model("dcgan")
    shape = model.latents(1, torch.Generator()).shape[1:]
    monkeypatch.setattr(model, "latents", lambda n, generator: torch.rand(n, *shape, generator=generator))
    calls = _spy_decode(model, monkeypatch)
    save_interpolations(model, 0, tmp_path / "interpolation.png", pairs=2, steps=3)
    path = calls[0][0].unflatten(0, (2, 3))
    assert torch.allclose(path[:, 1], slerp(path[:, 0], path[:, 2], torch.tensor([0.5]))[:, 0])
    assert not torch.allclose(path[:, 1], (path[:, 0] + path[:, 2]) / 2)


def test_slerp_follows_the_arc_between_its_endpoints() -> None:
    a, b = torch.tensor([[2.0, 0.0], [1.0, 1.0]]), torch.tensor([[0.0, 2.0], [2.0, 2.0]])
    path = slerp(a, b, torch.linspace(0, 1, 5))
    assert path.shape == (2, 5, 2) and torch.equal(path[:, 0], a) and torch.equal(path[:, -1], b)
    assert torch.allclose(path[0].norm(dim=1), torch.full((5,), 2.0))  # On the circle of radius 2.
    assert torch.allclose(path[1], torch.lerp(a[1], b[1], torch.linspace(0, 1, 5)[:, None]))  # Parallel.


def test_a_model_without_latents_gets_a_reason_not_a_picture(tmp_path: Path) -> None:
    model = _model("pixel-gaussian")
    images = fakes.Bars(tmp_path).load("test")
    reason = save_interpolations(model, 0, tmp_path / "interpolation.png")
    assert isinstance(reason, str) and "no latent space" in reason and "\n" not in reason
    reason = save_encoded_interpolation(model, images.images, images.labels, tmp_path / "encoded.png")
    assert isinstance(reason, str) and "no encoder" in reason
    assert save_encoded_interpolation(_model("dcgan"), images.images, None, tmp_path / "encoded.png")
    assert not list(tmp_path.glob("*.png"))


def test_the_encoded_interpolation_starts_and_ends_at_the_real_images(tmp_path: Path) -> None:
    model = _model("vae", trained=True)
    split = fakes.Bars(tmp_path).load("test")
    path = tmp_path / "interpolation_encoded.png"
    assert save_encoded_interpolation(model, split.images, split.labels, path, pairs=4, steps=5) is None
    png = _assert_grid(path, 4, 7)
    for row in range(4):
        assert torch.equal(_cell(png, row, 0), split.images[row, 0])
        assert torch.equal(_cell(png, row, 6), split.images[4 + row, 0])
        real = split.images[row : row + 1].float() / 127.5 - 1
        _assert_close(_cell(png, row, 1), model.decode(model.encode(real)))  # The reconstruction.
    # A test split smaller than 2 x pairs (a small folder of images) gives as many rows as it can.
    assert save_encoded_interpolation(model, split.images[:7], split.labels[:7], path) is None
    _assert_grid(path, 3, 12)
    reason = save_encoded_interpolation(model, split.images[:1], split.labels[:1], tmp_path / "none.png")
    assert isinstance(reason, str) and "needs two" in reason and not (tmp_path / "none.png").exists()


def test_the_copying_gallery_shows_each_sample_beside_its_training_image(tmp_path: Path) -> None:
    generator = torch.Generator().manual_seed(0)
    samples, train = (
        torch.randint(0, 256, (n, 1, 8, 8), generator=generator, dtype=torch.uint8) for n in (9, 7)
    )
    pairs = (NearestPair(4, 6, 0.0), NearestPair(0, 2, 1.5), NearestPair(8, 2, 2.25))
    gallery = CopyingGallery(pairs, 9, 5, 3.0, 1.0, 1 / 9, "genbench-classifier/test")
    save_copying_gallery(gallery, samples, train, tmp_path / "copying.png")
    png = _assert_grid(tmp_path / "copying.png", 3, 2)
    for row, pair in enumerate(pairs):
        assert torch.equal(_cell(png, row, 0), samples[pair.sample, 0])
        assert torch.equal(_cell(png, row, 1), train[pair.train, 0])
    empty = CopyingGallery((), 9, 5, 3.0, 1.0, 0.0, "genbench-classifier/test")
    with pytest.raises(ValueError, match="at least one pair"):
        save_copying_gallery(empty, samples, train, tmp_path / "none.png")
