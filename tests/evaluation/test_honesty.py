"""Honesty checks on real digits: the reported floor is far below noise, FD rises with corruption,
metrics repeat exactly, cached real statistics never outlive a change of n, split or extractor, and
KID's std is a spread and its floor noise around 0."""

from __future__ import annotations

import dataclasses
import itertools
import shutil
from pathlib import Path

import pytest
import torch
import torchvision.transforms.functional as TF
from caches import session_cache
from setups import CPU, make_setup

from genbench.api import Split
from genbench.core.layout import FLOOR_MODEL
from genbench.evaluation.classifier import ClassifierInfo, cached_classifier
from genbench.evaluation.evaluate import evaluate
from genbench.evaluation.fidelity import ClassifierFeatureExtractor, kid_subset_size
from genbench.evaluation.floor import floor_record

OFFLINE = ("fd_clf", "kid_clf", "prc_clf", "isc_clf", "jsd_clf", "w1_critic")


pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> tuple[Split, Split, ClassifierInfo]:
    from genbench_builtin.datasets import Digits

    dataset = Digits(Path("unused"))
    train, test = dataset.load("train"), dataset.load("test")
    cache = session_cache(tmp_path_factory) / "classifiers"  # Shared with the other digits tests.
    return train, test, cached_classifier("digits", Digits.shape, train, test, cache, CPU)


def _uniform_noise(shape: torch.Size) -> torch.Tensor:
    return torch.randint(0, 256, shape, generator=torch.Generator().manual_seed(0), dtype=torch.uint8)


def test_reported_floor_is_far_below_noise(digits, tmp_path: Path) -> None:
    train, test, classifier = digits
    setup = make_setup("digits", test, classifier, tmp_path / "fidelity", ("fd_clf", "kid_clf"))
    floor = floor_record(setup, train, "train", 1000, tmp_path)
    assert floor.model == FLOOR_MODEL and floor.protocol["fd_clf_1k"]["n_generated"] == 1000
    noise = evaluate(_uniform_noise(train.images[:1000].shape), setup).metrics
    assert floor.metrics["fd_clf_1k"] * 20 < noise["fd_clf_1k"], (floor.metrics, noise)
    assert floor.metrics["kid_clf_1k"] * 20 < noise["kid_clf_1k"]
    # One place holds it, <out>/floors/: asked again, the same record comes back without recomputing.
    (written,) = (tmp_path / "floors").glob("*.json")
    assert written.name == f"{floor.run_id}.json"
    assert floor_record(setup, train, "train", 1000, tmp_path) == floor
    # Fewer metrics, same protocol: the same record (it has them); more: the missing ones are added.
    fewer = floor_record(dataclasses.replace(setup, metrics=("fd_clf",)), train, "train", 1000, tmp_path)
    assert fewer == floor
    assert {"fd_clf_1k_lo", "fd_clf_1k_hi"} <= set(floor.metrics)  # Each value with its interval.
    wider = dataclasses.replace(setup, metrics=("fd_clf", "kid_clf", "isc_clf"))
    more = floor_record(wider, train, "train", 1000, tmp_path)
    assert set(floor.metrics) < set(more.metrics)
    assert {"isc_clf_1k", "isc_std_clf_1k"} <= set(more.metrics) - set(floor.metrics)
    assert more.run_id == floor.run_id
    assert more.metrics["fd_clf_1k"] == floor.metrics["fd_clf_1k"]
    assert sorted(p.name for p in (tmp_path / "floors").iterdir()) == [written.name, f"{written.name}.sha256"]


def _noisy(images: torch.Tensor, level: float) -> torch.Tensor:
    noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(0))
    return (images.float() + level * 255 * noise).round().clamp(0, 255).to(torch.uint8)


def _blurred(images: torch.Tensor, sigma: float) -> torch.Tensor:
    if sigma == 0:
        return images
    return TF.gaussian_blur(images.float(), kernel_size=7, sigma=sigma).round().to(torch.uint8)


@pytest.mark.parametrize(
    ("corrupt", "levels"),
    [(_noisy, (0.0, 0.05, 0.1, 0.2, 0.4)), (_blurred, (0.0, 0.5, 0.8, 1.2, 2.0))],
    ids=["noise", "blur"],
)
def test_fd_rises_monotonically_with_corruption(digits, tmp_path: Path, corrupt, levels) -> None:
    train, test, classifier = digits
    setup = make_setup("digits", test, classifier, tmp_path)
    fds = [evaluate(corrupt(train.images, level), setup).metrics["fd_clf_1437"] for level in levels]
    assert all(a < b for a, b in itertools.pairwise(fds)), fds


