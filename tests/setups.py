"""Evaluation setups for tests: a reference split, its classifier, no Inception unless given."""

from __future__ import annotations

from pathlib import Path

import torch

from genbench.api import Split
from genbench.core.run_spec import DivergenceSettings
from genbench.evaluation.classifier import ClassifierInfo
from genbench.evaluation.inception import InceptionWeights
from genbench.evaluation.setup import EvaluationSetup, reference_images

CPU = torch.device("cpu")
NO_INCEPTION = InceptionWeights(None, reason="no weights in this test")
FAST_DIVERGENCE = DivergenceSettings(steps=50)


def make_setup(
    dataset: str,
    reference: Split,
    classifier: ClassifierInfo,
    cache_root: Path,
    metrics: tuple[str, ...] = ("fd_clf",),
    *,
    split: str = "test",
    n_reference: int | None = None,
    inception: InceptionWeights = NO_INCEPTION,
    divergence: DivergenceSettings = FAST_DIVERGENCE,
    splits: tuple[Split, Split] | None = None,
) -> EvaluationSetup:
    """An evaluation setup on ``reference`` (all of it, or ``n_reference`` images) on the CPU; ``splits``
    (train, test) for the metrics that compare with the training split (none without)."""
    return EvaluationSetup(
        dataset=dataset,
        reference_split=split,
        reference=reference_images(reference, n_reference),
        classifier=classifier,
        inception=inception,
        metrics=metrics,
        divergence=divergence,
        device=CPU,
        cache_root=cache_root,
        train_images=None if splits is None else splits[0].images,
        test_images=None if splits is None else splits[1].images,
    )
