"""The built-in datasets: the embedded digits, and MNIST, Fashion-MNIST and CIFAR-10 read through
torchvision from small files written here in the real on-disk formats. Nothing touches the network:
``download`` is False except where torchvision's downloader is replaced.
"""

from __future__ import annotations

import gzip
import hashlib
import pickle
from collections.abc import Callable
from pathlib import Path

import cifar_files
import genbench_builtin.datasets
import idx_files
import numpy as np
import pytest
import torch
import torchvision.datasets
from genbench_builtin.datasets import CIFAR10, MNIST, Digits, FashionMNIST, digits, mnist
from genbench_builtin.datasets.digits import split_indices
from sklearn.datasets import load_digits

from genbench import DataShape
from genbench.core.registry import Registry
from genbench.errors import DataNotFoundError, UserError
from genbench.options.config import default_data_root

IDX_NAMES = [name for pair in idx_files.FILES.values() for name in pair]


def assert_one_line_naming(error: pytest.ExceptionInfo[BaseException], *paths: Path) -> str:
    """Check the error's message is one line naming every path in ``paths``; return it."""
    message = str(error.value)
    assert "\n" not in message
    for path in paths:
        assert str(path) in message
    return message


# --- digits ------------------------------------------------------------------------------------------


def test_digits_splits_have_the_documented_sizes_types_and_range(tmp_path: Path) -> None:
    dataset = Digits(tmp_path, download=False)
    train, test = dataset.load("train"), dataset.load("test")
    assert (len(train), len(test)) == (1437, 360)
    for split in (train, test):
        assert split.images.dtype == torch.uint8 and split.labels.dtype == torch.int64
        assert split.images.shape[1:] == (1, 8, 8) == Digits.shape.image_shape
        assert split.labels.min() == 0 and split.labels.max() == 9
        assert split.images.min() == 0 and split.images.max() == 255
    assert torch.bincount(test.labels, minlength=10).min() > 0  # Every class is tested.
    assert dataset.load("train") is train  # Cached on the instance.
    assert list(tmp_path.iterdir()) == []  # Embedded: nothing written to the data folder.


def test_digits_pixels_are_the_sklearn_counts_scaled_exactly(tmp_path: Path) -> None:
    bunch = load_digits()
    dataset = Digits(tmp_path)
    for split, idx in split_indices().items():
        loaded = dataset.load(split)
        expected = np.vectorize(lambda v: round(v * 255 / 16))(bunch.images[idx]).astype(np.uint8)
        assert np.array_equal(loaded.images[:, 0].numpy(), expected)
        assert np.array_equal(loaded.labels.numpy(), bunch.target[idx])
    # 8 of 16 is exactly half way: 127.5 rounds (to even) to 128, as round() does.
    assert 128 in dataset.load("train").images and 127 not in dataset.load("train").images


def test_digits_split_is_fixed_and_disjoint(tmp_path: Path) -> None:
    first, second = split_indices(), split_indices()
    assert all(np.array_equal(first[s], second[s]) for s in ("train", "test"))
    assert not set(first["train"]) & set(first["test"])
    assert sorted([*first["train"], *first["test"]]) == list(range(1797))
    assert not np.array_equal(np.sort(first["test"]), np.arange(1797 - 360, 1797))  # Shuffled, not the tail.
    # The documented definition: the last 360 of a fixed permutation. Pinned, because changing the
    # split (or its seed) silently changes every digits score.
    permutation = np.random.default_rng(digits.SPLIT_SEED).permutation(1797)
    assert np.array_equal(first["test"], permutation[-360:])
    assert first["test"][:5].tolist() == [210, 45, 84, 410, 879]
    a, b = Digits(tmp_path).load("test"), Digits(tmp_path / "other").load("test")
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)


def test_an_unknown_split_name_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"no split 'validation'; it has: train, test$"):
        Digits(tmp_path).load("validation")  # type: ignore[arg-type]


