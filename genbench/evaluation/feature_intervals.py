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
  out, as a U-statistic leaves out an image paired with itself). Its standard error is combined with
  the part of KID's variance its random subsets add, kid_std² / subsets;
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
            generated, reference, mean, spread, KID_SUBSETS, settings
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


def _frechet(x: torch.Tensor, y: torch.Tensor) -> float:
    """FD of two feature sets, torch-fidelity's formula ``|μx − μy|² + tr Σx + tr Σy − 2 tr sqrt(Σx Σy)``
    computed the cheaper of two exact ways, as it is recomputed on every resample: with at least as
    many images as dimensions, tr sqrt(Σx Σy) is the sum of the square roots of the eigenvalues of the
    symmetric Σx^½ Σy Σx^½ (a symmetric eigensolver is several times faster than torch-fidelity's
    general one); with fewer (Inception's 2048 dimensions, a small run), it is the sum of the singular
    values of Ax Ayᵀ / sqrt((nx − 1)(ny − 1)), A the centred features, whose squares are the nonzero
    eigenvalues of Σx Σy."""
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


def kid_interval(
    generated: torch.Tensor,
    reference: torch.Tensor,
    value: float,
    kid_std: float,
    subsets: int,
    settings: IntervalSettings,
) -> Interval:
    """The interval of torch-fidelity's KID ``value`` (mean over ``subsets`` subsets, whose standard
    deviation is ``kid_std``) between ``generated`` and ``reference`` features."""
    x, y = generated.float().cpu(), reference.float().cpu()
    diag_x, diag_y = _kernel_diagonal(x), _kernel_diagonal(y)

    def statistic(ix: np.ndarray, iy: np.ndarray, axis: int) -> np.ndarray:
        w, v = _counts(ix, len(x)), _counts(iy, len(y))
        within_x = _within(_quadratic(x, x, w, w), w, diag_x)
        within_y = _within(_quadratic(y, y, v, v), v, diag_y)
        across = _quadratic(x, y, w, v) / (len(x) * len(y))
        return (within_x + within_y - 2 * across).numpy()

    data_error = standard_error((indices(len(x)), indices(len(y))), statistic, settings)
    return normal_interval(value, math.hypot(data_error, kid_std / math.sqrt(subsets)), settings)


def _kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """torch-fidelity's KID kernel (its defaults): (a·b / d + 1)³."""
    gamma = DEFAULTS["kid_kernel_poly_gamma"] or 1.0 / a.shape[1]
    return (a @ b.T * gamma + DEFAULTS["kid_kernel_poly_coef0"]) ** DEFAULTS["kid_kernel_poly_degree"]


def _kernel_diagonal(a: torch.Tensor) -> torch.Tensor:
    gamma = DEFAULTS["kid_kernel_poly_gamma"] or 1.0 / a.shape[1]
    squares = a.double().square().sum(dim=1)
    return (squares * gamma + DEFAULTS["kid_kernel_poly_coef0"]) ** DEFAULTS["kid_kernel_poly_degree"]


def _counts(resampled: np.ndarray, n: int) -> torch.Tensor:
    """How often each image was drawn, per resample: (n, resamples) float32."""
    rows = torch.as_tensor(resampled)
    counts = torch.zeros(rows.shape[0], n).scatter_add_(1, rows, torch.ones(rows.shape, dtype=torch.float32))
    return counts.T.contiguous()


def _quadratic(a: torch.Tensor, b: torch.Tensor, wa: torch.Tensor, wb: torch.Tensor) -> torch.Tensor:
    """wa[:, r]ᵀ K(a, b) wb[:, r] for every resample r, the kernel computed in chunks of rows of ``a``
    (float32, as torch-fidelity computes it; the sums in float64)."""
    total = torch.zeros(wa.shape[1], dtype=torch.float64)
    rows = max(1, KERNEL_CHUNK // len(b))
    for start in range(0, len(a), rows):
        block = _kernel(a[start : start + rows], b)
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
