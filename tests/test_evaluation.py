"""Evaluation: the reference classifier, its cache, and the Fréchet distance computed by torch-fidelity."""

from __future__ import annotations

import os
from pathlib import Path

import fakes
import numpy as np
import pytest
import torch
from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric

from genbench.batches import to_unit_range
from genbench.classifier import ClassifierInfo, Recipe, cached_classifier, load_classifier
from genbench.evaluation import balanced_labels, evaluate, generate
from genbench.fidelity import classifier_fd

CPU = torch.device("cpu")
FAST = Recipe()


@pytest.fixture(scope="module")
def bars_classifier(tmp_path_factory: pytest.TempPathFactory) -> tuple[ClassifierInfo, object, object]:
    dataset = fakes.Bars(Path("unused"))
    train, test = dataset.load("train"), dataset.load("test")
    cache = tmp_path_factory.mktemp("cache")
    info = cached_classifier("bars", fakes.Bars.shape, train, test, cache, CPU, FAST)
    return info, train, test


def test_classifier_is_trained_once_then_loaded_from_cache(bars_classifier, tmp_path: Path) -> None:
    info, train, test = bars_classifier
    assert info.test_accuracy > 0.9
    mtime = info.path.stat().st_mtime_ns
    again = cached_classifier("bars", fakes.Bars.shape, train, test, info.path.parent, CPU, FAST)
    assert again == info and info.path.stat().st_mtime_ns == mtime
    # The checkpoint holds only tensors and plain values.
    assert isinstance(torch.load(info.path, weights_only=True)["state_dict"], dict)


def test_cache_key_changes_with_seed_data_and_recipe(bars_classifier) -> None:
    info, train, test = bars_classifier
    other_seed = cached_classifier(
        "bars", fakes.Bars.shape, train, test, info.path.parent, CPU, Recipe(seed=1)
    )
    assert other_seed.key != info.key and other_seed.weights_sha256 != info.weights_sha256
    changed = type(train)(train.images.clone(), train.labels.clone())
    changed.images[0, 0, 0, 0] ^= 1
    assert (
        cached_classifier("bars", fakes.Bars.shape, changed, test, info.path.parent, CPU, FAST).key
        != info.key
    )


def test_fd_is_torch_fidelity_frechet_distance_on_classifier_features(
    bars_classifier, tmp_path: Path
) -> None:
    info, train, test = bars_classifier
    reported = classifier_fd(train.images, test, None, info, CPU, tmp_path)
    classifier = load_classifier(info.path)
    with torch.no_grad():
        features = [classifier.features(to_unit_range(s.images)).double() for s in (train, test)]
    stats = [fid_features_to_statistics(f) for f in features]
    expected = fid_statistics_to_metric(*stats, verbose=False)["frechet_inception_distance"]
    assert reported == pytest.approx(expected, rel=1e-3)


def test_reference_statistics_are_cached_under_their_key(bars_classifier, tmp_path: Path) -> None:
    info, train, test = bars_classifier
    first = classifier_fd(train.images, test, "ref-key", info, CPU, tmp_path)
    cached = sorted(p.name for p in tmp_path.iterdir())
    assert any(name.startswith("ref-key-") for name in cached)
    assert classifier_fd(train.images, test, "ref-key", info, CPU, tmp_path) == pytest.approx(first)


def test_evaluation_names_the_sample_count_and_records_its_protocol(bars_classifier, tmp_path: Path) -> None:
    info, train, test = bars_classifier
    evaluation = evaluate(train.images[:200], "bars", test, info, CPU, tmp_path)
    assert list(evaluation.metrics) == ["fd_clf_200"]
    protocol = evaluation.protocol["fd_clf_200"]
    assert protocol["n_generated"] == 200 and protocol["n_reference"] == len(test)
    assert protocol["weights_sha256"] == info.weights_sha256 and protocol["reference_split"] == "test"


def test_generate_is_seeded_and_quantised() -> None:
    torch.manual_seed(0)
    model = fakes.PixelGaussian.build(fakes.Bars.shape)
    first, second = generate(model, 700, seed=3, device=CPU), generate(model, 700, seed=3, device=CPU)
    assert first.dtype == torch.uint8 and first.shape == (700, 1, 8, 8)
    assert torch.equal(first, second) and not torch.equal(first, generate(model, 700, seed=4, device=CPU))
    assert model.training  # Restored after sampling in eval mode.
    assert torch.equal(balanced_labels(7, 3, CPU), torch.tensor([0, 1, 2, 0, 1, 2, 0]))


def test_fd_floor_on_real_digits_is_far_below_noise(tmp_path: Path) -> None:
    from genbench_builtin.datasets import Digits

    digits = Digits(Path("unused"))
    train, test = digits.load("train"), digits.load("test")
    cache = Path(os.environ["GENBENCH_CACHE_DIR"]) / "classifiers"  # Shared with the other digits tests.
    info = cached_classifier("digits", Digits.shape, train, test, cache, CPU)
    assert info.test_accuracy > 0.9
    floor = classifier_fd(train.images, test, None, info, CPU, tmp_path)
    noise = torch.from_numpy(np.random.default_rng(0).integers(0, 256, train.images.shape, dtype=np.uint8))
    noise_fd = classifier_fd(noise, test, None, info, CPU, tmp_path)
    assert floor * 20 < noise_fd, (floor, noise_fd)
