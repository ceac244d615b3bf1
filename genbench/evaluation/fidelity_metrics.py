"""The metric table's torch-fidelity metrics (``computation=torch_fidelity(...)`` in
genbench.core.metrics): FD, KID, precision/recall and IS, in the reference classifier's features or
with Inception-v3, every metric of one extractor in one pass (genbench.evaluation.fidelity)."""

from __future__ import annotations

from collections.abc import Callable, Collection

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
    setup.progress.start(label, (len(samples) + len(setup.reference)) / 1000)
    try:
        return compute(lambda count: setup.progress.update(count / 1000, count))
    finally:
        setup.progress.stop()


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
        extractor = classifier_extractor(setup.classifier)
        shared, label = setup.classifier.protocol(), None  # Seconds: no progress bar.
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
