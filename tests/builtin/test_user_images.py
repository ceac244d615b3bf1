"""Your own images without code: ``--data folder:PATH[@RES][:gray]`` (ImageFolder layout, any format PIL
reads) and ``--data npz:FILE[@RES]``, from tiny files written here; the split rule; one-line errors
naming the file."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import genbench_builtin.datasets
import numpy as np
import pytest
import torch
from genbench_builtin.datasets.user_images import SPLIT_RULE
from PIL import Image
from typer.testing import CliRunner

from genbench import DataShape
from genbench.cli import app
from genbench.core.registry import PluginEntry, Registry
from genbench.errors import UserError

COLOURS = {"apple": (200, 30, 30), "leaf": (20, 180, 40), "sky": (40, 60, 220)}
FORMATS = ("png", "jpg", "bmp", "gif", "webp")


def registry() -> Registry:
    return Registry.discover([genbench_builtin.datasets], autoload=False)


def write_folder(root: Path, per_class: int = 10, classes: dict[str, tuple[int, int, int]] = COLOURS) -> Path:
    """``root/<class>/`` with ``per_class`` solid-colour images each, in assorted sizes, modes and formats."""
    for c, (name, colour) in enumerate(classes.items()):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            size = (12 + i, 10 + c) if i % 2 else (16, 16)  # Some not square: cropped to the centre.
            image = Image.new("RGB", size, colour)
            if i % 3 == 2:
                image = image.convert("RGBA")
            fmt = FORMATS[i % len(FORMATS)]
            image = image.convert("RGB") if fmt in ("jpg", "bmp") else image
            image.save(root / name / f"img{i:02d}.{fmt}")
    (root / next(iter(classes)) / "notes.txt").write_text("not an image: skipped")
    return root


def test_folder_is_a_dataset_named_by_its_content_with_the_declared_shape(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "My Fruit")
    entry = registry().dataset(f"folder:{root}@8")
    assert re.fullmatch(r"folder-my-fruit-[0-9a-f]{8}", entry.name)
    assert entry.cls.shape == DataShape(channels=3, resolution=8, num_classes=3)
    assert "30 images in 3 classes" in entry.description and SPLIT_RULE in entry.description
    dataset = entry.cls(tmp_path, download=False)
    train, test = dataset.load("train"), dataset.load("test")
    assert (len(train), len(test)) == (24, 6)  # 20% of each class's 10 images.
    assert torch.bincount(test.labels).tolist() == [2, 2, 2]  # Classes in order of folder name.
    for split in (train, test):
        assert split.images.dtype == torch.uint8 and split.images.shape[1:] == (3, 8, 8)
        for label, colour in enumerate(COLOURS.values()):
            pixels = split.images[split.labels == label].permute(0, 2, 3, 1).reshape(-1, 3).float()
            # Solid colours stay solid through crop and resize (JPEG and WebP are lossy: a few levels).
            assert (pixels - torch.tensor(colour)).abs().max() <= 6
    # The split is fixed: configuring again gives the same name and the same images.
    again = registry().dataset(f"folder:{root}@8").cls(tmp_path).load("test")
    assert torch.equal(again.images, test.images) and torch.equal(again.labels, test.labels)


def test_folder_name_changes_with_the_files_not_their_location(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "fruit")
    name = registry().dataset(f"folder:{root}").name
    copy = shutil.copytree(root, tmp_path / "elsewhere" / "fruit")
    assert registry().dataset(f"folder:{copy}").name == name
    assert registry().dataset(f"folder:{root}@16").name != name  # Another resolution, another dataset.
    Image.new("RGB", (16, 16), (1, 2, 3)).save(copy / "sky" / "img00.png")
    assert registry().dataset(f"folder:{copy}").name != name


def test_folder_gray_mode_and_its_own_train_test_folders(tmp_path: Path) -> None:
    root = tmp_path / "given"
    write_folder(root / "train", per_class=3)
    write_folder(
        root / "test", per_class=2, classes={"leaf": COLOURS["leaf"]}
    )  # A test class may be missing.
    entry = registry().dataset(f"folder:{root}@4:gray")
    assert entry.cls.shape == DataShape(channels=1, resolution=4, num_classes=3)
    assert "its own train/ and test/ folders" in entry.description
    dataset = entry.cls(tmp_path)
    train, test = dataset.load("train"), dataset.load("test")
    assert len(train) == 9 and test.labels.tolist() == [1, 1]  # 'leaf' is class 1 of apple, leaf, sky.
    expected = Image.new("RGB", (1, 1), COLOURS["leaf"]).convert("L").getpixel((0, 0))
    assert (test.images.int() - expected).abs().max() <= 6


def test_an_unreadable_image_is_a_one_line_error_naming_it(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "fruit", per_class=2)
    broken = root / "leaf" / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    dataset = registry().dataset(f"folder:{root}@8").cls(tmp_path)
    with pytest.raises(UserError) as error:
        dataset.load("train")
    assert str(broken) in str(error.value) and "\n" not in str(error.value)
    # Through the command: exit 2, one line, before any training.
    result = CliRunner().invoke(
        app, ["run", "--models", "dcgan", "--data", f"folder:{root}@8", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2 and str(broken) in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ("folder", "needs the images' location: --data folder:PATH"),
        ("folder:{tmp}/missing", "is not a folder"),
        ("folder:{tmp}/empty", "has no class subfolders"),
        ("folder:{tmp}/hollow", "has no image files"),
        ("folder:{tmp}/hollow@2", "the resolution must lie in 4..1024"),
        ("digits:{tmp}", "dataset 'digits' takes no argument"),
        ("npz:{tmp}/missing.npz", "is not a file"),
        ("npz:{tmp}/garbage.npz", "cannot be read as an .npz file"),
    ],
)
def test_bad_locations_are_one_line_errors(tmp_path: Path, data: str, says: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "hollow" / "cls").mkdir(parents=True)
    (tmp_path / "garbage.npz").write_bytes(b"not a zip")
    with pytest.raises(UserError, match=re.escape(says)) as error:
        entry = registry().dataset(data.format(tmp=tmp_path))
        entry.cls(tmp_path).load("train")
    assert "\n" not in str(error.value)


def grey_images(n: int, size: int = 6, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size), dtype=np.uint8)


def test_npz_of_images_and_labels_in_every_layout(tmp_path: Path) -> None:
    images = grey_images(20)
    labels = np.repeat([3, 7], 10)  # Any integer values: they become classes 0 and 1.
    np.savez(tmp_path / "hw.npz", images=images, labels=labels)
    entry = registry().dataset(f"npz:{tmp_path / 'hw.npz'}")
    assert entry.cls.shape == DataShape(channels=1, resolution=6, num_classes=2)
    assert re.fullmatch(r"npz-hw-[0-9a-f]{8}", entry.name) and SPLIT_RULE in entry.description
    dataset = entry.cls(tmp_path)
    train, test = dataset.load("train"), dataset.load("test")
    assert (len(train), len(test)) == (16, 4) and torch.bincount(test.labels).tolist() == [2, 2]
    both = torch.cat([train.images, test.images])[:, 0].numpy()
    assert sorted(map(bytes, both)) == sorted(map(bytes, images))  # Stored as given, split not altered.

    rgb = np.random.default_rng(1).integers(0, 256, (8, 5, 5, 3), dtype=np.uint8)
    for name, stored in (("nhwc", rgb), ("nchw", rgb.transpose(0, 3, 1, 2))):
        np.savez(tmp_path / f"{name}.npz", images=stored, labels=np.arange(8) % 2)
        dataset = registry().dataset(f"npz:{tmp_path / name}.npz").cls(tmp_path)
        loaded = torch.cat([dataset.load("train").images, dataset.load("test").images])
        assert loaded.shape == (8, 3, 5, 5)
        expected = sorted(map(bytes, rgb.transpose(0, 3, 1, 2)))  # Channels first, pixels unchanged.
        assert sorted(map(bytes, loaded.numpy())) == expected


def test_npz_with_its_own_split_resized_and_converted(tmp_path: Path) -> None:
    path = tmp_path / "split.npz"
    np.savez(
        path,
        train_images=grey_images(6, size=10),
        train_labels=np.array([0, 1, 2, 0, 1, 2]),
        test_images=grey_images(3, size=10, seed=1),
        test_labels=np.array([2, 1, 0]),
    )
    entry = registry().dataset(f"npz:{path}@4:rgb")
    assert entry.cls.shape == DataShape(channels=3, resolution=4, num_classes=3)
    assert "the file's own train/test arrays" in entry.description
    test = entry.cls(tmp_path).load("test")
    assert test.images.shape == (3, 3, 4, 4) and test.labels.tolist() == [2, 1, 0]
    assert torch.equal(test.images[:, 0], test.images[:, 1])  # Grey as RGB: equal channels.


@pytest.mark.parametrize(
    ("arrays", "says"),
    [
        ({"images": np.zeros((4, 6, 6), np.float32), "labels": np.zeros(4, int)}, "must be uint8"),
        ({"pictures": np.zeros((4, 6, 6), np.uint8)}, "has arrays pictures; it needs 'images' and 'labels'"),
        ({"images": np.zeros((4, 6, 6), np.uint8), "labels": np.zeros(3, int)}, "must be 4 integers"),
        ({"images": np.zeros((4, 6, 8), np.uint8), "labels": np.zeros(4, int)}, "add @RES"),
        ({"images": np.zeros((4, 2, 6, 6), np.uint8), "labels": np.zeros(4, int)}, "expected (N, H, W)"),
    ],
)
def test_wrong_npz_contents_are_one_line_errors_naming_the_file(
    tmp_path: Path, arrays: dict[str, np.ndarray], says: str
) -> None:
    path = tmp_path / "data.npz"
    np.savez(path, **arrays)
    with pytest.raises(UserError, match=re.escape(says)) as error:
        registry().dataset(f"npz:{path}")
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_the_plugin_lists_folder_and_npz_with_how_to_name_them() -> None:
    datasets = registry().datasets
    assert "--data folder:PATH" in datasets["folder"].description
    assert "--data npz:FILE" in datasets["npz"].description


def test_own_images_run_end_to_end(tmp_path: Path) -> None:
    # Test splits of 16 images or more: the report's interpolation pictures pair 16 real test images.
    root = write_folder(tmp_path / "fruit", per_class=30)
    np.savez(tmp_path / "grey.npz", images=grey_images(80, size=8), labels=np.arange(80) % 4)
    data = f"folder:{root}@8,npz:{tmp_path / 'grey.npz'}"
    out = tmp_path / "results"
    args = ["run", "--models", "dcgan", "--data", data, "--kimg", "0.1", "--n-samples", "20"]
    result = CliRunner().invoke(
        app, [*args, "--metrics", "fd_clf", "--set", "dcgan.base_channels=8", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(p.read_text()) for p in sorted(out.glob("runs/*/metrics.json"))]
    assert sorted(r["dataset"].split("-")[0] for r in records) == ["folder", "npz"]
    assert all(r["status"] == "finished" and SPLIT_RULE in r["dataset_description"] for r in records)


def test_entries_keep_their_distribution(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "fruit", per_class=2)
    entry: PluginEntry = registry().dataset(f"folder:{root}")
    assert entry.kind == "dataset" and entry.distribution == registry().datasets["folder"].distribution
