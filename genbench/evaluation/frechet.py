"""The Fréchet distance between two sets of features (Heusel et al. 2017), two ways:

- :func:`statistics` and :func:`frechet_distance`: torch-fidelity's own statistics and distance
  (``torch_fidelity.metric_fid``, NumPy on the CPU), for the metrics that hold features already: the
  same arithmetic as every FD column computed through torch-fidelity on the CPU;
- :func:`features_distance` and :func:`device_frechet_distance`: the same formula in torch, float64,
  on whatever device the features are on: the FD of a CUDA evaluation (torch-fidelity's eigenvalues
  of a general matrix have no GPU path) and of every bootstrap resample. It agrees with
  torch-fidelity's within 1e-4 relative (tests/evaluation/test_device_metrics.py checks it on CPU
  tensors).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_features_to_statistics, fid_statistics_to_metric

Statistics = dict[str, Any]  # torch-fidelity's {"mu": mean, "sigma": covariance}.


def statistics(features: np.ndarray) -> Statistics:
    """The mean and covariance of ``features`` (N, D), float64."""
    return fid_features_to_statistics(torch.from_numpy(np.asarray(features, dtype=np.float64)))


def frechet_distance(first: Statistics, second: Statistics) -> float:
    """The Fréchet distance between two Gaussians given by their :func:`statistics`."""
    return float(fid_statistics_to_metric(first, second, verbose=False)[KEY_METRIC_FID])


def device_frechet_distance(first: torch.Tensor, second: torch.Tensor, device: torch.device) -> float:
    """The Fréchet distance between the Gaussians fitted to ``first`` and ``second`` features (N, D),
    computed on ``device`` in float64 (:func:`features_distance`)."""
    x, y = (features.to(device=device, dtype=torch.float64) for features in (first, second))
    return features_distance(x, y)


def features_distance(x: torch.Tensor, y: torch.Tensor) -> float:
    """FD of two feature sets, torch-fidelity's formula ``|μx − μy|² + tr Σx + tr Σy − 2 tr sqrt(Σx Σy)``
    computed the cheaper of two exact ways, on the features' device and in their dtype (float64 for
    the record): with at least as many images as dimensions, tr sqrt(Σx Σy) is the sum of the square
    roots of the eigenvalues of the symmetric Σx^½ Σy Σx^½ (a symmetric eigensolver is several times
    faster than torch-fidelity's general one, and has a GPU path); with fewer (Inception's 2048
    dimensions, a small run), it is the sum of the singular values of Ax Ayᵀ / sqrt((nx − 1)(ny − 1)),
    A the centred features, whose squares are the nonzero eigenvalues of Σx Σy."""
    centred_x, centred_y = x - x.mean(dim=0), y - y.mean(dim=0)
    scale_x, scale_y = len(x) - 1, len(y) - 1
    traces = centred_x.square().sum() / scale_x + centred_y.square().sum() / scale_y
    if min(len(x), len(y)) < x.shape[1]:
        root_trace = torch.linalg.svdvals(centred_x @ centred_y.T).sum() / math.sqrt(scale_x * scale_y)
    else:
        sigma_x, sigma_y = centred_x.T @ centred_x / scale_x, centred_y.T @ centred_y / scale_y
        values, vectors = torch.linalg.eigh(sigma_x)
        root_x = (vectors * values.clamp(min=0).sqrt()) @ vectors.T
        root_trace = torch.linalg.eigvalsh(root_x @ sigma_y @ root_x).clamp(min=0).sqrt().sum()
    return float((x.mean(dim=0) - y.mean(dim=0)).square().sum() + traces - 2 * root_trace)


def device_distances_to(sets: torch.Tensor, reference: Statistics) -> torch.Tensor:
    """The Fréchet distance of each feature set of ``sets`` (batch, N, D) to the Gaussian ``reference``
    (its :func:`statistics`), computed together on the sets' device in float64: FD∞'s random subsets of
    one size in one call. tr sqrt(Σs Σr) is the sum of the square roots of the eigenvalues of the
    symmetric Σr^½ Σs Σr^½, which has them (its root Σr^½ computed once, for every set)."""
    x = sets.to(torch.float64)
    mu, sigma = (
        torch.as_tensor(reference[key], device=x.device, dtype=torch.float64) for key in ("mu", "sigma")
    )
    values, vectors = torch.linalg.eigh(sigma)
    root = (vectors * values.clamp(min=0).sqrt()) @ vectors.T
    mean = x.mean(dim=1)
    centred = x - mean[:, None]
    covariance = centred.transpose(1, 2) @ centred / (x.shape[1] - 1)
    root_trace = torch.linalg.eigvalsh(root @ covariance @ root).clamp(min=0).sqrt().sum(dim=1)
    traces = covariance.diagonal(dim1=1, dim2=2).sum(dim=1) + sigma.trace()
    return (mean - mu).square().sum(dim=1) + traces - 2 * root_trace