# --- MNIST and Fashion-MNIST ---------------------------------------------------------------------------


def assert_loaded_as_written(dataset: MNIST, written: dict[str, idx_files.IdxSplit]) -> None:
    for split, expected in written.items():
        loaded = dataset.load(split)  # type: ignore[arg-type]
        assert loaded.images.dtype == torch.uint8 and loaded.images.shape == (len(expected.images), 1, 28, 28)
        assert np.array_equal(loaded.images[:, 0].numpy(), expected.images)
        assert loaded.labels.dtype == torch.int64
        assert np.array_equal(loaded.labels.numpy(), expected.labels)


@pytest.mark.parametrize("cls", [MNIST, FashionMNIST])
def test_idx_gz_files_in_the_raw_folder_are_extracted_and_loaded(
    cls: type[MNIST], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mnist, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian")
    raw = tmp_path / cls.torchvision_class / "raw"
    written = idx_files.make_splits()
    idx_files.write_idx(raw, written, compress=True)
    assert_loaded_as_written(cls(tmp_path, download=False), written)
    for name in IDX_NAMES:  # Extracted next to the .gz files, where torchvision reads them.
        assert (raw / name).read_bytes() == gzip.decompress((raw / f"{name}.gz").read_bytes())
    assert sorted(p.name for p in raw.iterdir()) == sorted([*IDX_NAMES, *(f"{n}.gz" for n in IDX_NAMES)])


def test_already_extracted_idx_files_are_loaded_as_they_are(tmp_path: Path) -> None:
    raw = tmp_path / "MNIST" / "raw"
    written = idx_files.make_splits(n_train=7, n_test=3, seed=5)
    idx_files.write_idx(raw, written, compress=False)
    idx_files.write_idx(raw, idx_files.make_splits(seed=9), compress=True)  # Other data: must be ignored.
    dataset = MNIST(tmp_path, download=False)
    assert_loaded_as_written(dataset, written)
    first = dataset.load("train")
    for path in raw.iterdir():
        path.unlink()
    assert dataset.load("train") is first  # Loaded once per instance: the files are not read again.


def test_fashion_mnist_is_extracted_from_the_debian_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    debian = tmp_path / "usr-share-datasets-fashion-mnist"
    written = idx_files.make_splits(seed=3)
    idx_files.write_idx(debian, written, compress=True)
    monkeypatch.setattr(mnist, "DEBIAN_FASHION_MNIST", debian)
    root = tmp_path / "data"
    assert_loaded_as_written(FashionMNIST(root, download=False), written)
    assert sorted(p.name for p in (root / "FashionMNIST" / "raw").iterdir()) == sorted(IDX_NAMES)
    # MNIST is not Fashion-MNIST: it never looks in Debian's Fashion-MNIST folder.
    with pytest.raises(DataNotFoundError):
        MNIST(root, download=False).load("train")


@pytest.mark.parametrize(
    ("cls", "folders"),
    [(MNIST, ["MNIST/raw"]), (FashionMNIST, ["FashionMNIST/raw", "debian"])],
)
def test_missing_idx_data_is_one_line_naming_where_it_looked(
    cls: type[MNIST], folders: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mnist, "DEBIAN_FASHION_MNIST", tmp_path / "debian")
    with pytest.raises(DataNotFoundError) as error:
        cls(tmp_path, download=False).load("test")
    message = assert_one_line_naming(error, *(tmp_path / f for f in folders))
    assert "downloading is off" in message and "train-images-idx3-ubyte.gz" in message
    assert ("apt-get install dataset-fashion-mnist" in message) == (cls is FashionMNIST)


def test_a_failed_download_is_quiet_and_its_reason_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing_download(self: torchvision.datasets.MNIST) -> None:
        print("Downloading https://example.invalid/train-images-idx3-ubyte.gz")
        raise RuntimeError(
            "Error downloading train-images-idx3-ubyte.gz:\nTried https://example.invalid/, got:\n"
            "<urlopen error [Errno -3] Temporary failure in name resolution>\n"
        )

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", failing_download)
    with pytest.raises(DataNotFoundError) as error:
        MNIST(tmp_path, download=True).load("train")
    message = assert_one_line_naming(error, tmp_path / "MNIST" / "raw")
    assert "download failed: <urlopen error [Errno -3] Temporary failure in name resolution>" in message
    assert "Downloading" not in capsys.readouterr().out


def test_a_successful_download_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    written = idx_files.make_splits(seed=11)
    calls = []

    def fake_download(self: torchvision.datasets.MNIST) -> None:
        calls.append(self.raw_folder)
        idx_files.write_idx(Path(self.raw_folder), written, compress=False)

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", fake_download)
    dataset = MNIST(tmp_path, download=True)
    assert_loaded_as_written(dataset, written)
    assert calls == [str(tmp_path / "MNIST" / "raw")]  # Once, although two splits were loaded.


def test_a_truncated_gz_file_is_a_user_error_naming_it(tmp_path: Path) -> None:
    raw = tmp_path / "MNIST" / "raw"
    paths = idx_files.write_idx(raw, idx_files.make_splits(), compress=True)
    gz = paths["train-images-idx3-ubyte"]
    gz.write_bytes(gz.read_bytes()[:-100])
    with pytest.raises(DataNotFoundError) as error:
        MNIST(tmp_path, download=False).load("test")
    assert f"replace or delete {gz}" in assert_one_line_naming(error, gz)
    assert not (raw / "train-images-idx3-ubyte").exists()
    assert not [p for p in raw.iterdir() if p.name.endswith(".part")]  # No partial file left behind.


@pytest.mark.parametrize(
    ("name", "damage", "says"),
    [
        ("t10k-images-idx3-ubyte", lambda b: b[:-1], "truncated"),
        ("t10k-images-idx3-ubyte", lambda b: b[:10], "not even a header"),
        ("t10k-labels-idx1-ubyte", lambda b: b"\x00\x00\x08\x03" + b[4:], "not an IDX file"),
    ],
)
def test_a_corrupt_idx_file_is_a_user_error_naming_it(
    tmp_path: Path, name: str, damage: Callable[[bytes], bytes], says: str
) -> None:
    paths = idx_files.write_idx(tmp_path / "MNIST" / "raw", idx_files.make_splits(), compress=False)
    paths[name].write_bytes(damage(paths[name].read_bytes()))
    with pytest.raises(DataNotFoundError, match=says) as error:
        MNIST(tmp_path, download=False).load("test")
    assert_one_line_naming(error, paths[name])


def test_images_and_labels_of_different_lengths_are_refused(tmp_path: Path) -> None:
    raw = tmp_path / "MNIST" / "raw"
    idx_files.write_idx(raw, idx_files.make_splits(), compress=False)
    (raw / "train-labels-idx1-ubyte").write_bytes(idx_files.idx_bytes(np.zeros(19, np.uint8)))
    with pytest.raises(DataNotFoundError, match="holds 20 images but train-labels-idx1-ubyte holds 19"):
        MNIST(tmp_path, download=False).load("train")


def test_a_label_file_with_the_image_magic_says_what_its_magic_announces(tmp_path: Path) -> None:
    paths = idx_files.write_idx(tmp_path / "MNIST" / "raw", idx_files.make_splits(), compress=False)
    labels = paths["t10k-labels-idx1-ubyte"]
    labels.write_bytes(b"\x00\x00\x08\x03" + labels.read_bytes()[4:])
    with pytest.raises(DataNotFoundError) as error:
        MNIST(tmp_path, download=False).load("test")
    message = assert_one_line_naming(error, labels)
    assert "magic 0x00000803 announces 3 dimensions, not 1" in message and "x)" not in message


def test_a_file_longer_than_its_header_announces_is_not_called_truncated(tmp_path: Path) -> None:
    paths = idx_files.write_idx(tmp_path / "MNIST" / "raw", idx_files.make_splits(), compress=False)
    images = paths["t10k-images-idx3-ubyte"]
    images.write_bytes(images.read_bytes() + b"\x00" * 7)
    with pytest.raises(DataNotFoundError) as error:
        MNIST(tmp_path, download=False).load("test")
    message = assert_one_line_naming(error, images)
    assert "7 bytes longer than its header announces" in message and "truncated" not in message


def test_a_tilde_in_the_data_root_is_the_home_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    written = idx_files.make_splits(seed=3)
    idx_files.write_idx(tmp_path / "data" / "MNIST" / "raw", written, compress=False)
    dataset = MNIST(Path("~/data"), download=False)
    assert dataset.root == tmp_path / "data"
    assert_loaded_as_written(dataset, written)
    monkeypatch.setenv("GENBENCH_DATA_ROOT", "~/elsewhere")
    assert default_data_root() == tmp_path / "elsewhere"


def _refuse(monkeypatch: pytest.MonkeyPatch, method: str, below: Path) -> None:
    """Make ``Path.<method>`` raise PermissionError under ``below``, as for a user without the rights
    (the tests run as root, whom chmod does not stop)."""
    original = getattr(Path, method)

    def refusing(self: Path, *args: object, **kwargs: object) -> object:
        if self.is_relative_to(below) and self != below:
            raise PermissionError(13, "Permission denied", str(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, method, refusing)


@pytest.mark.parametrize("cls", [MNIST, CIFAR10])
def test_an_unreadable_data_root_is_one_clear_line(
    cls: type[MNIST], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "locked"
    root.mkdir()
    _refuse(monkeypatch, "stat", root)
    with pytest.raises(DataNotFoundError) as error:
        cls(root, download=False).load("test")
    message = assert_one_line_naming(error, root)
    assert "permission denied" in message and "--data-root" in message


def test_gz_files_in_a_read_only_folder_say_it_must_be_writable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = tmp_path / "MNIST" / "raw"
    idx_files.write_idx(raw, idx_files.make_splits(), compress=True)
    _refuse(monkeypatch, "open", raw)  # Reading the .gz files goes through gzip.open, not Path.open.
    with pytest.raises(DataNotFoundError) as error:
        MNIST(tmp_path, download=False).load("test")
    message = assert_one_line_naming(error, raw)
    assert ".part" not in message and "not writable" in message and "gunzip -k" in message


def test_real_fashion_mnist_from_the_debian_package(tmp_path: Path) -> None:
    if not all((mnist.DEBIAN_FASHION_MNIST / f"{name}.gz").is_file() for name in IDX_NAMES):
        pytest.skip(
            f"no Fashion-MNIST in {mnist.DEBIAN_FASHION_MNIST} (apt-get install dataset-fashion-mnist)"
        )
    dataset = FashionMNIST(tmp_path, download=False)
    train, test = dataset.load("train"), dataset.load("test")
    assert (len(train), len(test)) == (60_000, 10_000)
    for split in (train, test):
        assert split.images.dtype == torch.uint8 and split.images.shape[1:] == (1, 28, 28)
        assert split.labels.dtype == torch.int64
    assert torch.bincount(train.labels).tolist() == [6000] * 10
    assert torch.bincount(test.labels).tolist() == [1000] * 10
    assert train.images.min() == 0 and train.images.max() == 255


# --- CIFAR-10 --------------------------------------------------------------------------------------------


@pytest.fixture
def cifar_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict]:
    """A root with small CIFAR-10 batches, and torchvision told their md5s (its loading code unchanged)."""
    train, train_labels = cifar_files.make_images(23, seed=1)
    test, test_labels = cifar_files.make_images(6, seed=2)
    md5s = cifar_files.write_cifar(tmp_path, train, train_labels, test, test_labels)
    cls = torchvision.datasets.CIFAR10
    monkeypatch.setattr(cls, "train_list", [[name, md5s[name]] for name in cifar_files.TRAIN_BATCHES])
    monkeypatch.setattr(cls, "test_list", [["test_batch", md5s["test_batch"]]])
    monkeypatch.setattr(cls, "meta", {**cls.meta, "md5": md5s["batches.meta"]})
    return tmp_path, {"train": (train, train_labels), "test": (test, test_labels)}


def assert_cifar_as_written(dataset: CIFAR10, written: dict) -> None:
    for split, (images, labels) in written.items():
        loaded = dataset.load(split)
        assert loaded.images.dtype == torch.uint8 and loaded.images.shape == (len(images), 3, 32, 32)
        assert np.array_equal(loaded.images.numpy(), images)  # Channel order R, G, B kept.
        assert loaded.labels.dtype == torch.int64 and loaded.labels.tolist() == labels


def test_cifar10_pickle_batches_round_trip_exactly(cifar_root: tuple[Path, dict]) -> None:
    root, written = cifar_root
    dataset = CIFAR10(root, download=False)
    assert_cifar_as_written(dataset, written)
    # Independently of the writer: row 0 of data_batch_1, as pickled, starts with image 0's red plane.
    with (root / cifar_files.FOLDER / "data_batch_1").open("rb") as file:
        row = pickle.load(file, encoding="latin1")["data"][0]
    image = dataset.load("train").images[0].numpy()
    assert np.array_equal(row[:1024].reshape(32, 32), image[0])  # R
    assert np.array_equal(row[2048:].reshape(32, 32), image[2])  # B


def test_cifar10_tarball_is_extracted(cifar_root: tuple[Path, dict]) -> None:
    root, written = cifar_root
    cifar_files.tar_folder(root)
    for path in (root / cifar_files.FOLDER).iterdir():
        path.unlink()
    (root / cifar_files.FOLDER).rmdir()
    assert_cifar_as_written(CIFAR10(root, download=False), written)
    assert sorted(p.name for p in root.iterdir()) == [cifar_files.FOLDER, "cifar-10-python.tar.gz"]


def test_missing_cifar10_is_one_line_naming_the_folder_and_the_archive(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError) as error:
        CIFAR10(tmp_path, download=False).load("train")
    message = assert_one_line_naming(
        error, tmp_path / "cifar-10-batches-py", tmp_path / "cifar-10-python.tar.gz"
    )
    assert "downloading is off" in message


def test_a_failed_cifar10_download_reports_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_download(self: torchvision.datasets.CIFAR10) -> None:
        raise RuntimeError("File not found or corrupted.")

    monkeypatch.setattr(torchvision.datasets.CIFAR10, "download", failing_download)
    with pytest.raises(DataNotFoundError) as error:
        CIFAR10(tmp_path, download=True).load("test")
    assert "download failed: File not found or corrupted." in assert_one_line_naming(error, tmp_path)


def test_a_damaged_cifar10_archive_is_named(tmp_path: Path) -> None:
    archive = tmp_path / "cifar-10-python.tar.gz"
    archive.write_bytes(b"<html>Service unavailable</html>")
    with pytest.raises(DataNotFoundError) as error:
        CIFAR10(tmp_path, download=False).load("train")
    assert f"replace or delete {archive}" in assert_one_line_naming(error, archive)
    assert sorted(p.name for p in tmp_path.iterdir()) == [archive.name]  # No scratch folder left.


def test_a_cifar10_file_with_the_wrong_md5_is_named(cifar_root: tuple[Path, dict]) -> None:
    root, _ = cifar_root
    damaged = root / cifar_files.FOLDER / "data_batch_3"
    damaged.write_bytes(damaged.read_bytes()[:-5])
    with pytest.raises(DataNotFoundError, match="md5") as error:
        CIFAR10(root, download=False).load("test")
    assert "data_batch_3 does not match" in assert_one_line_naming(error, damaged.parent)


def _damage(root: Path, name: str) -> Path:
    path = root / cifar_files.FOLDER / name
    path.write_bytes(path.read_bytes()[:-5])
    return path


def test_the_cifar10_md5_message_names_missing_and_mismatching_files_briefly(
    cifar_root: tuple[Path, dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = cifar_root
    (root / cifar_files.FOLDER / "data_batch_1").unlink()
    for name in ("data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"):
        _damage(root, name)

    def failing_download(self: torchvision.datasets.CIFAR10) -> None:
        raise RuntimeError("<urlopen error [Errno -3] Temporary failure in name resolution>")

    monkeypatch.setattr(torchvision.datasets.CIFAR10, "download", failing_download)
    with pytest.raises(DataNotFoundError) as error:
        CIFAR10(root, download=True).load("test")
    message = assert_one_line_naming(error, root / cifar_files.FOLDER)
    assert "missing data_batch_1" in message and "data_batch_2" in message and "test_batch" in message
    assert "download failed: <urlopen error" in message
    assert len(message.replace(str(root / cifar_files.FOLDER), "FOLDER")) < 300, message


def test_a_mismatching_cifar10_archive_is_named(cifar_root: tuple[Path, dict]) -> None:
    root, _ = cifar_root
    damaged = _damage(root, "data_batch_3")
    archive = cifar_files.tar_folder(root)
    with pytest.raises(DataNotFoundError) as error:
        CIFAR10(root, download=False).load("test")
    message = assert_one_line_naming(error, damaged.parent, archive)
    assert "data_batch_3" in message


def test_a_cifar10_batch_of_the_wrong_shape_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train, train_labels = cifar_files.make_images(10, seed=1)
    test, test_labels = cifar_files.make_images(4, seed=2)
    md5s = cifar_files.write_cifar(tmp_path, train, train_labels, test, test_labels)
    bad = tmp_path / cifar_files.FOLDER / "data_batch_2"
    content = pickle.loads(bad.read_bytes(), encoding="latin1")
    content["data"] = content["data"][:, :3000]
    bad.write_bytes(pickle.dumps(content, protocol=2))
    md5s["data_batch_2"] = hashlib.md5(bad.read_bytes()).hexdigest()
    cls = torchvision.datasets.CIFAR10
    monkeypatch.setattr(cls, "train_list", [[name, md5s[name]] for name in cifar_files.TRAIN_BATCHES])
    monkeypatch.setattr(cls, "test_list", [["test_batch", md5s["test_batch"]]])
    monkeypatch.setattr(cls, "meta", {**cls.meta, "md5": md5s["batches.meta"]})
    with pytest.raises(DataNotFoundError) as error:
        CIFAR10(tmp_path, download=False).load("train")
    assert "3072" in assert_one_line_naming(error, bad)


# --- registration ----------------------------------------------------------------------------------------


def test_the_plugin_registers_the_four_datasets_with_their_shapes() -> None:
    registry = Registry.discover([genbench_builtin.datasets], autoload=False)
    own_images = {"folder", "npz"}  # Shaped by their argument: tests/builtin/test_user_images.py.
    assert own_images <= set(registry.datasets)
    shapes = {name: entry.cls.shape for name, entry in registry.datasets.items() if name not in own_images}
    assert shapes == {
        "digits": DataShape(channels=1, resolution=8, num_classes=10),
        "mnist": DataShape(channels=1, resolution=28, num_classes=10),
        "fashion-mnist": DataShape(channels=1, resolution=28, num_classes=10),
        "cifar10": DataShape(channels=3, resolution=32, num_classes=10),
    }
    assert registry.models == {}
    assert all(entry.description and "\n" not in entry.description for entry in registry.datasets.values())
