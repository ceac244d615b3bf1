"""What every model of a dataset is compared with, and how: the reference images, the reference
classifier and Inception weights, the metrics asked for, and the protocol fields every metric records.
Made once per dataset by the sweep, read by every computation (genbench.evaluation.computation)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import torch

from genbench.api import Split
from genbench.core.hashing import tensor_sha256
from genbench.core.metrics import uses_extractor
from genbench.core.progress import ProgressSink, SilentProgress
from genbench.core.run_spec import DivergenceSettings, IntervalSettings
from genbench.evaluation.classifier import ClassifierInfo
from genbench.evaluation.inception import InceptionWeights

REFERENCE_SEED = 0  # Which images a reference capped below its split's size uses: part of the protocol.
T = TypeVar("T")
QUANTISATION = "uint8, generated images mapped from [-1, 1] with round(); grayscale as RGB for Inception"


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
    # Images per feature-extractor batch: no value may depend on it (genbench.testing's metric checks).
    batch_size: int = 256
    # The dataset's splits, for the metrics that compare with what models trained on (copying, the
    # train/test gap) or fit a feature space on it (pixel PCA); None: those metrics are left empty.
    train_images: torch.Tensor | None = None
    test_images: torch.Tensor | None = None
    # What computations prepare from the dataset once for all its runs (see once()).
    prepared: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def once(self, key: str, build: Callable[[], T]) -> T:
        """``build()``, computed once per setup, i.e. once per dataset in a sweep (once per run on a Ray
        worker, which gets its own copy): what a computation derives from the dataset for every run,
        such as the training split's features."""
        if key not in self.prepared:
            self.prepared[key] = build()
        return self.prepared[key]

    intervals: IntervalSettings = field(default_factory=IntervalSettings)  # Each metric's, over the samples.

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the reference images: cached statistics follow the data, not just its name."""
        return tensor_sha256(self.reference)

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
            "inception_weights": inception if uses_extractor(self.metrics, "inception") else "",
            "classifier_weights": self.classifier.weights_sha256[:12],
        }
