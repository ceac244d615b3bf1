"""A feature space that needs nothing downloaded or trained: pixels through a fixed PCA of the training
split, registered with torch-fidelity as a feature extractor like the reference classifier
(genbench.evaluation.fidelity), so ``fd_pca`` is torch-fidelity's own FD in it.

A raw-pixel encoder is one of dgm-eval's baselines (Stein et al. 2023): it sees what a trained network
may ignore (stroke width, background noise) and nothing of what a trained network sees beyond pixels.
The PCA keeps COMPONENTS directions (all of them where the images have fewer pixels) and does not
whiten, so each direction counts as much as the pixels' variance along it. It is fitted once per
training split with scikit-learn (seeded randomised SVD), saved under the cache with the data's hash
in its name, and its file's SHA-256 is recorded with every value computed in it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch_fidelity
from sklearn.decomposition import PCA
from torch_fidelity.feature_extractor_base import FeatureExtractorBase
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

from genbench.core.files import atomic_torch_save, file_sha256
from genbench.core.hashing import tensor_sha256
from genbench.core.images import to_unit_range
from genbench.evaluation.fidelity import Extractor
from genbench.evaluation.setup import EvaluationSetup

EXTRACTOR_NAME = "genbench-pixel-pca"
COMPONENTS = 64  # As many as the reference classifier's features.
SEED = 0
VERSION = "pixel-pca-v1"  # Part of the file name: bump when the fit changes.


class PixelPCAExtractor(FeatureExtractorBase):
    """torch-fidelity extractor: uint8 images (N, C, H, W) in [-1, 1], flattened, centred and projected
    on the saved principal directions (``feature_extractor_weights_path``)."""

    def __init__(
        self,
        name: str,
        features_list: list[str],
        feature_extractor_weights_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, features_list)
        if feature_extractor_weights_path is None:
            raise ValueError(f"{EXTRACTOR_NAME} needs feature_extractor_weights_path (a fitted PCA)")
        state = torch.load(feature_extractor_weights_path, map_location="cpu", weights_only=True)
        self.register_buffer("mean", state["mean"])
        self.register_buffer("components", state["components"])

    @staticmethod
    def get_provided_features_list() -> tuple[str, ...]:
        return ("pca",)

    @staticmethod
    def get_default_feature_layer_for_metric(metric: str) -> str:
        return "pca"

    @staticmethod
    def can_be_compiled() -> bool:
        return False

    @staticmethod
    def get_dummy_input_for_compile() -> torch.Tensor:
        raise NotImplementedError("the pixel PCA is not compiled")

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        pixels = to_unit_range(images).flatten(1)
        return ((pixels - self.mean) @ self.components.T,)


def fit(train_images: torch.Tensor, path: Path) -> None:
    """Fit the PCA on uint8 ``train_images`` and save it to ``path``."""
    pixels = to_unit_range(train_images).flatten(1).numpy()
    components = min(COMPONENTS, *pixels.shape)
    pca = PCA(n_components=components, svd_solver="randomized", random_state=SEED).fit(pixels)
    state = {
        "mean": torch.from_numpy(pca.mean_).float(),
        "components": torch.from_numpy(pca.components_).float(),
    }
    atomic_torch_save(path, state)


def _prepare(setup: EvaluationSetup) -> tuple[Extractor, dict[str, object]]:
    assert setup.train_images is not None
    data = tensor_sha256(setup.train_images)
    path = setup.cache_root / "feature-spaces" / f"{VERSION}-{data[:16]}.pt"
    if not path.exists():
        fit(setup.train_images, path)
    sha256 = file_sha256(path)
    if EXTRACTOR_NAME not in FEATURE_EXTRACTORS_REGISTRY:
        torch_fidelity.register_feature_extractor(EXTRACTOR_NAME, PixelPCAExtractor)
    protocol = {
        "extractor": f"{EXTRACTOR_NAME}/{VERSION}",
        "pca_fitted_on": "the train split",
        "pca_components": torch.load(path, weights_only=True)["components"].shape[0],
        "weights_sha256": sha256,
    }
    return Extractor(EXTRACTOR_NAME, path, f"pca{sha256[:12]}", batch_size=setup.batch_size), protocol


def pixel_pca_extractor(setup: EvaluationSetup) -> tuple[Extractor, dict[str, object]] | None:
    """The fitted pixel PCA of ``setup``'s train split as a torch-fidelity extractor, with what its
    metrics' protocol records; None where the setup holds no train split."""
    if setup.train_images is None:
        return None
    return setup.once("pixel-pca", lambda: _prepare(setup))
