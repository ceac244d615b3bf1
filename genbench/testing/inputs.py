"""What the checks feed a model: builds seeded from torch's global generator, and small seeded batches."""

from __future__ import annotations

import io
from typing import Any

import torch

from genbench.api import DataShape, Model

# The shapes of the built-in datasets: digits, MNIST / Fashion-MNIST, CIFAR-10.
SHAPES = (DataShape(1, 8, 10), DataShape(1, 28, 10), DataShape(3, 32, 10))
BATCH = 8


def build(model_cls: type[Model], shape: DataShape, seed: int = 0) -> Model:
    """The model with its default hyperparameters, initialised from the global generator seeded."""
    torch.manual_seed(seed)
    return model_cls.build(shape)


def batch_images(shape: DataShape, seed: int = 0) -> torch.Tensor:
    """A seeded batch of images in [-1, 1], as train_step gets them."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand((BATCH, *shape.image_shape), generator=generator) * 2 - 1


def batch_labels(shape: DataShape, seed: int = 0) -> torch.Tensor:
    """A seeded batch of int64 labels."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, shape.num_classes, (BATCH,), generator=generator)


def train_on_batch(model: Model, step: int) -> dict[str, torch.Tensor]:
    """One training step on the batch seeded with ``step``."""
    return model.train_step(batch_images(model.shape, step), batch_labels(model.shape, step))


def copy_buffers(model: Model) -> dict[str, torch.Tensor]:
    """A copy of every buffer, to compare after sampling."""
    return {name: b.clone() for name, b in model.named_buffers()}


def through_bytes(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` saved and loaded back with ``weights_only=True``, as the runner does."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    loaded: dict[str, Any] = torch.load(buffer, weights_only=True)
    return loaded


def differing_parameters(first: Model, second: Model) -> list[str]:
    """The names of the parameters whose values differ between two instances of one model class."""
    theirs = dict(second.named_parameters())
    return [name for name, p in first.named_parameters() if not torch.equal(p, theirs[name])]
