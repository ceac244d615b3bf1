"""The offline feature spaces: pixels through a fixed PCA of the train split and a seeded random
network, each a torch-fidelity extractor whose FD is torch-fidelity's, with its weights' hash recorded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from caches import session_cache
from setups import CPU, make_setup
from sklearn.decomposition import PCA

from genbench.core.files import file_sha256
from genbench.core.images import to_unit_range
from genbench.evaluation.classifier import cached_classifier
from genbench.evaluation.evaluate import evaluate
from genbench.evaluation.frechet import frechet_distance, statistics
from genbench.evaluation.pixel_pca import SEED
from genbench.evaluation.random_network import random_checkpoint

SPACES = ("fd_pca", "fd_rand")

pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory):
    from genbench_builtin.datasets import Digits

    train, test = (Digits(Path("unused")).load(split) for split in ("train", "test"))
    cache = session_cache(tmp_path_factory) / "classifiers"
    return train, test, cached_classifier("digits", Digits.shape, train, test, cache, CPU)


def test_fd_pca_is_the_frechet_distance_of_pca_projected_pixels(digits, tmp_path: Path) -> None:
    train, test, classifier = digits
    setup = make_setup("digits", test, classifier, tmp_path, ("fd_pca",), splits=(train, test))
    samples = train.images[:500]
    evaluation = evaluate(samples, setup)
    pixels = [to_unit_range(images).flatten(1).numpy() for images in (samples, test.images)]
    pca = PCA(n_components=64, svd_solver="randomized", random_state=SEED).fit(
        to_unit_range(train.images).flatten(1).numpy()
    )
    expected = frechet_distance(*(statistics(pca.transform(p)) for p in pixels))
    assert evaluation.metrics["fd_pca_500"] == pytest.approx(expected, rel=1e-3)
    protocol = evaluation.protocol["fd_pca_500"]
    assert protocol["pca_components"] == 64 and protocol["pca_fitted_on"] == "the train split"
    (weights,) = (tmp_path / "feature-spaces").glob("pixel-pca-*.pt")
    assert protocol["weights_sha256"] == file_sha256(weights)


def test_the_random_network_is_seeded_recorded_and_leaves_the_callers_rng_alone(
    digits, tmp_path: Path
) -> None:
    train, test, classifier = digits
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    first, second = random_checkpoint(1), random_checkpoint(1)
    assert torch.equal(torch.rand(1), before)  # Drawn under a forked RNG.
    for name, tensor in first["state_dict"].items():  # type: ignore[union-attr]
        assert torch.equal(tensor, second["state_dict"][name])  # type: ignore[index]
    values = [
        evaluate(train.images[:300], make_setup("digits", test, classifier, tmp_path / run, ("fd_rand",)))
        for run in ("a", "b")
    ]
    assert values[0].metrics == values[1].metrics and values[0].metrics["fd_rand_300"] > 0
    (weights,) = (tmp_path / "a" / "feature-spaces").glob("random-*.pt")
    assert values[0].protocol["fd_rand_300"]["weights_sha256"] == file_sha256(weights)


def test_both_spaces_tell_real_images_from_noise(digits, tmp_path: Path) -> None:
    train, test, classifier = digits
    setup = make_setup("digits", test, classifier, tmp_path, SPACES, splits=(train, test))
    noise = torch.randint(
        0, 256, (360, 1, 8, 8), generator=torch.Generator().manual_seed(0), dtype=torch.uint8
    )
    real, noisy = evaluate(train.images[:360], setup).metrics, evaluate(noise, setup).metrics
    for space in SPACES:
        assert noisy[f"{space}_360"] > 10 * real[f"{space}_360"], (real, noisy)


def test_without_a_train_split_fd_pca_is_empty_with_the_reason(digits, tmp_path: Path) -> None:
    train, test, classifier = digits
    evaluation = evaluate(train.images[:50], make_setup("digits", test, classifier, tmp_path, ("fd_pca",)))
    assert evaluation.metrics == {"fd_pca_50": None, "fd_pca_50_lo": None, "fd_pca_50_hi": None}
    assert "no train split" in evaluation.protocol["fd_pca_50"]["unavailable"]
    assert np.isfinite(
        evaluate(train.images[:50], make_setup("digits", test, classifier, tmp_path)).metrics["fd_clf_50"]
    )
