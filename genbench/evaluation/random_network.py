"""A feature space that needs nothing downloaded or trained: the reference classifier's architecture
with random, fixed weights (seeded, He-initialised), registered with torch-fidelity as a feature
extractor like the trained classifier (genbench.evaluation.fidelity), so ``fd_rand`` is
torch-fidelity's own FD in it.

Randomly initialised networks embed images informatively enough to rank generative models (Naeem et
al., "Reliable Fidelity and Diversity Metrics for Generative Models", ICML 2020, section 5); beside the
trained classifier they show how much of a ranking is owed to what training taught the network. The
weights are drawn once with SEED, saved under the cache (so another torch release, whose random
streams may differ, keeps using the same file), and their file's SHA-256 is recorded with every value.
"""

from __future__ import annotations

import torch
import torch_fidelity
from torch import nn
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

from genbench.core.files import atomic_torch_save, file_sha256
from genbench.evaluation.classifier import ARCHITECTURE, ReferenceClassifier
from genbench.evaluation.fidelity import ClassifierFeatureExtractor, Extractor
from genbench.evaluation.setup import EvaluationSetup

EXTRACTOR_NAME = "genbench-random-cnn"
SEED = 0
WIDTH = 32  # The reference classifier's.


def random_checkpoint(channels: int) -> dict[str, object]:
    """The seeded random network for ``channels``-channel images, as a classifier checkpoint (its class
    head, one logit, is never read). Drawn under a forked RNG: the caller's random stream is untouched."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        network = ReferenceClassifier(channels, num_classes=1, width=WIDTH)
        for layer in network.modules():
            # He initialisation keeps the activations' scale through the ReLUs; PyTorch's default
            # shrinks it about threefold a layer, to features near 0.01 whose FD reads ~0 everywhere.
            if isinstance(layer, nn.Conv2d | nn.Linear):
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)
    state = {k: v.detach().clone() for k, v in network.state_dict().items()}
    return {"state_dict": state, "channels": channels, "num_classes": 1, "width": WIDTH}


def _prepare(setup: EvaluationSetup) -> tuple[Extractor, dict[str, object]]:
    channels = int(setup.reference.shape[1])
    path = setup.cache_root / "feature-spaces" / f"random-{ARCHITECTURE}-he-c{channels}-seed{SEED}.pt"
    if not path.exists():
        atomic_torch_save(path, random_checkpoint(channels))
    sha256 = file_sha256(path)
    if EXTRACTOR_NAME not in FEATURE_EXTRACTORS_REGISTRY:
        torch_fidelity.register_feature_extractor(EXTRACTOR_NAME, ClassifierFeatureExtractor)
    protocol = {
        "extractor": f"{EXTRACTOR_NAME}/{ARCHITECTURE}",
        "random_init_seed": SEED,
        "weights_sha256": sha256,
    }
    return Extractor(EXTRACTOR_NAME, path, f"rand{sha256[:12]}", batch_size=setup.batch_size), protocol


def random_network_extractor(setup: EvaluationSetup) -> tuple[Extractor, dict[str, object]]:
    """The seeded random network as a torch-fidelity extractor, with what its metrics' protocol records."""
    return setup.once("random-network", lambda: _prepare(setup))
