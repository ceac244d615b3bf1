"""The reference classifier: a small CNN genbench trains once per dataset, whose penultimate features
give offline metrics (Fréchet distance and friends) that are meaningful for MNIST-like data.

It is cached under ``<out>/.cache/classifiers`` keyed by a hash of the dataset's content, the
architecture and the training recipe (seed included), so a changed classifier never reuses old
statistics. Checkpoints hold only tensors and plain values: they load with ``weights_only=True``.

Where genbench ships the classifier for that key (genbench.evaluation.pinned_classifiers: digits and
Fashion-MNIST), the cache gets a copy of it; otherwise it is trained, always on the CPU whatever device
the runs use, from one seed: a GPU would train other weights, and every run scored with them would be
another experiment.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from genbench.api import DataShape, Split
from genbench.core.batches import DeviceBatches
from genbench.core.checked_cache import Damaged, check_digest, load_checked
from genbench.core.files import (
    atomic_torch_save,
    atomic_write,
    atomic_write_json,
    checksum_problem,
    file_sha256,
    not_a_regular_file,
    read_json,
    with_checksum,
)
from genbench.core.hashing import stable_hash, tensor_sha256
from genbench.core.images import to_unit_range
from genbench.core.progress import ProgressSink, SilentProgress
from genbench.evaluation.deterministic import deterministic
from genbench.evaluation.pinned_classifiers import pinned_entry
from genbench.options import identity

ARCHITECTURE = "refclf-v2"
CPU = torch.device("cpu")  # Where classifiers are trained (the module's docstring says why).
FEATURE_DIM = 64
POOLED = 4  # Spatial cells kept before the feature layer: where a stroke is matters for digits and clothes.


class ReferenceClassifier(nn.Module):
    """Three conv layers, average pooling to 4x4 cells, a 64-d feature layer and a linear class head.
    Adaptive pooling makes one architecture serve 8x8 digits and 32x32 CIFAR-10 alike."""

    def __init__(self, channels: int, num_classes: int, width: int = 32) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(2 * width, 4 * width, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(POOLED),
            nn.Flatten(),
            nn.Linear(4 * width * POOLED * POOLED, FEATURE_DIM),
            nn.ReLU(),
        )
        self.head = nn.Linear(FEATURE_DIM, num_classes)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Penultimate features of float images in [-1, 1]."""
        return self.body(images)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Class logits of float images in [-1, 1]."""
        return self.head(self.features(images))


@dataclass(frozen=True)
class Recipe:
    """How the classifier is trained; every field is part of the cache key."""

    seed: int = 0
    images: int = 100_000  # Images shown, within the epoch bounds below:
    min_epochs: int = 2  # at least two passes over a large train split,
    max_epochs: int = 50  # and no more than fifty over a tiny one.
    batch_size: int = 128
    lr: float = 1e-3
    width: int = 32


@dataclass(frozen=True)
class ClassifierInfo:
    """A trained, cached reference classifier."""

    path: Path
    key: str
    weights_sha256: str
    test_accuracy: float
    architecture: str = ARCHITECTURE
    pinned: bool = False  # Shipped with genbench (genbench.evaluation.pinned_classifiers), not trained here.

    def protocol(self) -> dict[str, object]:
        """What a metric computed with this classifier records about it."""
        return {
            "extractor": f"genbench-classifier/{self.architecture}",
            "classifier_key": self.key,
            "weights_sha256": self.weights_sha256,
            "classifier_test_accuracy": self.test_accuracy,
            "classifier_pinned": self.pinned,
        }


def cached_classifier(
    dataset: str,
    shape: DataShape,
    train: Split,
    test: Split,
    cache_dir: Path,
    device: torch.device,
    recipe: Recipe = Recipe(),
    progress: ProgressSink | None = None,
    warn: Callable[[str], None] = lambda message: None,
    *,
    data_sha256: str | None = None,
    pinned_folder: Path | None = None,
) -> ClassifierInfo:
    """The reference classifier for this dataset: loaded from the cache, or trained and cached. A
    damaged cache entry (its record unreadable, its weights not those the record names) is reported
    through ``warn`` and trained again (the same recipe and seed: the same weights).

    ``data_sha256`` is the splits' hash (:func:`genbench.options.identity.data_sha256`), which the
    sweep already made for the run identity: the data is hashed once, not once more here.
    ``pinned_folder``: where pinned classifiers are looked for (default: those genbench ships)."""
    key_material = _key_material(dataset, shape, data_sha256 or identity.data_sha256(train, test), recipe)
    key = stable_hash(key_material, 16)
    path = cache_dir / f"{dataset}-{key}.pt"
    sidecar = path.with_suffix(".json")
    pinned = pinned_entry(path.name) if pinned_folder is None else pinned_entry(path.name, pinned_folder)
    if os.path.lexists(path) or os.path.lexists(sidecar):  # A link to nothing is damage to say too.
        load = partial(_cached, path, key, key_material)
        then = "copying genbench's pinned one again" if pinned else "training it again"
        found = load_checked(f"cached reference classifier {path}", load, warn, then)
        if found is not None:
            # The pinned record names its weights' SHA-256: no need to read the weights again.
            pinned_sha256 = read_json(pinned.with_suffix(".json")).get("weights_sha256") if pinned else None
            return replace(found, pinned=found.weights_sha256 == pinned_sha256)
    elif pinned is None and (adopted := _adopt_legacy(key_material, key, path, train)) is not None:
        return adopted
    if pinned is not None:
        return _copy_pinned(pinned, path, key, key_material)

    # Trained on the CPU whatever ``device`` is: the same data, recipe and genbench give the same weights.
    del device
    progress = progress or SilentProgress()
    progress.start(f"{dataset}/reference-classifier", recipe_images(recipe, len(train)) / 1000)
    try:
        classifier = train_classifier(shape, train, CPU, recipe, progress)
    finally:
        progress.stop()
    accuracy = classifier_accuracy(classifier, test, CPU)
    atomic_torch_save(path, checkpoint(classifier, shape, recipe))
    weights_sha256 = file_sha256(path)
    record = {**key_material, "test_accuracy": accuracy, "weights_sha256": weights_sha256}
    atomic_write_json(sidecar, with_checksum(record))  # A changed accuracy digit is damage, not news.
    return ClassifierInfo(path, key, weights_sha256, accuracy)


def _copy_pinned(pinned: Path, path: Path, key: str, key_material: dict[str, Any]) -> ClassifierInfo:
    """Copy the pinned classifier ``pinned`` (weights and record) into the cache at ``path``, checked
    there like any cache entry."""
    for source, target in ((pinned.with_suffix(".json"), path.with_suffix(".json")), (pinned, path)):
        data = source.read_bytes()
        atomic_write(target, lambda f, data=data: f.write(data))
    return replace(_cached(path, key, key_material), pinned=True)


def peek_classifier(
    dataset: str, shape: DataShape, data_sha256: str, cache_dir: Path, recipe: Recipe = Recipe()
) -> ClassifierInfo | None:
    """The cached reference classifier for this dataset, None where none is cached (or it is
    damaged): nothing is trained or written (``genbench run --dry-run``)."""
    key_material = _key_material(dataset, shape, data_sha256, recipe)
    key = stable_hash(key_material, 16)
    path = cache_dir / f"{dataset}-{key}.pt"
    try:
        return _cached(path, key, key_material) if path.exists() else None
    except (OSError, ValueError):  # Damaged (a ValueError) or unreadable: a run would train it again.
        return None


def _key_material(dataset: str, shape: DataShape, data_sha256: str, recipe: Recipe) -> dict[str, Any]:
    """What a cached classifier is keyed by: the data, the architecture and the recipe."""
    return {
        "dataset": dataset,
        "shape": asdict(shape),
        "data_sha256": data_sha256,
        "architecture": ARCHITECTURE,
        "recipe": asdict(recipe),
    }


def _adopt_legacy(key_material: dict[str, Any], key: str, path: Path, train: Split) -> ClassifierInfo | None:
    """The classifier that genbench 0.2 cached under its older key (its train split's values in place
    of the data hash), copied to ``key``; None when there is none, or it is damaged.

    Adopted, not trained again: its weights' hash is part of the run id of every run scored with it,
    and training is not bit-for-bit repeatable on every GPU, so new weights would make every run of
    the dataset new. Remove once caches written before the data hash was shared are gone."""
    legacy_material = {**key_material, "train_sha256": tensor_sha256(train.images, train.labels)}
    del legacy_material["data_sha256"]
    legacy = path.with_name(f"{key_material['dataset']}-{stable_hash(legacy_material, 16)}.pt")
    try:
        found = _cached(legacy, key, legacy_material) if legacy.exists() else None
    except (OSError, ValueError):  # Damaged (a ValueError) or unreadable: trained again, as if missing.
        return None
    if found is not None:
        data = legacy.read_bytes()
        atomic_write(path, lambda f: f.write(data))
        kept = {"test_accuracy": found.test_accuracy, "weights_sha256": found.weights_sha256}
        atomic_write_json(path.with_suffix(".json"), with_checksum({**key_material, **kept}))
        found = replace(found, path=path)
    return found


def _cached(path: Path, key: str, key_material: dict[str, Any]) -> ClassifierInfo:
    """The classifier cached at ``path``, checked: its record (``.json`` beside it) readable and its
    own (its checksum matches, it holds ``key_material``), and its weights those whose SHA-256 the
    record holds; :class:`Damaged` (or a JSON error) if not. A folder or a link to nothing in the place
    of either file is damage too."""
    sidecar = path.with_suffix(".json")
    for file in (sidecar, path):
        if (problem := not_a_regular_file(file)) is not None:
            raise Damaged(f"{file.name} is {problem}")
    try:
        meta = read_json(sidecar)
    except FileNotFoundError as error:
        raise Damaged(f"{sidecar.name} is missing") from error
    except (OSError, ValueError) as error:  # ValueError: JSON and UnicodeDecode errors.
        raise Damaged(f"{sidecar.name} is unreadable ({type(error).__name__})") from error
    if (
        not isinstance(meta, dict)
        or not isinstance(meta.get("weights_sha256"), str)
        or not isinstance(meta.get("test_accuracy"), int | float)
    ):
        raise Damaged(f"{sidecar.name} is not a classifier record")
    if (problem := checksum_problem(meta)) is not None:
        raise Damaged(f"{sidecar.name}: {problem}")
    if any(meta.get(name) != value for name, value in key_material.items()):
        raise Damaged(f"{sidecar.name} is another classifier's record")
    check_digest(path, meta["weights_sha256"])
    return ClassifierInfo(path, key, meta["weights_sha256"], meta["test_accuracy"])


def checkpoint(classifier: ReferenceClassifier, shape: DataShape, recipe: Recipe) -> dict[str, object]:
    """A weights-only-loadable checkpoint: state dict plus the ints needed to rebuild the network."""
    return {
        "state_dict": {k: v.detach().cpu() for k, v in classifier.state_dict().items()},
        "channels": shape.channels,
        "num_classes": shape.num_classes,
        "width": recipe.width,
    }


def load_classifier(path: Path, device: torch.device | str = "cpu") -> ReferenceClassifier:
    """Rebuild a classifier from its checkpoint, in eval mode."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    classifier = ReferenceClassifier(state["channels"], state["num_classes"], state["width"])
    classifier.load_state_dict(state["state_dict"])
    return classifier.to(device).eval()


