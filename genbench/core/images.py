"""Image conventions shared by training, evaluation and pictures: uint8 [0, 255] on disk and in
metrics, float [-1, 1] in models; class labels for conditional sampling."""

from __future__ import annotations

import torch


def balanced_labels(n: int, num_classes: int, device: torch.device) -> torch.Tensor:
    """Labels ``0, 1, ..., K-1, 0, 1, ...``: every class equally often, for conditional models."""
    return torch.arange(n, device=device) % max(num_classes, 1)


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1]."""
    return images.float().div_(127.5).sub_(1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] -> uint8 [0, 255], the one quantisation used for generated and real images."""
    return images.add(1.0).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8)
