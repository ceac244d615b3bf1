"""The device-side metric math (genbench.evaluation.feature_comparison and the modules it calls), which
a CUDA evaluation uses, run here on CPU tensors through the very functions a CUDA run calls with
device=cpu: FID, KID, precision and recall agree with torch-fidelity's own CPU numbers within 1e-4
relative on features shaped like the reference classifier's (64-d) and Inception's (more dimensions
than images), and so do FD∞'s FDs at every subset size; on the CPU the evaluation's numbers are still
torch-fidelity's, exactly."""

from __future__ import annotations

import pytest
import torch
from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric
from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, KEY_METRIC_KID_STD, kid_features_to_metric
from torch_fidelity.metric_prc import calc_cdist_part, calculate_precision_recall_part

from genbench.evaluation.fd_infinity import _fd_at_sizes, fd_at_sizes_on, subset_sizes
from genbench.evaluation.feature_comparison import compare, in_torch
from genbench.evaluation.frechet import device_frechet_distance, statistics
from genbench.evaluation.kernel_distance import device_kid, subset_indices
from genbench.evaluation.precision_recall import _radii, membership

CPU = torch.device("cpu")
AGREEMENT = 1e-4  # Relative: what issue 25 asks of the device math against torch-fidelity's CPU numbers.


def _features(n: int, d: int, seed: int, shift: float) -> torch.Tensor:
    """Penultimate-layer-like features: rectified, correlated, their variance falling across dimensions;
    ``shift`` moves one set off the other as a model's samples sit off the reference images."""
    basis = torch.randn(d, d, generator=torch.Generator().manual_seed(99)) / d**0.5
    latent = torch.randn(n, d, generator=torch.Generator().manual_seed(seed)) * torch.linspace(2.0, 0.1, d)
    return torch.relu(latent @ basis + shift).float()


def _torch_fidelity_fid(x: torch.Tensor, y: torch.Tensor) -> float:
    statistics = (fid_features_to_statistics(side) for side in (x, y))
    return float(fid_statistics_to_metric(*statistics, verbose=False)["frechet_inception_distance"])


# The classifier's 64 dimensions (eigenvalues of the symmetric product), and more dimensions than
# images, as Inception's 2048 in a small run (singular values of the centred cross product): both ways
# of the square root. (2048 itself: torch-fidelity's general eigensolver takes a minute on two cores.)
@pytest.mark.parametrize(("n", "d"), [(2000, 64), (300, 768)])
def test_device_fid_agrees_with_torch_fidelity(n: int, d: int) -> None:
    generated, reference = _features(n, d, 1, shift=0.3), _features(n, d, 2, shift=0.0)
    expected = _torch_fidelity_fid(generated, reference)
    assert expected > 0.1  # Two sets apart: a relative agreement that means something.
    assert device_frechet_distance(generated, reference, CPU) == pytest.approx(expected, rel=AGREEMENT)


def test_fd_infinity_on_a_device_has_numpys_fd_at_every_size() -> None:
    features = _features(2000, 64, 1, shift=0.3).double().numpy()
    reference = statistics(_features(2000, 64, 2, shift=0.0).double().numpy())
    sizes = subset_sizes(len(features))
    expected = _fd_at_sizes(features, reference, sizes, seed=0)
    found = fd_at_sizes_on(features, reference, sizes, 0, CPU)  # The same subsets, drawn alike.
    assert found == pytest.approx(expected, rel=AGREEMENT)
    assert len(set(expected)) == len(sizes)  # FD moves with the size: a real comparison at each.


@pytest.mark.parametrize(("n", "d", "subsets"), [(2000, 64, 20), (1000, 2048, 3)])
def test_device_kid_agrees_with_torch_fidelity(n: int, d: int, subsets: int) -> None:
    generated, reference = _features(n, d, 1, shift=0.3), _features(n, d, 2, shift=0.0)
    size = n // 2
    expected = kid_features_to_metric(
        generated, reference, kid_subsets=subsets, kid_subset_size=size, verbose=False
    )
    found = device_kid(generated, reference, subsets, size, CPU)
    assert found[KEY_METRIC_KID_MEAN] == pytest.approx(expected[KEY_METRIC_KID_MEAN], rel=AGREEMENT)
    assert found[KEY_METRIC_KID_STD] == pytest.approx(expected[KEY_METRIC_KID_STD], rel=AGREEMENT)