def recipe_images(recipe: Recipe, n_train: int) -> int:
    """How many images the recipe shows the classifier."""
    return max(recipe.min_epochs * n_train, min(recipe.images, recipe.max_epochs * n_train))


def train_classifier(
    shape: DataShape,
    train: Split,
    device: torch.device,
    recipe: Recipe,
    progress: ProgressSink | None = None,
) -> ReferenceClassifier:
    """Train the classifier with Adam and cross-entropy for the recipe's budget, from the recipe's seed,
    in genbench.evaluation.deterministic's context: the same weights whatever the caller's threads,
    and the caller's random state left as it was."""
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), deterministic():
        torch.manual_seed(recipe.seed)
        return _trained(shape, train, device, recipe, progress or SilentProgress())


def _trained(
    shape: DataShape, train: Split, device: torch.device, recipe: Recipe, progress: ProgressSink
) -> ReferenceClassifier:
    """:func:`train_classifier`'s loop, in its context."""
    with torch.device(device):
        classifier = ReferenceClassifier(shape.channels, shape.num_classes, recipe.width)
    optimizer = torch.optim.Adam(classifier.parameters(), lr=recipe.lr)
    batches = DeviceBatches(train, device, seed=recipe.seed)
    batch_size = min(recipe.batch_size, len(train))
    total = recipe_images(recipe, len(train))
    steps = math.ceil(total / batch_size)
    classifier.train()
    for step in range(1, steps + 1):
        images, labels = batches.next(recipe.batch_size)
        loss = F.cross_entropy(classifier(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        progress.update(min(step * batch_size, total) / 1000, step)
    return classifier.eval()


@torch.inference_mode()
def classifier_accuracy(classifier: ReferenceClassifier, split: Split, device: torch.device) -> float:
    """Top-1 accuracy on ``split``."""
    return int(classifier_correct(classifier, split, device).sum()) / len(split)


def classifier_correct(classifier: ReferenceClassifier, split: Split, device: torch.device) -> torch.Tensor:
    """Whether the top-1 prediction is each image's label: bool ``(N,)`` on the CPU."""
    correct = []
    for start in range(0, len(split), 1024):
        images = to_unit_range(split.images[start : start + 1024].to(device))
        predicted = classifier(images).argmax(dim=1).cpu()
        correct.append(predicted == split.labels[start : start + 1024])
    return torch.cat(correct)
