"""The metric table's ``fd_inf_clf`` (through genbench.evaluation.feature_metrics): FD∞, the
reference-classifier Fréchet distance extrapolated to infinitely many generated samples (Chong and
Forsyth, "Effectively Unbiased FID and Inception Score and where to find them", CVPR 2020).

FD is biased upwards by an amount that shrinks like 1/N in the number N of generated samples, so FD at
one N ranks models fairly only against FD at the same N. Chong and Forsyth compute FD on random
subsets of several sizes, fit a line in 1/N and read it at 1/N = 0. Here: SIZES sizes evenly spaced
from a fifth of the samples to all of them (their 5k to 50k is a tenth: a fifth keeps the covariance
of small evaluations estimable), the reference statistics fixed, the line by scipy's least squares.
At each size FD is the mean over DRAWS seeded random subsets where the paper takes one: at the few
hundred to ten thousand samples of genbench's datasets one subset's FD scatters more than the 1/N
trend (on digits, FD∞ of 300 and of 1,400 samples differed by 25 with one draw, by 4 with twenty).
The reference images' own count still biases FD∞ as it biases FD:
compare FD∞ across ``--n-samples``, not across ``--n-reference``.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import linregress

from genbench.evaluation.classifier_features import dataset_features
from genbench.evaluation.computation import Computed, Request
from genbench.evaluation.frechet import Statistics, frechet_distance, statistics

SIZES = 15  # Chong and Forsyth's number of points.
SMALLEST = 0.2  # The smallest subset, as a fraction of the samples.
DRAWS = 20  # Random subsets averaged at each size but the last (all samples).
SEED = 0  # Which subsets: part of the protocol.


def subset_sizes(n: int) -> list[int]:
    """The sub-sample sizes FD is computed at for ``n`` samples: SIZES of them, distinct, ending at n."""
    return sorted({int(size) for size in np.linspace(max(2, round(SMALLEST * n)), n, SIZES)})


def extrapolate(
    features: np.ndarray, reference: Statistics, seed: int = SEED
) -> tuple[float, dict[str, object]]:
    """FD∞ of ``features`` against the ``reference`` statistics, with the fit behind it: the sizes, the
    FD at each, the slope in 1/N and the fit's r²."""
    rng = np.random.default_rng(seed)
    sizes = subset_sizes(len(features))
    distances = [
        float(np.mean([_subset_distance(features, size, reference, rng) for _ in range(DRAWS)]))
        if size < len(features)
        else frechet_distance(statistics(features), reference)
        for size in sizes
    ]
    if len(sizes) < 2:  # One size (two samples): nothing to extrapolate from.
        return distances[-1], {"sizes": sizes, "fd_at_sizes": distances}
    fit = linregress(1 / np.asarray(sizes, dtype=float), distances)
    fitted = {"sizes": sizes, "fd_at_sizes": distances, "slope": float(fit.slope), "r2": float(fit.rvalue**2)}
    return float(fit.intercept), fitted


def _subset_distance(
    features: np.ndarray, size: int, reference: Statistics, rng: np.random.Generator
) -> float:
    subset = features[rng.choice(len(features), size, replace=False)]
    return frechet_distance(statistics(subset), reference)


def fd_infinity(request: Request, features: np.ndarray) -> Computed:
    """``fd_inf_clf`` of samples with these classifier ``features``, against the setup's reference."""
    setup = request.setup
    reference = setup.once(
        "fd-infinity/reference", lambda: statistics(dataset_features(setup, "reference", setup.reference))
    )
    value, fit = extrapolate(features, reference)
    method = f"Chong & Forsyth 2020, mean FD of {DRAWS} random subsets at each size"
    return Computed((value,), {**setup.classifier.protocol(), "method": method, "seed": SEED, **fit})