def test_device_kid_draws_torch_fidelitys_subsets() -> None:
    # A subset of every image on both sides leaves nothing to chance: then the subsets' spread is 0.
    first, second = subset_indices(30, 40, subsets=4, subset_size=30)
    assert first.shape == second.shape == (4, 30)
    assert all(sorted(row.tolist()) == list(range(30)) for row in first)
    generated, reference = _features(30, 8, 1, shift=0.3), _features(30, 8, 2, shift=0.0)
    found = device_kid(generated, reference, 4, 30, CPU)
    assert found[KEY_METRIC_KID_STD] == pytest.approx(0.0, abs=1e-6)


def test_precision_and_recall_on_a_device_are_torch_fidelitys() -> None:
    generated, reference = _features(2000, 64, 1, shift=0.3), _features(2000, 64, 2, shift=0.0)
    precision, recall = calculate_precision_recall_part(generated, reference, 3, 10_000)
    found = membership(generated, reference, 3, 10_000, CPU)
    assert 0.05 < precision < 0.95 and 0.05 < recall < 0.95  # Neither all in nor all out.
    # The same distances and comparisons, one for one: equal, within 1e-4 and beyond.
    assert (found.precision, found.recall) == (precision, recall)
    assert found.precision_terms.device == CPU and found.precision_terms.dtype == torch.bool


def test_on_the_cpu_the_evaluation_records_torch_fidelitys_numbers_exactly() -> None:
    generated, reference = _features(600, 64, 1, shift=0.3), _features(600, 64, 2, shift=0.0)
    sides = [{metric: side for metric in ("fid", "kid", "prc")} for side in (generated, reference)]
    results, found = compare(*sides, ("fid", "kid", "prc"), (5, 300), CPU)
    kid = kid_features_to_metric(generated, reference, kid_subsets=5, kid_subset_size=300, verbose=False)
    assert not in_torch(CPU) and in_torch(torch.device("cuda"))
    assert results["frechet_inception_distance"] == _torch_fidelity_fid(generated, reference)
    assert results[KEY_METRIC_KID_MEAN] == kid[KEY_METRIC_KID_MEAN]
    assert results[KEY_METRIC_KID_STD] == kid[KEY_METRIC_KID_STD]
    assert found is not None
    assert (results["precision"], results["recall"]) == calculate_precision_recall_part(generated, reference)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_cuda_the_metrics_agree_with_the_cpus() -> None:
    generated, reference = _features(2000, 64, 1, shift=0.3), _features(2000, 64, 2, shift=0.0)
    sides = [{metric: side for metric in ("fid", "kid", "prc")} for side in (generated, reference)]
    on_cpu, _ = compare(*sides, ("fid", "kid", "prc"), (20, 1000), CPU)
    on_cuda, _ = compare(*sides, ("fid", "kid", "prc"), (20, 1000), torch.device("cuda"))
    for key, value in on_cpu.items():
        # Precision and recall count images: a distance a rounding apart may move one of 2000.
        tolerance = 1 / 1000 if key in ("precision", "recall") else AGREEMENT
        assert on_cuda[key] == pytest.approx(value, rel=tolerance), key


def test_the_radii_are_torch_fidelitys_kth_distances_ties_included() -> None:
    # genbench selects with topk where torch-fidelity uses kthvalue: the same value, bit for bit, also
    # where neighbours tie (repeated images: a model that copies, a sample set with duplicates).
    features = _features(1500, 64, 3, shift=0.1)
    features = torch.cat([features, features[:300], features[:100]])  # Ties at 0 and beyond.
    for neighbourhood in (1, 3, 5):
        expected = torch.cat(
            [
                calc_cdist_part(batch, features, 700).kthvalue(neighbourhood + 1).values
                for batch in features.split(700)
            ]
        )
        found = _radii(features, neighbourhood, 700)
        assert torch.equal(found, expected)
        assert (found == 0).any() == (neighbourhood <= 2)  # Three of one image: 0 up to the 2nd neighbour.
