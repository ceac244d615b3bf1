"""Adaptive average pooling whose backward is deterministic on CUDA too.

``nn.AdaptiveAvgPool2d``'s CUDA backward adds gradients with atomics: it has no deterministic kernel,
and under ``torch.use_deterministic_algorithms(True)`` it raises. The divergence estimators train
through it (and their gradient penalty differentiates through its backward), so on CUDA the pooling
is the same average written as two matrix products, ``A_h @ x @ A_wᵀ``, whose gradients are matrix
products too (deterministic with genbench.evaluation.deterministic's cuBLAS setting). On the CPU it
is ``F.adaptive_avg_pool2d`` itself, bit for bit what the estimators have always computed there.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def averaging_matrix(size: int, out: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """``(out, size)``: row ``i`` averages the cells ``floor(i·size/out)`` to ``ceil((i+1)·size/out)``,
    the window torch's adaptive pooling gives output cell ``i``."""
    matrix = torch.zeros(out, size, device=device, dtype=dtype)
    for i in range(out):
        start, end = (i * size) // out, -((-(i + 1) * size) // out)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


def pooled_by_matrices(images: torch.Tensor, out: int) -> torch.Tensor:
    """Adaptive average pooling of ``(N, C, H, W)`` to ``(N, C, out, out)`` as matrix products."""
    height, width = images.shape[-2:]
    rows = averaging_matrix(height, out, images.device, images.dtype)
    columns = averaging_matrix(width, out, images.device, images.dtype)
    return rows @ images @ columns.T


class AdaptiveAvgPool(nn.Module):
    """``nn.AdaptiveAvgPool2d(out)`` with a deterministic backward on CUDA (the module's docstring)."""

    def __init__(self, out: int) -> None:
        super().__init__()
        self.out = out

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """The average over each of the ``out x out`` adaptive windows."""
        if images.device.type == "cpu":
            return F.adaptive_avg_pool2d(images, self.out)
        return pooled_by_matrices(images, self.out)
