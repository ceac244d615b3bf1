"""KID (Bińkowski et al. 2018) in torch, on the device its features are on: torch-fidelity's
computation (``torch_fidelity.metric_kid.kid_features_to_metric``, its defaults: the mean and
standard deviation over random subsets of the unbiased MMD² with the cubic polynomial kernel) with the
very subsets it draws (its seeded ``numpy.random.RandomState``), for an evaluation on CUDA, where
torch-fidelity's NumPy kernels would keep the work on the CPU. The kernel is computed in float32 as
torch-fidelity computes it, its sums in float64. It agrees with torch-fidelity's within 1e-4 relative
(tests/evaluation/test_device_metrics.py checks it on CPU tensors).
"""

from __future__ import annotations

import numpy as np
import torch
from torch_fidelity.defaults import DEFAULTS
from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, KEY_METRIC_KID_STD

KERNEL_ENTRIES = 2**24  # Kernel entries of a batch of subsets held at once (64 MB of float32).


def kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """torch-fidelity's KID kernel (its defaults): (a·b / d + 1)³, of rows (…, n, d) against (…, m, d)."""
    gamma = DEFAULTS["kid_kernel_poly_gamma"] or 1.0 / a.shape[-1]
    product = a @ b.transpose(-1, -2)  # In place from here: the kernel is the largest thing held.
    coef0, degree = DEFAULTS["kid_kernel_poly_coef0"], DEFAULTS["kid_kernel_poly_degree"]
    return product.mul_(gamma).add_(coef0).pow_(degree)


def kernel_diagonal(a: torch.Tensor) -> torch.Tensor:
    """:func:`kernel` of each row of ``a`` with itself, float64."""
    gamma = DEFAULTS["kid_kernel_poly_gamma"] or 1.0 / a.shape[1]
    squares = a.double().square().sum(dim=1)
    return (squares * gamma + DEFAULTS["kid_kernel_poly_coef0"]) ** DEFAULTS["kid_kernel_poly_degree"]


def subset_indices(
    n_first: int, n_second: int, subsets: int, subset_size: int, seed: int = DEFAULTS["rng_seed"]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The rows of each side that torch-fidelity's KID draws for each subset, (subsets, subset_size)
    each: the same generator, seed and order of draws (first side, then second, subset by subset)."""
    rng = np.random.RandomState(seed)
    drawn = [
        (rng.choice(n_first, subset_size, replace=False), rng.choice(n_second, subset_size, replace=False))
        for _ in range(subsets)
    ]
    first, second = (torch.from_numpy(np.stack(side)) for side in zip(*drawn, strict=True))
    return first, second


def device_kid(
    first: torch.Tensor,
    second: torch.Tensor,
    subsets: int,
    subset_size: int,
    device: torch.device,
    seed: int = DEFAULTS["rng_seed"],
) -> dict[str, float]:
    """torch-fidelity's KID mean and standard deviation (by its keys) of ``first`` (generated) against
    ``second`` (reference) features, computed on ``device``; subsets are batched to fill the device."""
    if min(len(first), len(second)) < subset_size:
        raise ValueError(f"KID subsets of {subset_size} need as many features on each side")
    x, y = (features.to(device=device, dtype=torch.float32) for features in (first, second))
    rows_x, rows_y = (rows.to(device) for rows in subset_indices(len(x), len(y), subsets, subset_size, seed))
    per_batch = max(1, KERNEL_ENTRIES // subset_size**2)
    mmds = torch.cat(
        [
            _unbiased_mmd2(x[batch_x], y[batch_y])
            for batch_x, batch_y in zip(rows_x.split(per_batch), rows_y.split(per_batch), strict=True)
        ]
    )
    return {
        KEY_METRIC_KID_MEAN: float(mmds.mean()),
        KEY_METRIC_KID_STD: float(mmds.std(correction=0)),  # NumPy's std, as torch-fidelity reports.
    }


def _unbiased_mmd2(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """torch-fidelity's unbiased MMD² of each subset pair (batch, m, d): the within-side kernel means
    leave out each feature paired with itself, the cross term keeps every pair."""
    m = x.shape[1]
    within = _off_diagonal_sum(kernel(x, x)) + _off_diagonal_sum(kernel(y, y))
    return within / (m * (m - 1)) - 2 * _sum(kernel(x, y)) / (m * m)


def _sum(square: torch.Tensor) -> torch.Tensor:
    """The sum of each (batch, m, m) kernel's entries: each row's in float32 (m terms, summed pairwise
    as torch-fidelity's NumPy sums them), the rows' in float64; far cheaper on a CPU than casting
    every entry to float64, and as close to torch-fidelity's (1e-6 relative)."""
    return square.sum(dim=2).double().sum(dim=1)


def _off_diagonal_sum(square: torch.Tensor) -> torch.Tensor:
    """:func:`_sum` of each (batch, m, m) kernel's entries off its diagonal."""
    return _sum(square) - square.diagonal(dim1=1, dim2=2).double().sum(dim=1)
