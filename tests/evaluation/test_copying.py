"""Copying and the train/test gap: a model that returns training images, exactly or with a little
noise, is flagged by C_T, the authentic fraction and the gap; a model returning held-out images is not,
and neither is the real-data floor, which reads real images no model trained on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from caches import session_cache
from setups import CPU, make_setup

from genbench import DataShape, Hyperparameters, Model, Split
from genbench.core.copying_gallery import CopyingGallery
from genbench.core.images import to_unit_range
from genbench.evaluation.classifier import ClassifierInfo, cached_classifier
from genbench.evaluation.copying import GALLERY_PAIRS, TrainingSet, authenticity, data_copying, gallery, z_u
from genbench.evaluation.evaluate import Evaluation, evaluate, generate
from genbench.evaluation.floor import floor_record
from genbench.evaluation.generalisation import copying_gallery, held_out_halves
from genbench.evaluation.setup import EvaluationSetup

METRICS = ("copying_clf", "fd_gap_clf")
N = 400

pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.


class Bank(Model):
    """A fake model that returns images of a fixed bank (drawn with the generator), plus Gaussian
    noise of ``noise`` (a fraction of the [-1, 1] range's half-width)."""

    name = "bank"

    @dataclass
    class Hparams(Hyperparameters):
        noise: float = 0.0

    def __init__(self, shape: DataShape, hparams: Hparams, bank: torch.Tensor) -> None:
        super().__init__(shape, hparams)
        self.bank = to_unit_range(bank)
        self.noise = hparams.noise

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError("a bank is not trained")

    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None) -> torch.Tensor:
        picked = self.bank[torch.randint(len(self.bank), (n,), generator=generator)]
        noise = torch.randn(picked.shape, generator=generator) * self.noise
        return (picked + noise).clamp(-1, 1)


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> tuple[Split, Split, ClassifierInfo, EvaluationSetup]:
    from genbench_builtin.datasets import Digits

    dataset = Digits(Path("unused"))
    train, test = dataset.load("train"), dataset.load("test")
    cache = session_cache(tmp_path_factory)
    classifier = cached_classifier("digits", Digits.shape, train, test, cache / "classifiers", CPU)
    setup = make_setup(
        "digits", test, classifier, tmp_path_factory.mktemp("fidelity"), METRICS, splits=(train, test)
    )
    return train, test, classifier, setup


def _scored(bank: torch.Tensor, noise: float, setup: EvaluationSetup) -> dict[str, float]:
    model = Bank(DataShape(1, 8, 10), Bank.Hparams(noise), bank)
    evaluation: Evaluation = evaluate(generate(model, N, seed=0, device=CPU), setup)
    return {name.removesuffix(f"_{N}"): value for name, value in evaluation.metrics.items()}  # type: ignore[misc]


@pytest.mark.parametrize("noise", [0.0, 0.03], ids=["exact", "noisy"])
def test_a_model_returning_training_images_is_flagged(digits, noise: float) -> None:
    train, _, _, setup = digits
    scores = _scored(train.images, noise, setup)
    assert scores["ct_clf"] < -5, scores  # A z-score: held-out images read about N(0, 1).
    assert scores["auth_clf"] < 0.05, scores
    # Nearer what it copies: the reverse of real held-out images' gap (next test, and the floor).
    assert scores["fd_train_clf"] < scores["fd_test_clf"], scores


def test_a_model_returning_held_out_images_is_not_flagged(digits) -> None:
    _, test, _, setup = digits
    scores = _scored(test.images, 0.0, setup)
    assert -2 < scores["ct_clf"] < 3, scores
    assert scores["auth_clf"] > 0.4, scores
    # The classifier was trained on the train split, so real held-out images sit nearer the test
    # split in its features: the reverse of a copier's gap (the floor row shows it too).
    assert scores["fd_train_clf"] > scores["fd_test_clf"], scores


def test_the_floor_reads_real_images_no_model_trained_on(digits, tmp_path: Path) -> None:
    train, test, _, setup = digits
    # The floor's images are train images (the reference is the test split): scored as samples they
    # would read as perfect copies; the floor scores the test split's other half instead.
    floor = floor_record(setup, train, "train", N, tmp_path)
    metrics = floor.metrics
    assert -2.5 < metrics[f"ct_clf_{N}"] < 2.5 and metrics[f"auth_clf_{N}"] > 0.4, metrics
    assert metrics[f"fd_train_clf_{N}"] > metrics[f"fd_test_clf_{N}"], metrics
    protocol = floor.protocol[f"ct_clf_{N}"]
    assert "other half" in protocol["samples"] and protocol["n_held_out"] == len(test) - len(test) // 2
    assert protocol["cells_used"] == protocol["cells"] >= 2
    copies = evaluate(train.images[:N], setup).metrics  # The same images, as a model's samples.
    assert copies[f"ct_clf_{N}"] < -5 and copies[f"auth_clf_{N}"] == 0


