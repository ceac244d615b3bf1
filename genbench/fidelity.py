"""The reference classifier as a torch-fidelity feature extractor, so torch-fidelity computes the
metrics (its Fréchet distance, caching and batching) in the classifier's feature space."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch_fidelity
from torch_fidelity.feature_extractor_base import FeatureExtractorBase
from torch_fidelity.metric_fid import KEY_METRIC_FID
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

from genbench.api import Split
from genbench.batches import to_unit_range
from genbench.classifier import ClassifierInfo, load_classifier

EXTRACTOR_NAME = "genbench-classifier"
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
    """uint8 images ``(N, C, H, W)`` as the map-style dataset torch-fidelity reads."""

    def __init__(self, images: torch.Tensor) -> None:
        self.images = images

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.images[index]


def classifier_fd(
    images: torch.Tensor,
    reference: Split,
    reference_cache_name: str | None,
    classifier: ClassifierInfo,
    device: torch.device,
    cache_root: Path,
) -> float:
    """Fréchet distance between uint8 ``images`` and the ``reference`` split in classifier features.

    The reference statistics are cached by torch-fidelity under ``reference_cache_name``, which must
    change whenever the reference images, their number or the classifier change (None: no cache).
    """
    register_extractor()
    metrics = torch_fidelity.calculate_metrics(
        input1=ImageTensors(images.cpu()),
        input2=ImageTensors(reference.images),
        input2_cache_name=reference_cache_name,
        cache=reference_cache_name is not None,
        cache_root=str(cache_root),
        fid=True,
        feature_extractor=EXTRACTOR_NAME,
        feature_extractor_weights_path=str(classifier.path),
        cuda=device.type == "cuda",
        batch_size=256,
        save_cpu_ram=True,  # No DataLoader worker processes: the images are already in memory.
        verbose=False,
    )
    return float(metrics[KEY_METRIC_FID])
