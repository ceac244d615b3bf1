"""Evaluation after training: the same samples count, quantisation and metrics for every model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from genbench.api import Model, Split
from genbench.batches import to_uint8
from genbench.classifier import ClassifierInfo
from genbench.config import format_count
from genbench.fidelity import classifier_fd

SAMPLE_BATCH = 500


def balanced_labels(n: int, num_classes: int, device: torch.device) -> torch.Tensor:
    """Labels ``0, 1, ..., K-1, 0, 1, ...``: every class equally often, for conditional models."""
    return torch.arange(n, device=device) % max(num_classes, 1)


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


@dataclass(frozen=True)
class Evaluation:
    """Metric values and, per metric, how it was obtained."""

    metrics: dict[str, float]
    protocol: dict[str, dict[str, Any]]


def evaluate(
    samples: torch.Tensor,
    dataset: str,
    reference: Split,
    classifier: ClassifierInfo,
    device: torch.device,
    cache_root: Path,
) -> Evaluation:
    """Every metric of this version on uint8 ``samples`` against the test split ``reference``."""
    name = f"fd_clf_{format_count(len(samples))}"
    cache_name = f"genbench-{dataset}-test-n{len(reference)}-clf{classifier.key}"
    value = classifier_fd(samples, reference, cache_name, classifier, device, cache_root)
    protocol = {
        "metric": "Fréchet distance in reference-classifier features (torch-fidelity)",
        "n_generated": len(samples),
        "reference_split": "test",
        "n_reference": len(reference),
        "quantisation": "uint8, generated images mapped from [-1, 1] with round()",
        **classifier.protocol(),
    }
    return Evaluation({name: value}, {name: protocol})
