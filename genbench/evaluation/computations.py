"""How each metric of the table (genbench.core.metrics.METRICS) is computed: :data:`COMPUTATIONS` maps every
metric's name to its computation, a function given the chosen metrics of one extractor and the samples
(a :class:`Request`) that returns each metric's values and protocol (:class:`Computed`).
genbench.evaluation.evaluate loops over the table and calls them; importing this module fails while the
table and the computations disagree, so a metric cannot be half added.

Adding a metric's computation: write a function ``(metrics, request) -> {name: Computed}`` (or reuse one:
a torch-fidelity metric is one line in ``_TORCH_FIDELITY``) and put it in :data:`COMPUTATIONS` under the
metric's name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from genbench.api import Split
from genbench.core.metrics import METRICS, Metric
from genbench.evaluation.classifier import classifier_accuracy, load_classifier
from genbench.evaluation.divergence import jsd_estimate, make_halves, w1_estimate
from genbench.evaluation.fidelity import (
    RESULT_KEYS,
    Extractor,
    classifier_extractor,
    fidelity_metrics,
    protocol_settings,
)
from genbench.evaluation.inception import EXTRACTOR_NAME as INCEPTION_EXTRACTOR
from genbench.evaluation.setup import EvaluationSetup


@dataclass(frozen=True)
class Request:
    """What a computation is given: uint8 samples, what they are compared with, the labels a
    conditional model drew them for (None: unconditional) and the prefix of progress bar names."""

    samples: torch.Tensor
    setup: EvaluationSetup
    labels: torch.Tensor | None = None
    label: str = ""


@dataclass(frozen=True)
class Computed:
    """One metric's values, in the order of its columns (None: could not be computed), and what its
    protocol records beyond the fields every metric shares (EvaluationSetup.base_protocol)."""

    values: tuple[float | None, ...]
    protocol: Mapping[str, Any]


# Computes the given metrics (all of one extractor) for a request: metric name -> Computed.
Computation = Callable[[list[Metric], Request], dict[str, Computed]]


def torch_fidelity_pass(
    samples: torch.Tensor,
    setup: EvaluationSetup,
    metrics: Collection[str],
    extractor: Extractor,
    label: str | None = None,
) -> dict[str, float]:
    """One torch-fidelity pass for its ``metrics`` (fid, kid, prc, isc) with ``extractor``; the images it
    reads are reported as progress under ``label`` (None: not reported)."""

    def compute(on_read: Callable[[int], None] | None) -> dict[str, float]:
        return fidelity_metrics(
            samples,
            setup.reference,
            metrics,
            extractor,
            setup.cache_name(extractor.key),
            setup.device,
            setup.cache_root,
            on_read,
        )

    if label is None:
        return compute(None)
    setup.progress.start(label, (len(samples) + len(setup.reference)) / 1000)
    try:
        return compute(lambda count: setup.progress.update(count / 1000, count))
    finally:
        setup.progress.stop()


# The torch-fidelity metric behind each metric of the table that torch-fidelity computes.
_TORCH_FIDELITY = {
    "fd_clf": "fid",
    "kid_clf": "kid",
    "prc_clf": "prc",
    "isc_clf": "isc",
    "fid": "fid",
    "kid": "kid",
    "isc": "isc",
    "prc": "prc",
}


def _fidelity(metrics: list[Metric], request: Request) -> dict[str, Computed]:
    """torch-fidelity's metrics in the reference classifier's features, or with Inception-v3 (None for
    each where its weights could not be had)."""
    setup, samples = request.setup, request.samples
    if metrics[0].extractor == "inception":
        weights = setup.inception
        if not weights.available:
            return {m.name: Computed((None,) * len(m.columns), weights.protocol()) for m in metrics}
        assert weights.path is not None
        # The path is always given: torch-fidelity would otherwise try to download the weights itself.
        extractor = Extractor(INCEPTION_EXTRACTOR, weights.path, weights.key, rgb=True, batch_size=64)
        shared, label = weights.protocol(), f"{request.label}inception-metrics"
    else:
        extractor = classifier_extractor(setup.classifier)
        shared, label = setup.classifier.protocol(), None  # Seconds: no progress bar.
    asked = {_TORCH_FIDELITY[m.name] for m in metrics}
    result = torch_fidelity_pass(samples, setup, asked, extractor, label)
    computed = {}
    for metric in metrics:
        name = _TORCH_FIDELITY[metric.name]
        values = tuple(result[key] for key in RESULT_KEYS[name])
        protocol = {**shared, **protocol_settings(name, len(samples), len(setup.reference))}
        computed[metric.name] = Computed(values, protocol)
    return computed


def _accuracy(metrics: list[Metric], request: Request) -> dict[str, Computed]:
    """The reference classifier's accuracy on generated images for the labels they were asked for,
    beside its accuracy on the real test split (the ceiling)."""
    setup, labels = request.setup, request.labels
    assert labels is not None  # A metric for conditional models only (Metric.models).
    classifier = load_classifier(setup.classifier.path, setup.device)
    accuracy = classifier_accuracy(classifier, Split(request.samples.cpu(), labels.cpu()), setup.device)
    protocol = {
        **setup.classifier.protocol(),
        "requested_labels": "balanced: 0, 1, ..., K-1, 0, 1, ... (genbench.evaluation.generate)",
    }
    return {m.name: Computed((accuracy, setup.classifier.test_accuracy), protocol) for m in metrics}


# Each estimate: its estimator (genbench.evaluation.divergence) and its units.
_ESTIMATORS = {
    "jsd_clf": (jsd_estimate, f"nats, in [0, log 2 = {math.log(2):.4f}]"),
    "w1_critic": (w1_estimate, "[-1, 1] pixels, L2"),
}


def _divergences(metrics: list[Metric], request: Request) -> dict[str, Computed]:
    """The independent estimates, each from a fresh estimator on the same halves of the images."""
    setup, settings = request.setup, request.setup.divergence
    halves = make_halves(setup.reference, request.samples, settings, setup.device)
    protocol = {
        "estimator": settings.protocol(),
        "images_per_half": len(halves.real_train),
        "units": {name: units for name, (_, units) in _ESTIMATORS.items()},
    }
    computed = {}
    for metric in metrics:
        setup.progress.start(f"{request.label}{metric.name}", halves.kimg(settings))
        try:
            estimate = _ESTIMATORS[metric.name][0](halves, settings, setup.progress)
        finally:
            setup.progress.stop()
        computed[metric.name] = Computed((estimate,), protocol)
    return computed


# The computation of every metric of the table, by name.
COMPUTATIONS: dict[str, Computation] = {
    **dict.fromkeys(_TORCH_FIDELITY, _fidelity),
    "acc_clf": _accuracy,
    **dict.fromkeys(_ESTIMATORS, _divergences),
}


def check_computations(metrics: Collection[Metric], computations: Mapping[str, object]) -> None:
    """Raise where a metric of the table has no computation, or a computation no metric: a metric
    added to one and not the other fails on import, not in the middle of a benchmark."""
    names = {m.name for m in metrics}
    missing, unknown = sorted(names - set(computations)), sorted(set(computations) - names)
    if missing or unknown:
        raise RuntimeError(
            f"genbench.core.metrics.METRICS and genbench.evaluation.evaluate.COMPUTATIONS disagree: "
            f"no computation for {missing or 'none'}; no metric for {unknown or 'none'}"
        )


check_computations(METRICS, COMPUTATIONS)
