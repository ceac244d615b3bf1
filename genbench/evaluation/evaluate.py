"""Evaluation after training: the same samples count, quantisation, reference images and metrics for
every model, each metric recorded with how it was obtained (its protocol).

Metrics come from three places: torch-fidelity in the reference classifier's feature space and with
Inception-v3 (genbench.evaluation.fidelity), the classifier's accuracy on conditional samples, and fresh
estimators trained on real vs generated images (genbench.evaluation.divergence). See genbench.metrics for the
column names.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import torch

from genbench.api import Model, Split
from genbench.evaluation.classifier import ClassifierInfo, classifier_accuracy, load_classifier
from genbench.evaluation.divergence import jsd_estimate, make_halves, w1_estimate
from genbench.evaluation.fidelity import Extractor, classifier_extractor, fidelity_metrics
from genbench.evaluation.inception import EXTRACTOR_NAME as INCEPTION_EXTRACTOR
from genbench.evaluation.inception import InceptionWeights
from genbench.images import balanced_labels, to_uint8
from genbench.metrics import CLASSIFIER_METRICS, COLUMNS, DIVERGENCE_METRICS, INCEPTION_METRICS, column
from genbench.options.config import DivergenceSettings
from genbench.progress import ProgressSink, SilentProgress

SAMPLE_BATCH = 500
REFERENCE_SEED = 0  # Which images a reference capped below its split's size uses: part of the protocol.
QUANTISATION = "uint8, generated images mapped from [-1, 1] with round(); grayscale as RGB for Inception"
# torch-fidelity metric computing each catalogue metric, and the keys of its result, in column order.
_FIDELITY = {
    "fd_clf": ("fid", ("fid",)),
    "kid_clf": ("kid", ("kid", "kid_std")),
    "prc_clf": ("prc", ("precision", "recall")),
    "isc_clf": ("isc", ("isc", "isc_std")),
    "fid": ("fid", ("fid",)),
    "kid": ("kid", ("kid", "kid_std")),
    "isc": ("isc", ("isc", "isc_std")),
    "prc": ("prc", ("precision", "recall")),
}
_DESCRIPTIONS = {
    "fd_clf": "Fréchet distance in reference-classifier features (torch-fidelity)",
    "kid_clf": "kernel distance (KID, mean and std over subsets) in reference-classifier features",
    "prc_clf": "precision and recall (k=3 neighbourhoods) in reference-classifier features",
    "isc_clf": "classifier score: Inception Score formula on reference-classifier logits",
    "fid": "Fréchet Inception distance (torch-fidelity, 2048-d pool features)",
    "kid": "kernel Inception distance (torch-fidelity, mean and std over subsets)",
    "isc": "Inception Score (torch-fidelity, unbiased logits, mean and std over splits)",
    "prc": "precision and recall (torch-fidelity, k=3, Inception 2048-d features)",
    "acc_clf": "reference-classifier accuracy on generated images for the labels asked for; "
    "acc_clf_real: its accuracy on the real test split (the ceiling)",
    "jsd_clf": "Jensen-Shannon estimate log 2 - held-out BCE of a fresh real-vs-generated classifier",
    "w1_critic": "Earth-Mover estimate: held-out E f(real) - E f(generated) of a fresh WGAN-GP critic",
}


@torch.no_grad()
def generate(model: Model, n: int, seed: int, device: torch.device) -> torch.Tensor:
    """``n`` samples from ``model`` as uint8 on the CPU, drawn from a generator seeded with ``seed``."""
    generator = torch.Generator(device).manual_seed(seed)
    labels = balanced_labels(n, model.shape.num_classes, device)
    was_training = model.training
    model.eval()
    try:
        chunks = [
            to_uint8(model.sample(len(chunk), generator, chunk if model.conditional else None)).cpu()
            for chunk in labels.split(SAMPLE_BATCH)
        ]
    finally:
        model.train(was_training)
    return torch.cat(chunks)


def cheap_fd(model: Model, setup: EvaluationSetup, n: int, seed: int) -> float:
    """Reference-classifier FD of ``n`` samples: the cheap metric evaluated during training.

    Same reference images, cached statistics and quantisation as the final evaluation, fewer samples;
    FD is biased upwards at small n, so compare it only with values at the same n."""
    samples = generate(model, n, seed=seed, device=setup.device)
    values = _through_torch_fidelity(samples, setup, ["fd_clf"], classifier_extractor(setup.classifier))
    return float(values["fd_clf"][0])


def reference_images(split: Split, n: int | None) -> torch.Tensor:
    """At most ``n`` images of ``split``: all of them (``n`` None or at least the split's size), or the
    first ``n`` of a fixed seeded shuffle, which is the same on every machine."""
    if n is None or n >= len(split):
        return split.images
    order = torch.randperm(len(split), generator=torch.Generator().manual_seed(REFERENCE_SEED))
    return split.images[order[:n]]


@dataclass(frozen=True)
class EvaluationSetup:
    """What every model of a dataset is compared with, and how."""

    dataset: str
    reference_split: str
    reference: torch.Tensor  # uint8 (N, C, H, W): the reference split, or a subset (reference_images).
    classifier: ClassifierInfo
    inception: InceptionWeights
    metrics: tuple[str, ...]
    divergence: DivergenceSettings
    device: torch.device
    cache_root: Path
    progress: ProgressSink = field(default_factory=SilentProgress)

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the reference images: cached statistics follow the data, not just its name."""
        return hashlib.sha256(self.reference.contiguous().numpy().tobytes()).hexdigest()

    def cache_name(self, extractor_key: str) -> str:
        """torch-fidelity's cache name for the reference features: one per (dataset, split, n, data,
        extractor and its weights), so changing any of them recomputes."""
        return (
            f"genbench-{self.dataset}-{self.reference_split}-n{len(self.reference)}"
            f"-{self.fingerprint[:12]}-{extractor_key}"
        )

    def base_protocol(self, n_generated: int) -> dict[str, Any]:
        """The protocol fields every metric shares."""
        return {
            "n_generated": n_generated,
            "reference_split": self.reference_split,
            "n_reference": len(self.reference),
            "reference_sha256": self.fingerprint,
            "quantisation": QUANTISATION,
        }

    def summary(self) -> dict[str, Any]:
        """A run's protocol in a few leaderboard columns."""
        inception = self.inception.sha256[:12] if self.inception.available else "unavailable"
        return {
            "reference_split": self.reference_split,
            "n_reference": len(self.reference),
            "inception_weights": inception if set(self.metrics) & set(INCEPTION_METRICS) else "",
            "classifier_weights": self.classifier.weights_sha256[:12],
        }


@dataclass(frozen=True)
class Evaluation:
    """Metric values (None where a metric could not be computed) and, per metric, how it was obtained."""

    metrics: dict[str, float | None]
    protocol: dict[str, dict[str, Any]]
    seconds: dict[str, float] = field(default_factory=dict)  # Per catalogue metric (one pass: shared).


def evaluate(
    samples: torch.Tensor,
    setup: EvaluationSetup,
    labels: torch.Tensor | None = None,
    label: str = "",
    named_for: int | None = None,
) -> Evaluation:
    """Every metric of ``setup.metrics`` for uint8 ``samples``; ``labels`` are the classes a conditional
    model was asked for (None for unconditional models: no accuracy). ``label`` names progress bars.
    Columns carry the sample count ``named_for`` (default: the number of samples)."""
    metrics: dict[str, float | None] = {}
    protocol: dict[str, dict[str, Any]] = {}
    seconds: dict[str, float] = {}  # Metrics computed in one pass share one entry, "fd_clf,kid_clf".
    base = setup.base_protocol(len(samples))
    n = named_for or len(samples)
    chosen = [m for m in CLASSIFIER_METRICS if m in setup.metrics]
    if chosen:
        started = time.perf_counter()
        extractor = classifier_extractor(setup.classifier)
        values = _through_torch_fidelity(samples, setup, chosen, extractor)  # Seconds: no progress bar.
        _record(metrics, protocol, n, values, {**base, **setup.classifier.protocol()})
        seconds[",".join(chosen)] = time.perf_counter() - started
    if "acc_clf" in setup.metrics and labels is not None:
        started = time.perf_counter()
        values = {"acc_clf": [_accuracy(samples, labels, setup), setup.classifier.test_accuracy]}
        extra = {"requested_labels": "balanced: 0, 1, ..., K-1, 0, 1, ... (genbench.evaluation.generate)"}
        _record(metrics, protocol, n, values, {**base, **setup.classifier.protocol(), **extra})
        seconds["acc_clf"] = time.perf_counter() - started
    chosen = [m for m in DIVERGENCE_METRICS if m in setup.metrics]
    if chosen:
        values, extra = _divergences(samples, setup, chosen, label, seconds)
        _record(metrics, protocol, n, values, {**base, **extra})
    chosen = [m for m in INCEPTION_METRICS if m in setup.metrics]
    if chosen:
        started = time.perf_counter()
        values = _inception(samples, setup, chosen, f"{label}inception-metrics")
        _record(metrics, protocol, n, values, {**base, **setup.inception.protocol()})
        seconds[",".join(chosen)] = time.perf_counter() - started
    return Evaluation(metrics, protocol, seconds)


def _record(
    metrics: dict[str, float | None],
    protocol: dict[str, dict[str, Any]],
    n: int,
    values: dict[str, list[float | None]],
    shared: dict[str, Any],
) -> None:
    """Store each catalogue metric's values under its column names, with its protocol."""
    for name, column_values in values.items():
        for stem, value in zip(COLUMNS[name], column_values, strict=True):
            metrics[column(stem, n)] = value
            protocol[column(stem, n)] = {"metric": _DESCRIPTIONS.get(name, name), **shared}


def _through_torch_fidelity(
    samples: torch.Tensor,
    setup: EvaluationSetup,
    chosen: list[str],
    extractor: Extractor,
    label: str | None = None,
) -> dict[str, list[float | None]]:
    """One torch-fidelity pass for all ``chosen`` catalogue metrics that use ``extractor``; the images
    it reads are reported as progress under ``label`` (None: not reported)."""

    def compute(on_read: Callable[[int], None] | None) -> dict[str, float]:
        return fidelity_metrics(
            samples,
            setup.reference,
            {_FIDELITY[m][0] for m in chosen},
            extractor,
            setup.cache_name(extractor.key),
            setup.device,
            setup.cache_root,
            on_read,
        )

    if label is None:
        result = compute(None)
    else:
        setup.progress.start(label, (len(samples) + len(setup.reference)) / 1000)
        try:
            result = compute(lambda count: setup.progress.update(count / 1000, count))
        finally:
            setup.progress.stop()
    return {m: [result[key] for key in _FIDELITY[m][1]] for m in chosen}


def _inception(
    samples: torch.Tensor, setup: EvaluationSetup, chosen: list[str], label: str
) -> dict[str, list[float | None]]:
    """The Inception metrics, or None for each where the weights could not be had."""
    weights = setup.inception
    if not weights.available:
        return {m: [None] * len(COLUMNS[m]) for m in chosen}
    assert weights.path is not None and weights.sha256 is not None
    # The path is always given: torch-fidelity would otherwise try to download the weights itself.
    extractor = Extractor(INCEPTION_EXTRACTOR, weights.path, weights.key, rgb=True, batch_size=64)
    return _through_torch_fidelity(samples, setup, chosen, extractor, label)


def _accuracy(samples: torch.Tensor, labels: torch.Tensor, setup: EvaluationSetup) -> float:
    """The reference classifier's accuracy on generated images for the labels they were asked for."""
    classifier = load_classifier(setup.classifier.path, setup.device)
    return classifier_accuracy(classifier, Split(samples.cpu(), labels.cpu()), setup.device)


def _divergences(
    samples: torch.Tensor, setup: EvaluationSetup, chosen: list[str], label: str, seconds: dict[str, float]
) -> tuple[dict[str, list[float | None]], dict[str, Any]]:
    """The independent estimates, each from a fresh estimator on the same halves of the images; each
    estimator's seconds go in ``seconds``."""
    settings = setup.divergence
    halves = make_halves(setup.reference, samples, settings, setup.device)
    estimators = {"jsd_clf": jsd_estimate, "w1_critic": w1_estimate}
    values: dict[str, list[float | None]] = {}
    for name in chosen:
        started = time.perf_counter()
        setup.progress.start(f"{label}{name}", halves.kimg(settings))
        try:
            values[name] = [estimators[name](halves, settings, setup.progress)]
        finally:
            setup.progress.stop()
        seconds[name] = time.perf_counter() - started
    extra = {
        "estimator": settings.protocol(),
        "images_per_half": len(halves.real_train),
        "units": {"jsd_clf": f"nats, in [0, log 2 = {math.log(2):.4f}]", "w1_critic": "[-1, 1] pixels, L2"},
    }
    return values, extra
