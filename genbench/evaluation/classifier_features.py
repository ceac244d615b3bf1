"""Images in the reference classifier's feature space as arrays, for the metrics genbench computes from
features itself (copying, the train/test gap, FD∞) rather than through torch-fidelity, which reads the
same penultimate layer (genbench.evaluation.fidelity.ClassifierFeatureExtractor)."""

from __future__ import annotations

import numpy as np
import torch

from genbench.core.images import to_unit_range
from genbench.evaluation.classifier import ReferenceClassifier, load_classifier
from genbench.evaluation.setup import EvaluationSetup


def _classifier(setup: EvaluationSetup) -> ReferenceClassifier:
    # Keyed by device too: a Ray task gets the driver's prepared work with its own device.
    return setup.once(
        f"classifier/{setup.device}", lambda: load_classifier(setup.classifier.path, setup.device)
    )


@torch.inference_mode()
def classifier_features(setup: EvaluationSetup, images: torch.Tensor) -> np.ndarray:
    """The classifier's 64-d features of uint8 ``images`` (N, C, H, W), float64 (N, 64), computed in
    batches of ``setup.batch_size`` (no value depends on it: the network has no batch statistics)."""
    classifier = _classifier(setup)
    chunks = [
        classifier.features(to_unit_range(chunk.to(setup.device))).double().cpu()
        for chunk in images.split(setup.batch_size)
    ]
    return torch.cat(chunks).numpy() if chunks else np.zeros((0, 0))


def dataset_features(setup: EvaluationSetup, name: str, images: torch.Tensor) -> np.ndarray:
    """:func:`classifier_features` of a set of the dataset's own images (``name`` says which), computed
    once per setup: every run of the dataset compares with the same ones."""
    return setup.once(f"classifier-features/{name}", lambda: classifier_features(setup, images))
