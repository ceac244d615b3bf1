"""The intervals of torch-fidelity's metrics over a run's samples, from the features its pass extracted
(genbench.evaluation.fidelity): each a normal bootstrap interval (genbench.evaluation.bootstrap) over
resamples of the generated and the reference images' features. Resampling features is resampling
images: the extractor is fixed and sees one image at a time.

- FD: recomputed on every resample (means, covariances, the trace of the matrix square root), in
  float64 on the evaluation's device;
- KID: torch-fidelity's KID is the mean over random subsets of the unbiased MMD² with a cubic
  polynomial kernel; recomputing it costs seconds per resample. Averaged over every possible subset it
  is the unbiased MMD² of all generated against all reference images, so a resample is that statistic
  with the images weighted by how often the resample drew them (pairs of two copies of one image left
  out, as a U-statistic leaves out an image paired with itself), its kernels on the evaluation's
  device. Its standard error is combined with the part of KID's variance its random subsets add,
  kid_std² / subsets;
- IS: torch-fidelity's Inception Score of the resampled logits.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch_fidelity.defaults import DEFAULTS
from torch_fidelity.metric_isc import KEY_METRIC_ISC_MEAN, isc_features_to_metric

from genbench.core.metrics import Metric
from genbench.core.run_spec import IntervalSettings
from genbench.evaluation.bootstrap import indices, mean_interval, normal_interval, standard_error
from genbench.evaluation.computation import Interval
from genbench.evaluation.fidelity import ISC_SPLITS, KID_SUBSETS, FidelityPass
from genbench.evaluation.frechet import features_distance as _frechet  # Recomputed on every resample.
from genbench.evaluation.kernel_distance import kernel, kernel_diagonal
from genbench.evaluation.setup import EvaluationSetup

KERNEL_CHUNK = 2**23  # Kernel entries computed at once (32 MB of float32).
_RESAMPLED = "resamples of the generated and of the reference images' features, each side independently"
METHODS = {  # What each torch-fidelity metric's interval resamples, as its protocol says.
    "fid": f"normal bootstrap interval: FD ± 1.96 standard errors of FD over {_RESAMPLED}",
    "kid": "normal bootstrap interval: KID ± 1.96 standard errors, combining the unbiased MMD² of all "
    f"generated against all reference images over {_RESAMPLED} (pairs of two copies of one image left "
    "out) with the spread of KID's random subsets (kid_std² / subsets)",
    "prc": "normal bootstrap interval: each fraction ± 1.96 standard errors over resamples of the images "
    "it counts (generated ones for precision, reference ones for recall), the other side's k-NN radii "
    "held as computed",
    "isc": "normal bootstrap interval: the score ± 1.96 standard errors over resamples of the generated "
    "images' logits",
}


def intervals_of(
    metric: Metric, found: FidelityPass, setup: EvaluationSetup
) -> tuple[str, tuple[Interval | None, ...]]:
    """The interval method of a torch-fidelity ``metric`` and each of its columns' interval (None for a
    column without one, Column.interval) from the pass that computed it."""
    name, settings = metric.computation.argument, setup.intervals
    generated, reference = found.generated.get(name), found.reference.get(name)
    by_key: dict[str, Interval] = {}
    if name == "fid":
        value = found.results[metric.columns[0].key]
        by_key[metric.columns[0].key] = fd_interval(generated, reference, value, settings, setup.device)
    elif name == "kid":
        mean, spread = (found.results[c.key] for c in metric.columns)
        by_key[metric.columns[0].key] = kid_interval(
            generated, reference, mean, spread, KID_SUBSETS, settings, setup.device
        )
    elif name == "prc" and found.membership is not None:
        precision, recall = (c.key for c in metric.columns)
        by_key[precision] = mean_interval(found.membership.precision_terms, settings, 0.0, 1.0)
        by_key[recall] = mean_interval(found.membership.recall_terms, settings, 0.0, 1.0)
    elif name == "isc":
        splits = min(ISC_SPLITS, len(generated))
        by_key[metric.columns[0].key] = isc_interval(
            generated, found.results[metric.columns[0].key], splits, settings
        )
    intervals = tuple(by_key.get(c.key) if c.interval else None for c in metric.columns)
    return METHODS[name], intervals


def fd_interval(
    generated: torch.Tensor,
    reference: torch.Tensor,
    value: float,
    settings: IntervalSettings,
    device: torch.device,
) -> Interval:
    """The interval of the Fréchet distance ``value`` between ``generated`` and ``reference`` features."""
    error = fd_standard_error(generated, reference, settings, device)
    return normal_interval(value, error, settings, low=0.0)


def fd_standard_error(
    generated: torch.Tensor, reference: torch.Tensor, settings: IntervalSettings, device: torch.device
) -> float:
    """The bootstrap standard error of the Fréchet distance between ``generated`` and ``reference``
    features (features of either side as tensors or arrays)."""
    x, y = (torch.as_tensor(f).to(device=device, dtype=torch.float64) for f in (generated, reference))

    def statistic(ix: np.ndarray, iy: np.ndarray, axis: int) -> np.ndarray:
        pairs = zip(torch.as_tensor(ix, device=device), torch.as_tensor(iy, device=device), strict=True)
        return np.array([_frechet(x[i], y[j]) for i, j in pairs])

    return standard_error((indices(len(x)), indices(len(y))), statistic, settings)


def kid_interval(
    generated: torch.Tensor,
    reference: torch.Tensor,
    value: float,
    kid_std: float,
    subsets: int,
    settings: IntervalSettings,
    device: torch.device | None = None,
) -> Interval:
    """The interval of torch-fidelity's KID ``value`` (mean over ``subsets`` subsets, whose standard
    deviation is ``kid_std``) between ``generated`` and ``reference`` features, its kernels computed on
    ``device`` (None: the CPU)."""
    on = device or torch.device("cpu")
    x, y = (side.to(device=on, dtype=torch.float32) for side in (generated, reference))
    diag_x, diag_y = kernel_diagonal(x), kernel_diagonal(y)

    def statistic(ix: np.ndarray, iy: np.ndarray, axis: int) -> np.ndarray:
        w, v = _counts(ix, len(x), x.device), _counts(iy, len(y), y.device)
        within_x = _within(_quadratic(x, x, w, w), w, diag_x)
        within_y = _within(_quadratic(y, y, v, v), v, diag_y)
        across = _quadratic(x, y, w, v) / (len(x) * len(y))
        return (within_x + within_y - 2 * across).cpu().numpy()

    data_error = standard_error((indices(len(x)), indices(len(y))), statistic, settings)
    return normal_interval(value, math.hypot(data_error, kid_std / math.sqrt(subsets)), settings)


def _counts(resampled: np.ndarray, n: int, device: torch.device) -> torch.Tensor:
    """How often each image was drawn, per resample: (n, resamples) float32 on ``device``."""
    rows = torch.as_tensor(resampled, device=device)
    ones = torch.ones(rows.shape, dtype=torch.float32, device=device)
    counts = torch.zeros(rows.shape[0], n, device=device).scatter_add_(1, rows, ones)
    return counts.T.contiguous()


def _quadratic(a: torch.Tensor, b: torch.Tensor, wa: torch.Tensor, wb: torch.Tensor) -> torch.Tensor:
    """wa[:, r]ᵀ K(a, b) wb[:, r] for every resample r, the kernel computed in chunks of rows of ``a``
    (float32, as torch-fidelity computes it; the sums in float64)."""
    total = torch.zeros(wa.shape[1], dtype=torch.float64, device=a.device)
    rows = max(1, KERNEL_CHUNK // len(b))
    for start in range(0, len(a), rows):
        block = kernel(a[start : start + rows], b)
        total += ((block @ wb) * wa[start : start + rows]).sum(dim=0).double()
    return total


def _within(quadratic: torch.Tensor, weights: torch.Tensor, diagonal: torch.Tensor) -> torch.Tensor:
    """The mean kernel over pairs of drawn images that are not two copies of one image."""
    squares = weights.double().square()
    same = (squares * diagonal[:, None]).sum(dim=0)
    n = weights.sum(dim=0).double()
    return (quadratic - same) / (n.square() - squares.sum(dim=0))


def isc_interval(logits: torch.Tensor, value: float, splits: int, settings: IntervalSettings) -> Interval:
    """The interval of torch-fidelity's Inception Score ``value`` of ``logits`` over ``splits``."""

    def statistic(i: np.ndarray, axis: int) -> np.ndarray:
        return np.array([_score(logits[torch.as_tensor(row)], splits) for row in i])

    error = standard_error((indices(len(logits)),), statistic, settings)
    return normal_interval(value, error, settings, low=1.0)


def _score(logits: torch.Tensor, splits: int) -> float:
    # torch-fidelity's own computation, with the shuffle and seed its calculate_metrics uses.
    metric = isc_features_to_metric(logits, splits, DEFAULTS["samples_shuffle"], DEFAULTS["rng_seed"])
    return float(metric[KEY_METRIC_ISC_MEAN])
