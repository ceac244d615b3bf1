"""Metrics through torch-fidelity: its FID, KID, precision/recall and Inception Score, its caching and
batching, with either its Inception-v3 or genbench's reference classifier, registered here as a
torch-fidelity feature extractor, so the same code computes them in the classifier's feature space."""

from __future__ import annotations

from collections.abc import Callable, Collection
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch_fidelity
from threadpoolctl import threadpool_limits
from torch_fidelity.feature_extractor_base import FeatureExtractorBase
from torch_fidelity.metric_isc import isc_featuresdict_to_metric
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY
from torch_fidelity.utils import (
    create_feature_extractor,
    extract_featuresdict_from_input_id_cached,
    resolve_feature_layer_for_metric,
)

from genbench.core.images import to_unit_range
from genbench.evaluation import statistics_cache
from genbench.evaluation.classifier import ClassifierInfo, load_classifier
from genbench.evaluation.feature_comparison import compare
from genbench.evaluation.precision_recall import Membership

EXTRACTOR_NAME = "genbench-classifier"
KID_SUBSET_SIZE = 1000  # torch-fidelity's default, reduced where a side has fewer than twice as many.
KID_SUBSETS = 100  # torch-fidelity's default.
ISC_SPLITS = 10
REPORT_EVERY = 256  # Images read between progress reports.
TWO_INPUT_METRICS = ("fid", "kid", "prc")  # torch-fidelity's metrics that compare with the reference.
_LAYER_FOR_METRIC = {"fid": "features", "kid": "features", "prc": "features", "isc": "logits"}


class ClassifierFeatureExtractor(FeatureExtractorBase):
    """torch-fidelity extractor over a genbench reference classifier.

    Takes uint8 images ``(N, C, H, W)`` like torch-fidelity's own extractors; the checkpoint comes
    through torch-fidelity's ``feature_extractor_weights_path`` option.
    """

    def __init__(
        self,
        name: str,
        features_list: list[str],
        feature_extractor_weights_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, features_list)
        if feature_extractor_weights_path is None:
            raise ValueError(
                f"{EXTRACTOR_NAME} needs feature_extractor_weights_path (a classifier checkpoint)"
            )
        self.classifier = load_classifier(Path(feature_extractor_weights_path))

    @staticmethod
    def get_provided_features_list() -> tuple[str, ...]:
        return ("features", "logits")

    @staticmethod
    def get_default_feature_layer_for_metric(metric: str) -> str:
        return _LAYER_FOR_METRIC[metric]

    @staticmethod
    def can_be_compiled() -> bool:
        return False

    @staticmethod
    def get_dummy_input_for_compile() -> torch.Tensor:
        raise NotImplementedError("the genbench classifier is not compiled")

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        features = self.classifier.features(to_unit_range(images))
        out = {"features": features, "logits": self.classifier.head(features)}
        return tuple(out[name] for name in self.features_list)


def register_extractor() -> None:
    """Register the extractor with torch-fidelity (its registry is global; once per process)."""
    if EXTRACTOR_NAME not in FEATURE_EXTRACTORS_REGISTRY:
        torch_fidelity.register_feature_extractor(EXTRACTOR_NAME, ClassifierFeatureExtractor)


class ImageTensors(torch.utils.data.Dataset):
    """uint8 images ``(N, C, H, W)`` as the map-style dataset torch-fidelity reads; ``rgb`` repeats a
    single channel three times, as the Inception network wants colour images. ``on_read`` hears the
    number of images read so far, every ``REPORT_EVERY`` (torch-fidelity has no progress hook)."""

    def __init__(
        self, images: torch.Tensor, rgb: bool = False, on_read: Callable[[int], None] | None = None
    ) -> None:
        self.images = images
        self.rgb = rgb and images.shape[1] == 1
        self.on_read = on_read
        self.read = 0

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __getitem__(self, index: int) -> torch.Tensor:
        self.read += 1
        if self.on_read is not None and self.read % REPORT_EVERY == 0:
            self.on_read(self.read)
        image = self.images[index]
        return image.expand(3, -1, -1) if self.rgb else image


@dataclass(frozen=True)
class Extractor:
    """A torch-fidelity feature extractor with its weights and the key its cached statistics carry."""

    name: str
    weights_path: Path
    key: str
    rgb: bool = False  # Repeat grayscale to three channels.
    batch_size: int = 256


def classifier_extractor(classifier: ClassifierInfo) -> Extractor:
    """The dataset's reference classifier as a torch-fidelity extractor."""
    register_extractor()
    return Extractor(EXTRACTOR_NAME, classifier.path, f"clf{classifier.key}")


