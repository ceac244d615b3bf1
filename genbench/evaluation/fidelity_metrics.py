"""The metric table's torch-fidelity metrics (``computation=torch_fidelity(...)`` in
genbench.core.metrics): FD, KID, precision/recall and IS, in the reference classifier's features, with
Inception-v3, or in the offline feature spaces (pixel PCA, random network), every metric of one
extractor in one pass (genbench.evaluation.fidelity)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import replace

import torch

from genbench.core.metrics import Metric
from genbench.evaluation.computation import Computed, Request
from genbench.evaluation.feature_intervals import intervals_of
from genbench.evaluation.fidelity import (
    Extractor,
    FidelityPass,
    classifier_extractor,
    fidelity_pass,
    protocol_settings,
)
from genbench.evaluation.inception import EXTRACTOR_NAME as INCEPTION_EXTRACTOR
from genbench.evaluation.pixel_pca import pixel_pca_extractor
from genbench.evaluation.random_network import random_network_extractor
from genbench.evaluation.setup import EvaluationSetup


def torch_fidelity_pass(
    samples: torch.Tensor,
    setup: EvaluationSetup,
    metrics: Collection[str],
    extractor: Extractor,
    label: str | None = None,
) -> FidelityPass:
    """One torch-fidelity pass for its ``metrics`` (fid, kid, prc, isc) with ``extractor``: its results
    by torch-fidelity's keys and the features behind them. The images it reads are reported as
    progress under ``label`` (None: not reported)."""

    def compute(on_read: Callable[[int], None] | None) -> FidelityPass:
        return fidelity_pass(
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
    setup.progress.start(label, len(samples) + len(setup.reference), unit="images")
    try:
        return compute(lambda count: setup.progress.update(count, count))
    finally:
        setup.progress.stop()


def _offline_extractor(name: str, setup: EvaluationSetup) -> tuple[Extractor, Mapping[str, object]] | None:
    """The extractor a metric table's ``extractor`` names, other than Inception, with what its metrics'
    protocol records of it (None: it cannot be had with this setup)."""
    if name == "pixel_pca":
        return pixel_pca_extractor(setup)
    if name == "random_cnn":
        return random_network_extractor(setup)
    extractor = replace(classifier_extractor(setup.classifier), batch_size=setup.batch_size)
    return extractor, setup.classifier.protocol()


def torch_fidelity(metrics: list[Metric], request: Request) -> dict[str, Computed]:
    """torch-fidelity's metrics (each metric's computation argument) in the reference classifier's
    features, or with Inception-v3 (None for each where its weights could not be had); each column
    shows the result its key names."""
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
        offline = _offline_extractor(metrics[0].extractor, setup)
        if offline is None:
            missing = {"unavailable": "the evaluation setup holds no train split to fit the feature space on"}
            return {m.name: Computed((None,) * len(m.columns), missing) for m in metrics}
        (extractor, shared), label = offline, None  # Seconds: no progress bar.
    asked = {m.computation.argument for m in metrics}
    found = torch_fidelity_pass(samples, setup, asked, extractor, label)
    computed = {}
    for metric in metrics:
        values = tuple(found.results[column.key] for column in metric.columns)
        settings = protocol_settings(metric.computation.argument, len(samples), len(setup.reference))
        protocol, intervals = {**shared, **settings}, ()
        if request.wants_intervals:
            method, intervals = intervals_of(metric, found, setup)
            protocol["interval"] = setup.intervals.protocol(method)
        computed[metric.name] = Computed(values, protocol, intervals)
    return computed
