"""torch-fidelity's two-sample metrics of one pass's features (FID, KID, precision/recall), computed
where the evaluation runs (genbench.evaluation.fidelity hands them the features it extracted).

On the CPU they are torch-fidelity's own functions, NumPy and all, so a CPU evaluation records the
numbers it always did. On any other device (CUDA) its NumPy would take the work to the CPU and leave
the GPU idle (an H200 sat at 0-3 % through a 10k-sample evaluation, issue 25), so there the same
formulas run in torch on the device: FID in float64 (genbench.evaluation.frechet), KID with
torch-fidelity's very subsets (genbench.evaluation.kernel_distance); precision/recall is one torch
computation on either (genbench.evaluation.precision_recall). The torch versions agree with
torch-fidelity's within 1e-4 relative, which tests/evaluation/test_device_metrics.py checks on CPU
tensors through the same functions.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

import torch
from torch_fidelity.defaults import DEFAULTS
from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_features_to_statistics, fid_statistics_to_metric
from torch_fidelity.metric_kid import kid_features_to_metric
from torch_fidelity.metric_prc import KEY_METRIC_PRECISION, KEY_METRIC_RECALL

from genbench.evaluation.frechet import device_frechet_distance
from genbench.evaluation.kernel_distance import device_kid
from genbench.evaluation.precision_recall import Membership, membership


def in_torch(device: torch.device) -> bool:
    """Whether the metrics run in torch on ``device`` rather than in torch-fidelity's NumPy: anywhere
    but on the CPU, whose numbers stay torch-fidelity's."""
    return device.type != "cpu"


def frechet(generated: torch.Tensor, reference: torch.Tensor, device: torch.device) -> float:
    """torch-fidelity's FID of two feature sets (N, D), computed on ``device``."""
    if in_torch(device):
        return device_frechet_distance(generated, reference, device)
    statistics = (fid_features_to_statistics(side) for side in (generated, reference))
    return float(fid_statistics_to_metric(*statistics, verbose=False)[KEY_METRIC_FID])


def kid(
    generated: torch.Tensor, reference: torch.Tensor, subsets: int, subset_size: int, device: torch.device
) -> dict[str, float]:
    """torch-fidelity's KID mean and standard deviation (by its keys), computed on ``device``."""
    if in_torch(device):
        return device_kid(generated, reference, subsets, subset_size, device)
    found = kid_features_to_metric(
        generated, reference, kid_subsets=subsets, kid_subset_size=subset_size, verbose=False
    )
    return {key: float(value) for key, value in found.items()}


def compare(
    generated: Mapping[str, torch.Tensor],
    reference: Mapping[str, torch.Tensor],
    metrics: Collection[str],
    kid_settings: tuple[int, int],
    device: torch.device,
    cache_root: Path | None = None,
) -> tuple[dict[str, float], Membership | None]:
    """Those of ``fid``, ``kid`` and ``prc`` in ``metrics`` from each one's features of the generated
    and of the reference images (by metric), by torch-fidelity's keys, on ``device``; with
    precision/recall's per-image terms where ``prc`` is asked. ``kid_settings``: KID's subsets and
    their size; ``cache_root``: where the reference's precision/recall radii are kept (None: not kept)."""
    results: dict[str, float] = {}
    if "fid" in metrics:
        results[KEY_METRIC_FID] = frechet(generated["fid"], reference["fid"], device)
    if "kid" in metrics:
        results.update(kid(generated["kid"], reference["kid"], *kid_settings, device))
    found = None
    if "prc" in metrics:
        found = membership(
            generated["prc"],
            reference["prc"],
            DEFAULTS["prc_neighborhood"],
            DEFAULTS["prc_batch_size"],
            device,
            cache_root,
        )
        results.update({KEY_METRIC_PRECISION: found.precision, KEY_METRIC_RECALL: found.recall})
    return results, found
