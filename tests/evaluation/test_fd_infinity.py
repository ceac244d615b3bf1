"""FD∞ (Chong & Forsyth 2020): FD at several sub-sample sizes, regressed on 1/n, read at 1/n = 0. It
removes the sample-size bias that FD at one n carries, so evaluations with different --n-samples can
be compared."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from caches import session_cache
from setups import CPU, make_setup

from genbench.evaluation.classifier import cached_classifier
from genbench.evaluation.evaluate import evaluate
from genbench.evaluation.fd_infinity import SIZES, extrapolate, subset_sizes
from genbench.evaluation.frechet import frechet_distance, statistics

pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.


def test_subset_sizes_run_from_a_fifth_to_all_samples() -> None:
    sizes = subset_sizes(10_000)
    assert len(sizes) == SIZES and sizes[0] == 2000 and sizes[-1] == 10_000
    assert subset_sizes(12)[-1] == 12 and len(set(subset_sizes(12))) == len(subset_sizes(12))


def test_fd_infinity_removes_the_sample_size_bias_of_gaussian_features() -> None:
    rng = np.random.default_rng(0)
    reference = statistics(rng.normal(size=(100_000, 16)))
    for n in (500, 2000):  # Drawn from the reference's own distribution: the true FD is 0.
        features = rng.normal(size=(n, 16))
        value, fit = extrapolate(features, reference)
        at_n = frechet_distance(statistics(features), reference)
        assert abs(value) < 0.5 * at_n, (n, at_n, value)  # FD at n is biased upwards; FD∞ is not.
        assert fit["sizes"][-1] == n and fit["slope"] > 0 and fit["fd_at_sizes"][-1] == pytest.approx(at_n)


def test_fd_infinity_is_recorded_beside_fd_and_agrees_across_sample_counts(tmp_path_factory) -> None:
    from genbench_builtin.datasets import Digits

    train, test = (Digits(Path("unused")).load(split) for split in ("train", "test"))
    cache = session_cache(tmp_path_factory) / "classifiers"
    classifier = cached_classifier("digits", Digits.shape, train, test, cache, CPU)
    setup = make_setup("digits", test, classifier, tmp_path_factory.mktemp("fid"), ("fd_clf", "fd_inf_clf"))
    small, large = (evaluate(train.images[:n], setup) for n in (300, 1400))
    fd = small.metrics["fd_clf_300"], large.metrics["fd_clf_1.4k"]
    fd_inf = small.metrics["fd_inf_clf"], large.metrics["fd_inf_clf"]
    assert fd[0] > fd[1] and abs(fd_inf[0] - fd_inf[1]) < 0.5 * (fd[0] - fd[1]), (fd, fd_inf)
    protocol = large.protocol["fd_inf_clf"]
    assert protocol["seed"] == 0 and len(protocol["sizes"]) == SIZES and protocol["r2"] > 0.8
    # Its largest subset is every sample: the same FD as torch-fidelity's fd_clf.
    assert protocol["fd_at_sizes"][-1] == pytest.approx(fd[1], rel=1e-3)
