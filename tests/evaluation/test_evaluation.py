"""Evaluation: the reference classifier, its cache, and the Fréchet distance computed by torch-fidelity."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import pickle
from pathlib import Path

import fakes
import numpy as np
import pytest
import torch
from setups import make_setup
from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric

import genbench.evaluation.classifier
from genbench import Model, hookimpl
from genbench.api import Split
from genbench.core.images import balanced_labels, to_unit_range
from genbench.core.metrics import bound_of
from genbench.core.registry import Registry
from genbench.core.run_spec import IntervalSettings
from genbench.evaluation import precision_recall
from genbench.evaluation.classifier import (
    ClassifierInfo,
    Recipe,
    ReferenceClassifier,
    cached_classifier,
    classifier_correct,
    load_classifier,
)
from genbench.evaluation.evaluate import evaluate, generate
from genbench.evaluation.fidelity import classifier_extractor
from genbench.evaluation.setup import EvaluationSetup
from genbench.options.config import RunOptions
from genbench.running.sweep import Benchmark

CPU = torch.device("cpu")
FAST = Recipe()


pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.


@pytest.fixture(scope="module")
def bars_classifier(tmp_path_factory: pytest.TempPathFactory) -> tuple[ClassifierInfo, object, object]:
    dataset = fakes.Bars(Path("unused"))
    train, test = dataset.load("train"), dataset.load("test")
    cache = tmp_path_factory.mktemp("cache")
    info = cached_classifier("bars", fakes.Bars.shape, train, test, cache, CPU, FAST)
    return info, train, test


def _fd_clf(images: torch.Tensor, setup: EvaluationSetup) -> float:
    """The reference-classifier FD of uint8 ``images``, as the evaluation reports it."""
    values = evaluate(images, setup).metrics  # The setup asks for fd_clf only: its value and interval.
    (name,) = [name for name in values if bound_of(name) is None]
    fd = values[name]
    assert fd is not None
    return fd


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


def test_a_classifier_cached_under_the_older_key_is_adopted_not_trained_again(
    bars_classifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """genbench 0.2 keyed the classifier by its train split's values alone: its weights, whose hash is
    in every run id, are kept (a retrained classifier can differ on a GPU, and every run with it)."""
    info, train, test = bars_classifier
    old_fingerprint = hashlib.sha256(train.images.numpy().tobytes() + train.labels.numpy().tobytes())
    material = {
        "dataset": "bars",
        "shape": dataclasses.asdict(fakes.Bars.shape),
        "train_sha256": old_fingerprint.hexdigest(),
        "architecture": info.architecture,
        "recipe": dataclasses.asdict(FAST),
    }
    key = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:16]
    (tmp_path / f"bars-{key}.pt").write_bytes(info.path.read_bytes())
    sidecar = {**material, "test_accuracy": info.test_accuracy, "weights_sha256": info.weights_sha256}
    (tmp_path / f"bars-{key}.json").write_text(json.dumps(sidecar))

    def no_training(*args: object) -> None:
        raise AssertionError("trained again")

    monkeypatch.setattr(genbench.evaluation.classifier, "train_classifier", no_training)
    adopted = cached_classifier("bars", fakes.Bars.shape, train, test, tmp_path, CPU, FAST)
    assert (adopted.path, adopted.key) == (tmp_path / info.path.name, info.key)
    assert (adopted.weights_sha256, adopted.test_accuracy) == (info.weights_sha256, info.test_accuracy)
    assert cached_classifier("bars", fakes.Bars.shape, train, test, tmp_path, CPU, FAST) == adopted


def test_fd_is_torch_fidelity_frechet_distance_on_classifier_features(
    bars_classifier, tmp_path: Path
) -> None:
    info, train, test = bars_classifier
    reported = _fd_clf(train.images, make_setup("bars", test, info, tmp_path))
    classifier = load_classifier(info.path)
    with torch.no_grad():
        features = [classifier.features(to_unit_range(s.images)).double() for s in (train, test)]
    stats = [fid_features_to_statistics(f) for f in features]
    expected = fid_statistics_to_metric(*stats, verbose=False)["frechet_inception_distance"]
    assert reported == pytest.approx(expected, rel=1e-3)


def test_reference_statistics_are_cached_under_their_key(bars_classifier, tmp_path: Path) -> None:
    info, train, test = bars_classifier
    setup = make_setup("bars", test, info, tmp_path)
    first = _fd_clf(train.images, setup)
    key = setup.cache_name(classifier_extractor(info).key)

    def cached() -> dict[str, int]:
        return {path.name: path.stat().st_mtime_ns for path in tmp_path.glob(f"{key}-*.pt")}

    written = cached()
    assert written
    assert _fd_clf(train.images, setup) == pytest.approx(first)
    assert cached() == written  # Read back, not computed and written again.


def test_evaluation_names_the_sample_count_and_records_its_protocol(bars_classifier, tmp_path: Path) -> None:
    info, train, test = bars_classifier
    metrics = ("fd_clf", "kid_clf", "prc_clf", "isc_clf", "acc_clf")
    setup = make_setup("bars", test, info, tmp_path, metrics)
    evaluation = evaluate(train.images[:200], setup, labels=train.labels[:200])
    assert list(evaluation.metrics) == [
        "fd_clf_200",
        "fd_clf_200_lo",
        "fd_clf_200_hi",
        "kid_clf_200",
        "kid_clf_200_lo",
        "kid_clf_200_hi",
        "kid_std_clf_200",
        "precision_clf_200",
        "precision_clf_200_lo",
        "precision_clf_200_hi",
        "recall_clf_200",
        "recall_clf_200_lo",
        "recall_clf_200_hi",
        "isc_clf_200",
        "isc_clf_200_lo",
        "isc_clf_200_hi",
        "isc_std_clf_200",
        "acc_clf_200",
        "acc_clf_200_lo",
        "acc_clf_200_hi",
        "acc_clf_real",
    ]
    assert all(math.isfinite(v) for v in evaluation.metrics.values())
    for protocol in evaluation.protocol.values():
        assert protocol["n_generated"] == 200 and protocol["n_reference"] == len(test)
        assert protocol["weights_sha256"] == info.weights_sha256 and protocol["reference_split"] == "test"
        assert protocol["extractor"].startswith("genbench-classifier/")
    # Real images with their true labels: the accuracy is the classifier's, the ceiling its test accuracy.
    assert (
        evaluation.metrics["acc_clf_200"] > 0.9 and evaluation.metrics["acc_clf_real"] == info.test_accuracy
    )
    # Unconditional models (no labels) get no accuracy.
    assert "acc_clf_200" not in evaluate(train.images[:200], setup).metrics


def test_missing_inception_weights_leave_those_columns_empty_and_say_why(
    bars_classifier, tmp_path: Path
) -> None:
    info, train, test = bars_classifier
    setup = make_setup("bars", test, info, tmp_path, ("fd_clf", "fid", "kid", "isc", "prc"))
    evaluation = evaluate(train.images[:100], setup)
    inception = ["fid_100", "kid_100", "kid_std_100", "isc_100", "isc_std_100", "precision_100", "recall_100"]
    assert all(evaluation.metrics[name] is None for name in inception)
    assert all(evaluation.protocol[name]["unavailable"] == "no weights in this test" for name in inception)
    assert evaluation.metrics["fid_100_lo"] is None and evaluation.metrics["recall_100_hi"] is None
    assert math.isfinite(evaluation.metrics["fd_clf_100"])


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
    setup = make_setup("digits", test, info, tmp_path)
    floor = _fd_clf(train.images, setup)
    noise = torch.from_numpy(np.random.default_rng(0).integers(0, 256, train.images.shape, dtype=np.uint8))
    noise_fd = _fd_clf(noise, setup)
    assert floor * 20 < noise_fd, (floor, noise_fd)


class _ClassPixels(fakes.PixelGaussian):
    """A conditional model that ignores its labels: its accuracy is chance, its ceiling the classifier's."""

    name = "class-pixels"
    conditional = True