def _gallery(bank: torch.Tensor, setup: EvaluationSetup) -> tuple[torch.Tensor, CopyingGallery]:
    """A bank model's samples and the copying gallery their evaluation found."""
    samples = generate(Bank(DataShape(1, 8, 10), Bank.Hparams(0.0), bank), N, seed=0, device=CPU)
    found = copying_gallery(evaluate(samples, setup))
    assert found is not None
    return samples, found


def test_the_gallery_of_a_copier_shows_its_copies_beside_the_training_images_they_copy(digits) -> None:
    train, _, _, setup = digits
    samples, found = _gallery(train.images, setup)
    assert len(found.pairs) == GALLERY_PAIRS and found.n_samples == N
    assert found.features.startswith("genbench-classifier/")
    for pair in found.pairs:  # The sample shown is the training image shown, at distance about 0.
        assert torch.equal(samples[pair.sample], train.images[pair.train])
        assert pair.distance < 1e-3 * found.held_out_nearest, found
    assert found.nearer_than_held_out == 1 and 0 < found.held_out_nearest < found.held_out_median
    assert _gallery(train.images, setup)[1] == found  # The same samples, the same gallery.


def test_the_gallery_of_held_out_images_reads_like_real_data(digits) -> None:
    train, test, _, setup = digits
    samples, found = _gallery(test.images, setup)
    distances = [pair.distance for pair in found.pairs]
    assert distances == sorted(distances) and distances[0] > 0
    assert found.nearer_than_held_out < 0.05, found  # About 1 / (n_held_out + 1) for real images.
    assert not any(torch.equal(samples[p.sample], train.images[p.train]) for p in found.pairs)


def test_the_floor_has_no_gallery(digits, tmp_path: Path) -> None:
    # The floor scores the test split's other half, not the images it is given: no gallery of them.
    _, test, _, setup = digits
    assert copying_gallery(evaluate(test.images[:N], setup, floor=True)) is None


def test_the_gallery_takes_the_nearest_sample_of_each_training_image_nearest_first() -> None:
    nearest = (np.array([3.0, 0.5, 2.0, 0.5, 9.0, 0.1]), np.array([10, 11, 12, 13, 14, 12]))
    found = gallery(nearest, np.array([1.0, 2.0, 4.0]), "features", pairs=3)
    # Training image 12 once, beside its nearest sample (5), not again beside sample 2; ties in order.
    shown = [(p.sample, p.train, p.distance) for p in found.pairs]
    assert shown == [(5, 12, 0.1), (1, 11, 0.5), (3, 13, 0.5)]
    assert (found.held_out_nearest, found.held_out_median, found.nearer_than_held_out) == (1.0, 2.0, 0.5)
    assert (found.n_samples, found.n_held_out) == (6, 3)


def test_without_the_splits_the_columns_are_empty_with_the_reason(digits, tmp_path: Path) -> None:
    train, test, classifier, _ = digits
    evaluation = evaluate(train.images[:50], make_setup("digits", test, classifier, tmp_path, METRICS))
    assert set(evaluation.metrics.values()) == {None}
    assert "no train and test splits" in evaluation.protocol["ct_clf_50"]["unavailable"]
    assert copying_gallery(evaluation) is None


def test_the_test_split_halves_are_fixed_disjoint_and_cover_it() -> None:
    first, second = held_out_halves(360)
    again = held_out_halves(360)
    assert torch.equal(first, again[0]) and torch.equal(second, again[1]) and len(first) == 180
    assert sorted(torch.cat([first, second]).tolist()) == list(range(360))
    assert not torch.equal(first, torch.arange(180))  # Shuffled: not the split's head.


def test_z_u_is_a_finite_z_score_below_zero_for_nearer_points() -> None:
    rng = np.random.default_rng(0)
    same = [z_u(rng.exponential(size=300), rng.exponential(size=300)) for _ in range(50)]
    assert abs(np.mean(same)) < 0.4 and 0.6 < np.std(same) < 1.4  # About N(0, 1) under the null.
    copies = z_u(np.zeros(10_000), rng.exponential(size=5_000))  # A p-value would underflow to 0 here.
    assert np.isfinite(copies) and copies < -50
    assert z_u(np.ones(5), np.ones(5)) == 0.0  # All tied: no evidence either way.


def test_c_t_and_authenticity_on_points() -> None:
    rng = np.random.default_rng(0)
    train = TrainingSet.of(rng.normal(size=(2000, 4)), n_cells=4)
    held_out = train.cell_distances(rng.normal(size=(400, 4)))
    fresh = rng.normal(size=(400, 4))
    assert abs(data_copying(train, fresh, held_out).c_t) < 2.5  # type: ignore[arg-type]
    assert 0.3 < authenticity(train, fresh) < 0.9
    few = data_copying(train, rng.normal(size=(20, 4)), held_out)
    assert few.c_t is None and few.cells_used == 0  # No cell with more than 20 samples.
