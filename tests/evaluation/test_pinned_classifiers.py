"""The reference classifier is the same everywhere (issue 22): genbench ships it for digits and
Fashion-MNIST, pinned by SHA-256, and trains any other on the CPU whatever the runs' device."""

from __future__ import annotations

from pathlib import Path

import fakes
import pytest
import torch

import genbench.evaluation.classifier
from genbench.api import Split
from genbench.evaluation.classifier import Recipe, cached_classifier, classifier_accuracy, load_classifier
from genbench.evaluation.pinned_classifiers import PINNED
from genbench.options.identity import data_sha256

CPU = torch.device("cpu")
QUICK = Recipe(images=2_000, min_epochs=1, max_epochs=2)
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")

pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.


def _bars() -> tuple[Split, Split]:
    dataset = fakes.Bars(Path("unused"))
    return dataset.load("train"), dataset.load("test")


def _no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    def trained(*args: object, **kwargs: object) -> None:
        raise AssertionError("a pinned classifier was trained again")

    monkeypatch.setattr(genbench.evaluation.classifier, "train_classifier", trained)


def test_a_pinned_classifier_is_copied_into_the_cache_not_trained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train, test = _bars()
    pinned = cached_classifier("bars", fakes.Bars.shape, train, test, tmp_path / "pinned", CPU, QUICK)
    assert not pinned.pinned  # Trained here: this is how a maintainer pins one.
    _no_training(monkeypatch)
    cache = tmp_path / "cache"
    found = cached_classifier(
        "bars", fakes.Bars.shape, train, test, cache, CPU, QUICK, pinned_folder=tmp_path / "pinned"
    )
    assert found.pinned and found.protocol()["classifier_pinned"] is True
    assert found.path.parent == cache and found.weights_sha256 == pinned.weights_sha256
    assert (found.key, found.test_accuracy) == (pinned.key, pinned.test_accuracy)
    # Damaged in the cache: the pinned copy comes back, and a line says so.
    found.path.write_bytes(b"not weights")
    said: list[str] = []
    pinned_folder = tmp_path / "pinned"
    shape = fakes.Bars.shape
    again = cached_classifier(
        "bars", shape, train, test, cache, CPU, QUICK, warn=said.append, pinned_folder=pinned_folder
    )
    assert again == found and len(said) == 1 and "copying genbench's pinned one again" in said[0]


def test_other_data_is_trained_and_not_pinned(tmp_path: Path) -> None:
    train, test = _bars()
    pinned = cached_classifier("bars", fakes.Bars.shape, train, test, tmp_path / "pinned", CPU, QUICK)
    other = Split(train.images[:-1], train.labels[:-1])  # One image fewer: another data hash.
    found = cached_classifier(
        "bars",
        fakes.Bars.shape,
        other,
        test,
        tmp_path / "cache",
        CPU,
        QUICK,
        pinned_folder=tmp_path / "pinned",
    )
    assert not found.pinned and found.key != pinned.key


def test_the_classifier_trains_on_the_cpu_whatever_the_runs_device(tmp_path: Path) -> None:
    # A GPU would train other weights; CUDA asked for, or absent, the weights are the CPU's.
    train, test = _bars()
    on_cpu = cached_classifier("bars", fakes.Bars.shape, train, test, tmp_path / "a", CPU, QUICK)
    asked_cuda = cached_classifier(
        "bars", fakes.Bars.shape, train, test, tmp_path / "b", torch.device("cuda"), QUICK
    )
    assert asked_cuda.weights_sha256 == on_cpu.weights_sha256


def _shipped(name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from genbench_builtin.datasets import Digits, FashionMNIST

    dataset = {"digits": Digits, "fashion-mnist": FashionMNIST}[name](tmp_path / "data", download=False)
    train, test = dataset.load("train"), dataset.load("test")
    _no_training(monkeypatch)
    found = cached_classifier(
        name, dataset.shape, train, test, tmp_path / "cache", CPU, data_sha256=data_sha256(train, test)
    )
    assert found.pinned and (PINNED / found.path.name).is_file()
    assert classifier_accuracy(load_classifier(found.path), test, CPU) == found.test_accuracy


def test_genbench_ships_the_digits_classifier(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _shipped("digits", monkeypatch, tmp_path)


@pytest.mark.skipif(
    not DEBIAN_FASHION_MNIST.is_dir(), reason="Fashion-MNIST's files: apt-get install dataset-fashion-mnist"
)
def test_genbench_ships_the_fashion_mnist_classifier(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _shipped("fashion-mnist", monkeypatch, tmp_path)


def test_a_classifier_is_shared_by_copying_its_two_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The README's way for a group to share a classifier genbench does not ship.
    train, test = _bars()
    mine = cached_classifier("bars", fakes.Bars.shape, train, test, tmp_path / "mine", CPU, QUICK)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    for file in (mine.path, mine.path.with_suffix(".json")):
        (theirs / file.name).write_bytes(file.read_bytes())
    _no_training(monkeypatch)
    found = cached_classifier("bars", fakes.Bars.shape, train, test, theirs, CPU, QUICK)
    assert (found.weights_sha256, found.test_accuracy) == (mine.weights_sha256, mine.test_accuracy)