class _ConditionalPlugin:
    @hookimpl
    def register_models(self) -> list[type[Model]]:
        return [_ClassPixels]


def test_conditional_models_get_the_classifier_accuracy_beside_its_ceiling(tmp_path: Path) -> None:
    registry = Registry.discover([fakes, _ConditionalPlugin()], autoload=False)
    options = RunOptions(
        models=("class-pixels", "pixel-gaussian"),
        datasets=("bars",),
        kimg=1,
        device="cpu",
        out=tmp_path,
        n_samples=90,
        metrics=("fd_clf", "acc_clf"),
    )
    conditional, unconditional = Benchmark(options, registry).run()
    assert 0 <= conditional.metrics["acc_clf_90"] < 0.7  # Labels ignored: near chance (1/3).
    ceiling = conditional.metrics["acc_clf_real"]
    assert ceiling == conditional.protocol["acc_clf_90"]["classifier_test_accuracy"] > 0.9
    assert "acc_clf_90" not in unconditional.metrics and "fd_clf_90" in unconditional.metrics


def test_the_cheap_metric_at_the_end_reads_what_the_final_evaluation_does(tmp_path: Path) -> None:
    # Both score the final weights on n samples: they agree only if drawn with the same seed.
    registry = Registry.discover([fakes], autoload=False)
    options = RunOptions(
        models=("pixel-gaussian",),
        datasets=("bars",),
        seeds=(3,),
        kimg=1,
        device="cpu",
        out=tmp_path,
        n_samples=90,
        n_eval=90,
        eval_every=0.5,
        metrics=("fd_clf",),
    )
    (record,) = Benchmark(options, registry).run()
    assert record.during_training["metric"] == "fd_clf_90"
    assert record.during_training["final"] == pytest.approx(record.metrics["fd_clf_90"], rel=1e-9)


