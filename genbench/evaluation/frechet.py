"""The Fréchet distance between two sets of features (Heusel et al. 2017), by torch-fidelity's own
statistics and distance (``torch_fidelity.metric_fid``), for the metrics that hold features already:
the same arithmetic as every FD column computed through torch-fidelity."""

from __future__ import annotations

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
