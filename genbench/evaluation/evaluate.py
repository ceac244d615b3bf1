"""Evaluation after training: the same samples count, quantisation, reference images and metrics for
every model, each metric recorded with how it was obtained (its protocol).

``evaluate`` loops over the metric table (genbench.core.metrics.METRICS) and computes each metric asked for
with the computation its entry names (genbench.evaluation.computation): torch-fidelity in the reference
classifier's features and with Inception-v3 (genbench.evaluation.fidelity_metrics), the classifier's
accuracy on conditional samples (genbench.evaluation.accuracy), and fresh estimators trained on real vs
generated images (genbench.evaluation.estimates). Metrics of one computation and one extractor are
computed together (one torch-fidelity pass per extractor, one pair of halves for the estimators).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from genbench.api import Model
from genbench.contract import count_out_of_range
from genbench.core.images import balanced_labels, to_uint8
from genbench.core.metrics import METRICS, Metric, metric
from genbench.core.progress import ProgressSink, SilentProgress
from genbench.evaluation.computation import Compute, Computed, Request, check_computations, compute_function
from genbench.evaluation.setup import EvaluationSetup

SAMPLE_BATCH = 500
CHEAP_METRIC = "fd_clf"  # What --eval-every measures during training.
check_computations(METRICS)  # Every metric of the table has its computation, or evaluation does not import.


def generate(model: Model, n: int, seed: int, device: torch.device) -> torch.Tensor:
    """``n`` samples from ``model`` as uint8 on the CPU, drawn from a generator seeded with ``seed``."""
    return generate_counted(model, n, seed, device)[0]


@torch.no_grad()
def generate_counted(
    model: Model,
    n: int,
    seed: int,
    device: torch.device,
    progress: ProgressSink | None = None,
    label: str = "",
) -> tuple[torch.Tensor, float]:
    """:func:`generate`'s samples and the fraction of their values the model gave outside [-1, 1]:
    quantisation clamps those, so the record says how many there were (counted on the device).
    ``progress`` (with its bar's ``label``) hears of each chunk drawn: a diffusion model takes minutes."""
    generator = torch.Generator(device).manual_seed(seed)
    labels = balanced_labels(n, model.shape.num_classes, device)
    was_training = model.training
    model.eval()
    chunks, outside = [], torch.zeros((), dtype=torch.long, device=device)
    progress = progress or SilentProgress()
    progress.start(label or "sampling", n, unit="images")
    try:
        for chunk in labels.split(SAMPLE_BATCH):
            images = model.sample(len(chunk), generator, chunk if model.conditional else None)
            outside += count_out_of_range(images)
            chunks.append(to_uint8(images).cpu())
            progress.update(sum(len(c) for c in chunks), len(chunks))
    finally:
        progress.stop()
        model.train(was_training)
    samples = torch.cat(chunks)
    return samples, int(outside) / max(samples.numel(), 1)


def cheap_fd(model: Model, setup: EvaluationSetup, n: int, seed: int) -> float:
    """Reference-classifier FD of ``n`` samples: the cheap metric evaluated during training.

    Same reference images, cached statistics, quantisation and computation as the final evaluation,
    fewer samples; FD is biased upwards at small n, so compare it only with values at the same n."""
    samples = generate(model, n, seed=seed, device=setup.device)
    cheap = metric(CHEAP_METRIC)
    value = compute_function(cheap)([cheap], Request(samples, setup))[cheap.name].values[0]
    assert value is not None  # The reference classifier is always there, unlike Inception's weights.
    return value


@dataclass(frozen=True)
class Evaluation:
    """Metric values (None where a metric could not be computed) and, per metric, how it was obtained."""

    metrics: dict[str, float | None]
    protocol: dict[str, dict[str, Any]]
    seconds: dict[str, float] = field(default_factory=dict)  # Per catalogue metric (one pass: shared).
    details: dict[str, Mapping[str, Any]] = field(default_factory=dict)  # Computed.details, by metric.


def evaluate(
    samples: torch.Tensor,
    setup: EvaluationSetup,
    labels: torch.Tensor | None = None,
    label: str = "",
    named_for: int | None = None,
    floor: bool = False,
) -> Evaluation:
    """Every metric of ``setup.metrics`` for uint8 ``samples``; ``labels`` are the classes a conditional
    model was asked for (None for unconditional models: no metric for conditional models only).
    ``label`` names progress bars. Columns carry the sample count ``named_for`` (default: the number of
    samples) and come in the order of the metric table. ``floor``: the samples are the real-data
    floor's real images (genbench.evaluation.computation.Request)."""
    request = Request(samples, setup, labels, label, floor, intervals=True)
    chosen = [m for m in METRICS if m.name in setup.metrics and m.applies_to(conditional=labels is not None)]
    groups: dict[tuple[Compute, str], list[Metric]] = {}
    for entry in chosen:
        groups.setdefault((compute_function(entry), entry.extractor), []).append(entry)
    computed: dict[str, Computed] = {}
    seconds: dict[str, float] = {}  # Metrics computed together share one entry, "fd_clf,kid_clf".
    for (compute, _), metrics in groups.items():
        started = time.perf_counter()
        computed.update(compute(metrics, request))
        seconds[",".join(m.name for m in metrics)] = time.perf_counter() - started
    base = setup.base_protocol(len(samples))
    n = named_for or len(samples)
    values: dict[str, float | None] = {}
    protocol: dict[str, dict[str, Any]] = {}
    for entry in chosen:
        result = computed[entry.name]
        intervals = result.intervals or (None,) * len(entry.columns)
        for column, value, interval in zip(entry.columns, result.values, intervals, strict=True):
            values[column.name(n)] = value
            protocol[column.name(n)] = {"metric": entry.description, **base, **result.protocol}
            if column.interval:  # Beside the value; empty where it could not be computed or was not asked.
                values.update(zip(column.bounds(n), interval or (None, None), strict=True))
    details = {name: result.details for name, result in computed.items() if result.details}
    return Evaluation(values, protocol, seconds, details)
