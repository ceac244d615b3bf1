"""Each metric's interval over a run's samples: its standard error matches the spread of the metric over
independent draws of as many samples (where that is known exactly, the textbook standard error), it is
reproducible from its seed, and precision/recall sample by sample are exactly torch-fidelity's."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric
from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, KEY_METRIC_KID_STD, kid_features_to_metric
from torch_fidelity.metric_prc import prc_features_to_metric

from genbench.core.run_spec import IntervalSettings
from genbench.evaluation.bootstrap import difference_interval, mean_interval
from genbench.evaluation.feature_intervals import _frechet, _score, fd_interval, isc_interval, kid_interval
from genbench.evaluation.precision_recall import membership

CPU = torch.device("cpu")
PRECISE = IntervalSettings(resamples=2000)  # Standard errors within about 2% of the exact bootstrap's.
Z = 1.959964


def _half_width(interval: tuple[float, float]) -> float:
    return (interval[1] - interval[0]) / 2


def _gaussians(seed: int, n: int, d: int, shift: float) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=generator, dtype=torch.float64)
    y = torch.randn(n, d, generator=generator, dtype=torch.float64) * 1.5 + shift
    return x, y


def test_a_fraction_has_the_textbook_standard_error() -> None:
    terms = torch.tensor([True] * 300 + [False] * 700)
    lo, hi = mean_interval(terms, PRECISE, 0.0, 1.0)
    assert (lo + hi) / 2 == pytest.approx(0.3)  # Centred on the value.
    assert _half_width((lo, hi)) == pytest.approx(Z * math.sqrt(0.3 * 0.7 / 1000), rel=0.06)


def test_a_difference_of_two_means_has_the_textbook_standard_error() -> None:
    generator = torch.Generator().manual_seed(0)
    real, generated = torch.randn(2000, generator=generator), 2 * torch.randn(1000, generator=generator)
    value = 0.5 + float(real.mean() - generated.mean())
    lo, hi = difference_interval(0.5, real, generated, PRECISE)
    assert (lo + hi) / 2 == pytest.approx(value)
    expected = Z * math.sqrt(real.var().item() / 2000 + generated.var().item() / 1000)
    assert _half_width((lo, hi)) == pytest.approx(expected, rel=0.06)
    # Clipped to the estimate's range: an estimate floored at 0 has no negative end.
    assert difference_interval(0.0, real, real + 0.01, PRECISE, low=0.0)[0] == 0.0


@pytest.mark.parametrize(("n", "d"), [(300, 16), (20, 64)])  # More images than dimensions, and fewer.
def test_fd_on_each_resample_is_torch_fidelitys_fd(n: int, d: int) -> None:
    x, y = _gaussians(3, n, d, shift=0.4)
    statistics = [fid_features_to_statistics(side) for side in (x, y)]
    expected = fid_statistics_to_metric(*statistics, verbose=False)["frechet_inception_distance"]
    assert _frechet(x, y) == pytest.approx(expected, rel=1e-6)


def test_the_fd_interval_matches_the_spread_of_fd_over_independent_draws() -> None:
    draws = [_frechet(*_gaussians(seed, 400, 4, shift=0.5)) for seed in range(200)]
    x, y = _gaussians(1000, 400, 4, shift=0.5)
    lo, hi = fd_interval(x, y, _frechet(x, y), IntervalSettings(resamples=400), CPU)
    assert _half_width((lo, hi)) / Z == pytest.approx(float(np.std(draws)), rel=0.35)
    assert lo <= _frechet(x, y) <= hi


def test_the_kid_interval_matches_the_spread_of_kid_over_independent_draws() -> None:
    settings = {"kid_subsets": 100, "kid_subset_size": 100, "verbose": False}

    def kid(x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        result = kid_features_to_metric(x.float(), y.float(), **settings)
        return {
            "mean": result[KEY_METRIC_KID_MEAN],
            "std": result[KEY_METRIC_KID_STD],
        }

    draws = [kid(*_gaussians(seed, 200, 8, shift=0.3))["mean"] for seed in range(60)]
    x, y = _gaussians(1000, 200, 8, shift=0.3)
    found = kid(x, y)
    interval = kid_interval(x, y, found["mean"], found["std"], 100, IntervalSettings(resamples=400))
    assert _half_width(interval) / Z == pytest.approx(float(np.std(draws)), rel=0.35)


def test_the_inception_score_interval_matches_its_spread_over_independent_draws() -> None:
    def logits(seed: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(seed)
        return 3 * torch.randn(500, 10, generator=generator)

    draws = [_score(logits(seed), 10) for seed in range(60)]
    found = logits(1000)
    interval = isc_interval(found, _score(found, 10), 10, IntervalSettings(resamples=200))
    assert _half_width(interval) / Z == pytest.approx(float(np.std(draws)), rel=0.35)


def test_an_interval_is_reproducible_from_its_seed() -> None:
    x, y = _gaussians(0, 100, 3, shift=1.0)
    value = _frechet(x, y)
    first = fd_interval(x, y, value, IntervalSettings(resamples=50), CPU)
    assert fd_interval(x, y, value, IntervalSettings(resamples=50), CPU) == first
    assert fd_interval(x, y, value, IntervalSettings(resamples=50, seed=1), CPU) != first


def test_precision_and_recall_sample_by_sample_are_torch_fidelitys() -> None:
    generator = torch.Generator().manual_seed(0)
    generated = torch.randn(300, 6, generator=generator)
    reference = torch.randn(250, 6, generator=generator) * 1.3 + 0.4
    found = membership(generated, reference, neighbourhood=3, batch_size=128)
    expected = prc_features_to_metric(
        generated, reference, prc_neighborhood=3, prc_batch_size=128, save_cpu_ram=True, verbose=False
    )
    assert found.precision == expected["precision"] and found.recall == expected["recall"]
    assert found.precision_terms.shape == (300,) and found.recall_terms.shape == (250,)
    assert 0 < found.precision < 1 and 0 < found.recall < 1
