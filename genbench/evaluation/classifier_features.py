"""Images in the reference classifier's feature space as arrays, for the metrics genbench computes from
features itself (copying, the train/test gap, FD∞) rather than through torch-fidelity, which reads the
same penultimate layer (genbench.evaluation.fidelity.ClassifierFeatureExtractor).

A run's samples go through the classifier once for those metrics and ``acc_clf`` together
(:func:`sample_outputs`): its logits are the class head on the very features the metrics read, so
``acc_clf`` no longer classifies the samples again (issue 22)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from genbench.core.images import to_unit_range
from genbench.evaluation.classifier import ReferenceClassifier, load_classifier
from genbench.evaluation.setup import EvaluationSetup

_LATEST = "classifier-outputs/latest"  # The last samples' pass, in EvaluationSetup.prepared.


@dataclass(frozen=True)
class ClassifierOutputs:
    """One pass of the classifier over images: its 64-d features, float64 (N, 64), and its class
    logits (N, K), float32 on the CPU, computed from the same float32 features."""

    features: np.ndarray
    logits: torch.Tensor


def _classifier(setup: EvaluationSetup) -> ReferenceClassifier:
    # Keyed by device too: a Ray task gets the driver's prepared work with its own device.
    return setup.once(
        f"classifier/{setup.device}", lambda: load_classifier(setup.classifier.path, setup.device)
    )


@torch.inference_mode()
def classifier_outputs(setup: EvaluationSetup, images: torch.Tensor) -> ClassifierOutputs:
    """The classifier's features and logits of uint8 ``images`` (N, C, H, W), computed in batches of
    ``setup.batch_size`` (no value depends on it: the network has no batch statistics, and on the CPU
    the logits are bitwise those of batches of 1024, which ``acc_clf`` used)."""
    classifier = _classifier(setup)
    features, logits = [], []
    for chunk in images.split(setup.batch_size):
        found = classifier.features(to_unit_range(chunk.to(setup.device)))
        features.append(found.double().cpu())
        logits.append(classifier.head(found).cpu())
    if not features:
        return ClassifierOutputs(np.zeros((0, 0)), torch.zeros(0, 0))
    return ClassifierOutputs(torch.cat(features).numpy(), torch.cat(logits))


def classifier_features(setup: EvaluationSetup, images: torch.Tensor) -> np.ndarray:
    """The classifier's 64-d features of uint8 ``images`` (N, C, H, W), float64 (N, 64)."""
    return classifier_outputs(setup, images).features


class _LatestPass:
    """The latest samples' pass, held for the next computation of the same samples. Pickled or copied
    (a Ray task gets the driver's prepared work), it goes empty: the samples it holds are the driver's
    floor or last run, never the task's, and megabytes to ship."""

    def __init__(self) -> None:
        self.samples: torch.Tensor | None = None
        self.outputs: ClassifierOutputs | None = None

    def __reduce__(self) -> tuple[type[_LatestPass], tuple[()]]:
        return (_LatestPass, ())


def sample_outputs(setup: EvaluationSetup, samples: torch.Tensor) -> ClassifierOutputs:
    """:func:`classifier_outputs` of a run's ``samples``, kept for the next computation of the same
    samples (the same tensor object: evaluation hands every computation the one it drew), so the
    feature metrics and ``acc_clf`` share one pass. Only the latest samples are kept: a sweep
    evaluates run after run."""
    latest = setup.once(_LATEST, _LatestPass)
    if latest.samples is not samples or latest.outputs is None:
        latest.outputs = classifier_outputs(setup, samples)
        latest.samples = samples
    return latest.outputs


def dataset_features(setup: EvaluationSetup, name: str, images: torch.Tensor) -> np.ndarray:
    """:func:`classifier_features` of a set of the dataset's own images (``name`` says which), computed
    once per setup: every run of the dataset compares with the same ones."""
    return setup.once(f"classifier-features/{name}", lambda: classifier_features(setup, images))