def test_metrics_are_deterministic_on_cpu(digits, tmp_path: Path) -> None:
    train, test, classifier = digits
    samples = _noisy(train.images[:200], 0.2)
    runs = [
        evaluate(samples, make_setup("digits", test, classifier, tmp_path / run, OFFLINE, n_reference=200))
        for run in ("a", "b")  # Separate caches: the second run recomputes everything.
    ]
    # 9 values, and the seeded intervals of all but the two spreads: the same twice.
    assert runs[0].metrics == runs[1].metrics and len(runs[0].metrics) == 9 + 2 * 7


def test_real_statistics_are_cached_per_split_n_and_extractor(
    digits, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train, test, classifier = digits
    seen: list[int] = []  # Images each extractor pass processed: shows what was (re)computed.
    forward = ClassifierFeatureExtractor.forward
    monkeypatch.setattr(
        ClassifierFeatureExtractor, "forward", lambda self, x: seen.append(len(x)) or forward(self, x)
    )
    samples = train.images[:100]
    cache = tmp_path / "fidelity"

    def extracted(reference: Split, classifier: ClassifierInfo = classifier, **kwargs) -> int:
        seen.clear()
        evaluate(samples, make_setup("digits", reference, classifier, cache, **kwargs))
        return sum(seen)

    assert extracted(test) == 100 + len(test)  # First time: the reference too.
    assert extracted(test) == 100  # Cached.
    assert extracted(test, n_reference=200) == 100 + 200  # Another n.
    assert extracted(test, n_reference=200) == 100
    assert extracted(train, split="train", n_reference=200) == 100 + 200  # Another split.
    changed = tmp_path / "other-classifier.pt"
    shutil.copy(classifier.path, changed)
    other = ClassifierInfo(changed, "other-key", "other-sha", classifier.test_accuracy)
    assert extracted(test, other) == 100 + len(test)  # Another extractor (weights).
    assert extracted(test) == 100  # The first one's statistics are still there.
    # One statistics file per (split, n, extractor), each with the checksum genbench keeps beside it.
    files = [path for path in cache.glob("genbench-digits-*") if path.suffix != ".sha256"]
    names = {path.name.split("-genbench-classifier-")[0] for path in files}
    assert len(names) == 4, names


def test_kid_subset_size_is_at_most_half_the_smaller_side() -> None:
    assert kid_subset_size(10_000, 10_000) == 1000  # torch-fidelity's default where both sides are large.
    assert kid_subset_size(500, 500) == 250 and kid_subset_size(10_000, 360) == 180


def test_kid_std_is_a_spread_with_as_many_samples_as_reference_images(digits, tmp_path: Path) -> None:
    # Subsets as large as a side were every time the whole side: the std was a constant ~0.
    train, test, classifier = digits
    setup = make_setup("digits", test, classifier, tmp_path, ("kid_clf",), n_reference=200)
    evaluation = evaluate(_noisy(train.images[:200], 0.2), setup)
    kid, std = evaluation.metrics["kid_clf_200"], evaluation.metrics["kid_std_clf_200"]
    assert std > 0.05 * kid > 0, (kid, std)
    for column in ("kid_clf_200", "kid_std_clf_200"):
        assert evaluation.protocol[column]["kid_subset_size"] == 100
        assert evaluation.protocol[column]["kid_subsets"] == 100


def test_classifier_kid_at_the_floor_is_noise_around_zero(digits, tmp_path: Path) -> None:
    # KID is unbiased: real images against real images read 0 on average, so a floor can be negative.
    # Its large scale comes from the kernel on unnormalised features (README, Evaluation).
    train, test, classifier = digits
    setup = make_setup("digits", test, classifier, tmp_path, ("kid_clf",))
    floors = []
    for seed in range(10):  # Draws of held-out real images, as many as the reference.
        order = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[: len(test)]
        metrics = evaluate(train.images[order], setup).metrics
        floors.append((metrics["kid_clf_360"], metrics["kid_std_clf_360"]))
    assert min(kid for kid, _ in floors) < 0 < max(kid for kid, _ in floors), floors
    assert all(abs(kid) < 1.5 * std for kid, std in floors), floors  # Within noise, negative or not.
    noisy = evaluate(_noisy(train.images[: len(test)], 0.2), setup).metrics
    assert noisy["kid_clf_360"] > 3 * noisy["kid_std_clf_360"], noisy  # A real difference is not.
