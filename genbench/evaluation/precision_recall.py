"""Precision and recall (Kynkäänniemi et al. 2019) sample by sample: torch-fidelity's computation
(``torch_fidelity.metric_prc.calculate_precision_recall_part``: its distances, batches and k-nearest
neighbours, called the same way), keeping for every image whether it lies inside the other side's
manifold instead of only the fractions. The fractions are then exactly torch-fidelity's precision and
recall, and their intervals resample these per-image terms (genbench.evaluation.fidelity_metrics).

The distances stay on the evaluation's device: torch-fidelity's ``calc_cdist_part`` moves every block
of distances to the CPU, which on CUDA would put the k-NN search there. On the CPU the operations are
torch-fidelity's, one for one, and so are the results.

The reference's radii depend on nothing a run changes: given a cache folder they are kept there and
read back, bitwise as computed (genbench.evaluation.reference_radii). The distances between the two
sides are computed twice, as torch-fidelity does (reference rows for recall, generated rows for
precision), not once and transposed: ``cdist(b, a).T`` differs from ``cdist(a, b)`` in the last bit
of about 2 % of the distances of 10k x 10k classifier features (issue 22, measured on Fashion-MNIST),
so it would no longer be torch-fidelity's computation one for one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from genbench.evaluation.reference_radii import cached_radii


@dataclass(frozen=True)
class Membership:
    """For each generated image, whether it lies inside the reference manifold (precision's terms), and
    for each reference image, whether it lies inside the generated manifold (recall's terms)."""

    precision_terms: torch.Tensor  # bool (n_generated,), on the CPU
    recall_terms: torch.Tensor  # bool (n_reference,), on the CPU

    @property
    def precision(self) -> float:
        """The fraction of generated images inside the reference manifold."""
        return self.precision_terms.float().mean().item()

    @property
    def recall(self) -> float:
        """The fraction of reference images inside the generated manifold."""
        return self.recall_terms.float().mean().item()


def membership(
    generated: torch.Tensor,
    reference: torch.Tensor,
    neighbourhood: int,
    batch_size: int,
    device: torch.device | None = None,
    cache_root: Path | None = None,
) -> Membership:
    """Each side's manifold is the union of balls around its features, each as wide as the distance to
    its ``neighbourhood``-th nearest neighbour on its side; precision's terms ask, per generated image,
    whether it falls in some reference ball, recall's the converse (torch-fidelity's ``prc``, whose
    input1 is the generated images and input2 the reference, batch by batch as it does). Computed on
    ``device`` (None: where the features are); the reference's radii are kept under ``cache_root``
    (None: computed every time)."""
    generated, reference = (features.to(device or features.device) for features in (generated, reference))
    radii_generated = _radii(generated, neighbourhood, batch_size)
    radii_reference = cached_radii(
        reference, neighbourhood, batch_size, cache_root, lambda: _radii(reference, neighbourhood, batch_size)
    )
    recall = torch.cat(
        [
            (_distances(batch, generated, batch_size) <= radii_generated).any(dim=1)
            for batch in reference.split(batch_size)
        ]
    )
    precision = torch.cat(
        [
            (_distances(batch, reference, batch_size) <= radii_reference).any(dim=1)
            for batch in generated.split(batch_size)
        ]
    )
    return Membership(precision.cpu(), recall.cpu())


def _radii(features: torch.Tensor, neighbourhood: int, batch_size: int) -> torch.Tensor:
    """Each feature's distance to its ``neighbourhood``-th nearest other feature (itself, at distance 0,
    is the first). torch-fidelity takes it with ``kthvalue``; the smallest ``neighbourhood + 1`` by
    ``topk`` end in the very same value (a selection: no arithmetic), about 6x faster on the CPU for a
    row of 10,000 distances (issue 22)."""
    nearest = (
        _distances(batch, features, batch_size).topk(neighbourhood + 1, dim=1, largest=False).values
        for batch in features.split(batch_size)
    )
    return torch.cat([values[:, -1] for values in nearest])


def _distances(first: torch.Tensor, second: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Euclidean distances of every row of ``first`` to every row of ``second``, ``second`` read in
    batches: torch-fidelity's ``calc_cdist_part`` left on the features' device."""
    return torch.cat([torch.cdist(first, batch) for batch in second.split(batch_size)], dim=1)