def kid_subset_size(n_images: int, n_reference: int) -> int:
    """Images per KID subset: ``KID_SUBSET_SIZE``, or half the smaller side where that is less.

    Subsets are drawn without replacement, so a subset as large as a side is the whole side, every
    time: with as many samples as reference images, every subset would be the same pair of sets and
    the standard deviation over subsets a constant ~0. Half a side makes the subsets differ."""
    return max(2, min(KID_SUBSET_SIZE, min(n_images, n_reference) // 2))


def protocol_settings(metric: str, n_images: int, n_reference: int) -> dict[str, int]:
    """What a torch-fidelity metric's protocol records of its settings: KID's subsets, IS's splits."""
    if metric == "kid":
        return {"kid_subset_size": kid_subset_size(n_images, n_reference), "kid_subsets": KID_SUBSETS}
    if metric == "isc":
        return {"isc_splits": min(ISC_SPLITS, n_images)}
    return {}


@dataclass(frozen=True)
class FidelityPass:
    """What one pass of an extractor over the generated and the reference images gave: torch-fidelity's
    results by its keys, and what their intervals resample: each metric's features of the generated
    and of the reference images (none of the reference for IS) and precision/recall's per-image terms."""

    results: dict[str, float]
    generated: dict[str, torch.Tensor]  # Metric (fid, kid, prc, isc) -> features of its layer.
    reference: dict[str, torch.Tensor]
    membership: Membership | None = None


def fidelity_metrics(
    images: torch.Tensor,
    reference: torch.Tensor,
    metrics: Collection[str],
    extractor: Extractor,
    reference_cache_name: str | None,
    device: torch.device,
    cache_root: Path,
    on_read: Callable[[int], None] | None = None,
) -> dict[str, float]:
    """torch-fidelity's ``fid``, ``kid``, ``prc`` and ``isc`` (those in ``metrics``) of uint8 ``images``
    against uint8 ``reference`` images, in one pass of the extractor over each.

    Returns torch-fidelity's results by its own keys (``frechet_inception_distance``,
    ``kernel_inception_distance_mean``, ``precision``, ...: the keys of the metric table's columns). The
    reference features are cached by torch-fidelity under ``reference_cache_name``, which must change
    whenever the reference images or the extractor's weights change (None: no cache). ``on_read``
    hears how many images (generated, then reference) have been read so far.
    """
    pass_ = fidelity_pass(
        images, reference, metrics, extractor, reference_cache_name, device, cache_root, on_read
    )
    return pass_.results


def fidelity_pass(
    images: torch.Tensor,
    reference: torch.Tensor,
    metrics: Collection[str],
    extractor: Extractor,
    reference_cache_name: str | None,
    device: torch.device,
    cache_root: Path,
    on_read: Callable[[int], None] | None = None,
) -> FidelityPass:
    """:func:`fidelity_metrics`'s results with the features behind them (the same arguments)."""
    binary = any(m in metrics for m in TWO_INPUT_METRICS)
    cache_name = reference_cache_name if binary else None
    kwargs: dict[str, Any] = {
        "input1": ImageTensors(images.cpu(), extractor.rgb, on_read),
        "input2": ImageTensors(reference.cpu(), extractor.rgb, _after(on_read, len(images)))
        if binary
        else None,
        "input2_cache_name": cache_name,
        "cache": cache_name is not None,
        "cache_root": str(cache_root),
        "kid_subsets": KID_SUBSETS,
        "kid_subset_size": kid_subset_size(len(images), len(reference)),
        "isc_splits": min(ISC_SPLITS, len(images)),
        "feature_extractor": extractor.name,
        "feature_extractor_weights_path": str(extractor.weights_path),
        "cuda": device.type == "cuda",
        "batch_size": extractor.batch_size,
        "save_cpu_ram": True,  # No DataLoader worker processes: the images are already in memory.
        "verbose": False,
    }
    # torch-fidelity's KID and FID on the CPU run in NumPy: its BLAS gets as many threads as torch has,
    # as more than that competes with torch's own threads (30 times slower on a busy two-core machine).
    # torch-fidelity's cuda=True means the current CUDA device: made the evaluation's for the pass.
    current = torch.cuda.device(device) if device.type == "cuda" else nullcontext()
    with threadpool_limits(limits=torch.get_num_threads(), user_api="blas"), current:
        return statistics_cache.checked(cache_root, cache_name, lambda: _one_pass(kwargs, metrics, device))


def _one_pass(kwargs: dict[str, Any], metrics: Collection[str], device: torch.device) -> FidelityPass:
    """torch-fidelity's calculate_metrics for one extractor (its calculate_metrics_one_feature_extractor),
    step by step with its own functions, keeping the features; the reference's are cached by it. FID,
    KID and precision/recall (image by image) are computed on ``device``
    (genbench.evaluation.feature_comparison)."""
    layers = {metric: resolve_feature_layer_for_metric(metric, **kwargs) for metric in metrics}
    extractor = create_feature_extractor(kwargs["feature_extractor"], sorted(set(layers.values())), **kwargs)
    first = extract_featuresdict_from_input_id_cached(1, extractor, **kwargs)
    second = extract_featuresdict_from_input_id_cached(2, extractor, **kwargs) if kwargs["input2"] else {}
    results: dict[str, float] = {}
    if "isc" in metrics:
        results.update(isc_featuresdict_to_metric(first, layers["isc"], **kwargs))
    generated = {metric: first[layer] for metric, layer in layers.items()}
    reference = {metric: second[layer] for metric, layer in layers.items() if layer in second}
    kid_settings = (kwargs["kid_subsets"], kwargs["kid_subset_size"])
    # The reference's precision/recall radii are kept beside its features, where those are cached.
    radii_root = Path(kwargs["cache_root"]) if kwargs["cache"] else None
    compared, found = compare(generated, reference, metrics, kid_settings, device, radii_root)
    results = {key: float(value) for key, value in {**results, **compared}.items()}
    return FidelityPass(results, generated, reference, found)


def _after(on_read: Callable[[int], None] | None, offset: int) -> Callable[[int], None] | None:
    """Report the second input's reads after the first input's."""
    return None if on_read is None else lambda count: on_read(offset + count)