def test_intervals_off_leave_their_columns_empty_and_the_values_as_they_are(
    bars_classifier, tmp_path: Path
) -> None:
    info, train, test = bars_classifier
    metrics = ("fd_clf", "prc_clf", "acc_clf")
    with_intervals = evaluate(
        train.images[:150], make_setup("bars", test, info, tmp_path, metrics), train.labels[:150]
    )
    off = dataclasses.replace(
        make_setup("bars", test, info, tmp_path, metrics), intervals=IntervalSettings(0)
    )
    without = evaluate(train.images[:150], off, train.labels[:150])
    assert list(without.metrics) == list(with_intervals.metrics)  # The same columns, ...
    for name, value in without.metrics.items():
        if bound_of(name) is None:
            assert value == with_intervals.metrics[name], name  # ... the same values, ...
        else:
            assert value is None and with_intervals.metrics[name] is not None, name  # ... no intervals.
    assert "interval" not in without.protocol["fd_clf_150"]
    assert with_intervals.protocol["acc_clf_150"]["interval"]["resamples"] == 200


def test_acc_clf_reads_the_feature_metrics_pass_over_the_samples(
    bars_classifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info, train, test = bars_classifier
    setup = make_setup("bars", test, info, tmp_path, ("acc_clf", "fd_inf_clf"))
    read: list[int] = []  # Images through the classifier's layers, call by call.
    features = ReferenceClassifier.features
    monkeypatch.setattr(
        ReferenceClassifier,
        "features",
        lambda self, images: read.append(len(images)) or features(self, images),
    )
    classifier = load_classifier(info.path)
    n = 110  # Neither the reference's size nor a batch's.
    for first, reference in ((0, len(test)), (n, 0)):  # The reference's features are read once per setup.
        read.clear()
        samples, labels = train.images[first : first + n], train.labels[first : first + n]
        evaluation = evaluate(samples, setup, labels=labels)
        assert sum(read) == n + reference  # Once through the samples for both computations.
        assert evaluation.metrics["fd_inf_clf"] is not None
        # The accuracy is the one classifying the samples on their own (in batches of 1024) gave; the
        # second run's samples are classified afresh, not the first's read.
        correct = classifier_correct(classifier, Split(samples, labels), CPU)
        assert evaluation.metrics[f"acc_clf_{n}"] == int(correct.sum()) / n
    # The samples' pass is kept in this process only: a Ray task's copy of the setup gets none of it.
    held = [value for value in setup.prepared.values() if getattr(value, "samples", None) is not None]
    shipped = pickle.loads(pickle.dumps(setup.prepared))
    assert held and all(getattr(value, "samples", None) is None for value in shipped.values())


def test_the_next_evaluation_reads_the_references_radii_from_the_cache(
    bars_classifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info, train, test = bars_classifier
    computed: list[int] = []  # The sizes of the feature sets whose k-NN radii were computed.
    radii = precision_recall._radii
    monkeypatch.setattr(
        precision_recall,
        "_radii",
        lambda features, *rest: computed.append(len(features)) or radii(features, *rest),
    )
    n = 110  # Not the reference's size.
    first = evaluate(train.images[:n], make_setup("bars", test, info, tmp_path, ("prc_clf",)))
    assert sorted(computed) == sorted([n, len(test)])
    assert list((tmp_path / "prc-radii").glob("*.pt"))
    computed.clear()
    # Another process's setup on the same cache folder (a second `genbench run`): only the samples' radii.
    again = evaluate(train.images[:n], make_setup("bars", test, info, tmp_path, ("prc_clf",)))
    assert computed == [n]
    assert again.metrics == first.metrics and 0 < first.metrics[f"precision_clf_{n}"] <= 1
