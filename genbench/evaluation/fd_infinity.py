"""The metric table's ``fd_inf_clf`` (through genbench.evaluation.feature_metrics): FD∞, the
reference-classifier Fréchet distance extrapolated to infinitely many generated samples (Chong and
Forsyth, "Effectively Unbiased FID and Inception Score and where to find them", CVPR 2020).

FD is biased upwards by an amount that shrinks like 1/N in the number N of generated samples, so FD at
one N ranks models fairly only against FD at the same N. Chong and Forsyth compute FD on random
subsets of several sizes, fit a line in 1/N and read it at 1/N = 0. Here: SIZES sizes evenly spaced
from a fifth of the samples to all of them (their 5k to 50k is a tenth: a fifth keeps the covariance
of small evaluations estimable), the reference statistics fixed, the line by scipy's least squares
(the FDs on a CUDA evaluation's GPU, in torch from the same subsets: :func:`fd_at_sizes_on`).
At each size FD is the mean over DRAWS seeded random subsets where the paper takes one: at the few
hundred to ten thousand samples of genbench's datasets one subset's FD scatters more than the 1/N
trend (on digits, FD∞ of 300 and of 1,400 samples differed by 25 with one draw, by 4 with twenty).
The reference images' own count still biases FD∞ as it biases FD:
compare FD∞ across ``--n-samples``, not across ``--n-reference``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.stats import linregress

from genbench.evaluation.bootstrap import normal_interval
from genbench.evaluation.classifier_features import dataset_features
from genbench.evaluation.computation import Computed, Request
from genbench.evaluation.feature_comparison import in_torch
from genbench.evaluation.feature_intervals import fd_standard_error
from genbench.evaluation.frechet import Statistics, device_distances_to, frechet_distance, statistics

SIZES = 15  # Chong and Forsyth's number of points.
SMALLEST = 0.2  # The smallest subset, as a fraction of the samples.
DRAWS = 20  # Random subsets averaged at each size but the last (all samples).
SEED = 0  # Which subsets: part of the protocol.
INTERVAL_METHOD = (
    "normal bootstrap interval: FD∞ ± 1.96 standard errors, the bootstrap standard error of FD at all "
    "samples (generated and reference features resampled independently) combined with the standard "
    "error of the fit's intercept"
)


def subset_sizes(n: int) -> list[int]:
    """The sub-sample sizes FD is computed at for ``n`` samples: SIZES of them, distinct, ending at n."""
    return sorted({int(size) for size in np.linspace(max(2, round(SMALLEST * n)), n, SIZES)})


def extrapolate(
    features: np.ndarray, reference: Statistics, seed: int = SEED, device: torch.device | None = None
) -> tuple[float, dict[str, object]]:
    """FD∞ of ``features`` against the ``reference`` statistics, with the fit behind it: the sizes, the
    FD at each, the slope in 1/N, the fit's r² and the standard error of its intercept (FD∞). The FDs
    are computed on ``device``: on the CPU (or None) by torch-fidelity's NumPy, elsewhere (CUDA) in
    torch (:func:`fd_at_sizes_on`), from the same subsets."""
    sizes = subset_sizes(len(features))
    if device is not None and in_torch(device):
        distances = fd_at_sizes_on(features, reference, sizes, seed, device)
    else:
        distances = _fd_at_sizes(features, reference, sizes, seed)
    if len(sizes) < 2:  # One size (two samples): nothing to extrapolate from.
        return distances[-1], {"sizes": sizes, "fd_at_sizes": distances}
    fit = linregress(1 / np.asarray(sizes, dtype=float), distances)
    fitted = {
        "sizes": sizes,
        "fd_at_sizes": distances,
        "slope": float(fit.slope),
        "r2": float(fit.rvalue**2),
        "intercept_stderr": float(fit.intercept_stderr),
    }
    return float(fit.intercept), fitted


def _fd_at_sizes(features: np.ndarray, reference: Statistics, sizes: list[int], seed: int) -> list[float]:
    """The mean FD of DRAWS random subsets at each size (all the features at the last), by
    torch-fidelity's NumPy."""
    rng = np.random.default_rng(seed)
    return [
        float(np.mean([_subset_distance(features, size, reference, rng) for _ in range(DRAWS)]))
        if size < len(features)
        else frechet_distance(statistics(features), reference)
        for size in sizes
    ]


def _subset_distance(
    features: np.ndarray, size: int, reference: Statistics, rng: np.random.Generator
) -> float:
    subset = features[rng.choice(len(features), size, replace=False)]
    return frechet_distance(statistics(subset), reference)


def fd_at_sizes_on(
    features: np.ndarray, reference: Statistics, sizes: list[int], seed: int, device: torch.device
) -> list[float]:
    """:func:`_fd_at_sizes`'s FDs in torch on ``device``, from the same subsets (the same generator,
    drawn in the same order), the DRAWS subsets of one size computed together
    (genbench.evaluation.frechet.device_distances_to): a few large steps for a GPU instead of 281
    small ones on the CPU."""
    rng = np.random.default_rng(seed)
    on_device = torch.as_tensor(features).to(device)
    distances = []
    for size in sizes:
        if size < len(features):
            rows = np.stack([rng.choice(len(features), size, replace=False) for _ in range(DRAWS)])
            sets = on_device[torch.from_numpy(rows).to(device)]
        else:
            sets = on_device[None]
        distances.append(float(device_distances_to(sets, reference).mean()))
    return distances


def fd_infinity(request: Request, features: np.ndarray) -> Computed:
    """``fd_inf_clf`` of samples with these classifier ``features``, against the setup's reference,
    with its interval where asked (:data:`INTERVAL_METHOD`)."""
    setup = request.setup
    reference = setup.once(
        "fd-infinity/reference/features", lambda: dataset_features(setup, "reference", setup.reference)
    )
    value, fit = extrapolate(features, statistics(reference), device=setup.device)
    method = f"Chong & Forsyth 2020, mean FD of {DRAWS} random subsets at each size"
    protocol: dict[str, object] = {**setup.classifier.protocol(), "method": method, "seed": SEED, **fit}
    if not request.wants_intervals:
        return Computed((value,), protocol)
    # Another draw of as many samples moves FD∞ as it moves FD at all of them (the line's slope in 1/N
    # barely changes); the fit adds its own uncertainty about where the line meets 1/N = 0.
    fit_error = float(fit.get("intercept_stderr", 0.0))  # type: ignore[arg-type]  # A float, or absent.
    error = math.hypot(fd_standard_error(features, reference, setup.intervals, setup.device), fit_error)
    protocol["interval"] = setup.intervals.protocol(INTERVAL_METHOD)
    # Not clipped at 0: an extrapolated FD can read below it (a small evaluation, a good model).
    return Computed((value,), protocol, (normal_interval(value, error, setup.intervals),))
