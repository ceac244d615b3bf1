"""Conditioning vectors for networks that see a noise level and a class: :class:`TimeEmbedding`
(Transformer sinusoids followed by an MLP, as in Ho et al. 2020) and :class:`LabelEmbedding` (a
learned vector per class plus a "null" class, for classifier-free guidance, Ho & Salimans 2022).

Both map a batch of scalars ``(B,)`` to vectors ``(B, features)`` that a :class:`~genbench.blocks.UNet`
adds together and feeds to every residual block.
"""

from __future__ import annotations

import math

import torch
from torch import nn

MAX_PERIOD = 10_000.0  # Vaswani et al. (2017, section 3.5): wavelengths from 2π to 10000·2π.


def sinusoidal_embedding(t: torch.Tensor, dim: int, max_period: float = MAX_PERIOD) -> torch.Tensor:
    """The Transformer's positional encoding (Vaswani et al. 2017, section 3.5) of the scalars ``t``
    ``(B,)``, any float or int values: ``(B, dim)`` float32, ``[sin(t·f_i), cos(t·f_i)]`` with
    frequencies ``f_i = max_period^(-i / (dim / 2))`` for ``i < dim / 2``. An odd ``dim`` ends with a
    zero column.

    DDPM embeds its integer step ``t`` in [0, 1000) this way (Ho et al. 2020, appendix B); a model
    with continuous time in [0, 1] scales it first (e.g. by 1000) so the same frequencies resolve it.
    """
    if dim < 1:
        raise ValueError(f"an embedding needs at least one dimension, got {dim}")
    half = dim // 2
    exponents = torch.arange(half, dtype=torch.float32, device=t.device) / max(half, 1)
    frequencies = torch.exp(-math.log(max_period) * exponents)
    angles = t.to(torch.float32)[:, None] * frequencies[None, :]
    embedding = torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)
    if dim % 2:
        embedding = nn.functional.pad(embedding, (0, 1))
    return embedding


class TimeEmbedding(nn.Module):
    """The noise level's embedding of Ho et al. (2020): :func:`sinusoidal_embedding` of ``t`` in
    ``channels`` dimensions, then Linear -> SiLU -> Linear to ``features`` (default ``4 * channels``,
    their choice).

    ``forward(t)`` takes ``(B,)`` steps or times (int or float) and returns ``(B, features)``.
    """

    def __init__(self, channels: int, features: int | None = None) -> None:
        super().__init__()
        self.channels = channels
        self.features = features or 4 * channels
        self.mlp = nn.Sequential(
            nn.Linear(channels, self.features), nn.SiLU(), nn.Linear(self.features, self.features)
        )

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """``(B, features)`` for the steps or times ``t`` ``(B,)``."""
        return self.mlp(sinusoidal_embedding(t, self.channels))


class LabelEmbedding(nn.Module):
    """A learned ``features``-vector per class, plus one for the "null" class :attr:`null` (index
    ``num_classes``), which stands for "no label": the unconditional branch of classifier-free
    guidance (Ho & Salimans 2022, section 3.2) and the labels dropped in its training.

    ``forward(labels, n)`` takes int labels ``(n,)`` in ``[0, num_classes]`` (``num_classes`` being the
    null class) or None, which means the null class for all ``n``: a network called without labels
    then never sees a class.
    """

    def __init__(self, num_classes: int, features: int) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"a label embedding needs at least one class, got {num_classes}")
        self.num_classes = num_classes
        self.embedding = nn.Embedding(num_classes + 1, features)

    @property
    def null(self) -> int:
        """The index of the null class ("no label")."""
        return self.num_classes

    def forward(self, labels: torch.Tensor | None, n: int) -> torch.Tensor:
        """``(n, features)`` for ``labels`` ``(n,)``, or the null class's vector ``n`` times for None."""
        if labels is None:
            return self.embedding.weight[self.null].expand(n, -1)
        return self.embedding(labels)

    def drop(self, labels: torch.Tensor, probability: float) -> torch.Tensor:
        """``labels`` with each replaced by :attr:`null` with ``probability``, drawn from torch's global
        generator (training noise, which the runner seeds and checkpoints): classifier-free guidance's
        joint training of the conditional and unconditional model (Ho & Salimans 2022, algorithm 1)."""
        if probability <= 0:
            return labels
        dropped = torch.rand(labels.shape, device=labels.device) < probability
        return torch.where(dropped, torch.full_like(labels, self.null), labels)
