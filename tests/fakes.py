"""Tiny fake plugins for tests: a 1x8x8 three-class dataset and a per-pixel Gaussian model.

Registered by module name (``GENBENCH_PLUGINS=fakes``) or directly (``Registry.discover([fakes])``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from genbench import Dataset, DataShape, Hyperparameters, Model, Split, hookimpl


def _patterns(n: int, seed: int) -> Split:
    """Class 0: a horizontal bar, 1: a vertical bar, 2: the diagonal; plus pixel noise."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 3
    images = torch.zeros(n, 1, 8, 8)
    rows = torch.randint(1, 7, (n,), generator=generator)
    for i in range(n):
        if labels[i] == 0:
            images[i, 0, rows[i], :] = 1
        elif labels[i] == 1:
            images[i, 0, :, rows[i]] = 1
        else:
            images[i, 0] = torch.eye(8)
    images = (images * 200 + torch.rand(n, 1, 8, 8, generator=generator) * 55).round()
    return Split(images.to(torch.uint8), labels.long())


class Bars(Dataset):
    """Bars and diagonals, 8x8: a dataset small enough for any test."""

    name = "bars"
    shape = DataShape(channels=1, resolution=8, num_classes=3)

    def load(self, split: str) -> Split:
        return _patterns(300, seed=1) if split == "train" else _patterns(90, seed=2)


class PixelGaussian(Model):
    """A per-pixel Gaussian fitted by gradient descent: learns, fast, deterministic."""

    name = "pixel-gaussian"
    packable = True  # All its state is in the instance.

    @dataclass
    class Hparams(Hyperparameters):
        batch_size: int = 32
        lr: float = 0.05

    def __init__(self, shape: DataShape, hparams: Hparams) -> None:
        super().__init__(shape, hparams)
        self.mean = torch.nn.Parameter(torch.full(shape.image_shape, -1.0))
        self.log_std = torch.nn.Parameter(torch.zeros(shape.image_shape))
        self.optimizers["adam"] = torch.optim.Adam(self.parameters(), lr=hparams.lr)

    def _nll(self, images: torch.Tensor) -> torch.Tensor:
        """Gaussian negative log-likelihood per image (without the constant)."""
        return (((images - self.mean) / self.log_std.exp()) ** 2 / 2 + self.log_std).sum((1, 2, 3)).mean()

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        nll = self._nll(images)
        self.optimizers["adam"].zero_grad()
        nll.backward()
        self.optimizers["adam"].step()
        return {"loss": nll.detach()}

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None) -> torch.Tensor:
        noise = torch.randn((n, *self.shape.image_shape), generator=generator, device=generator.device)
        return (self.mean + noise * self.log_std.exp()).clamp(-1, 1)

    def estimate(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"loss": self._nll(images)}


@hookimpl
def register_datasets() -> list[type[Dataset]]:
    return [Bars]


@hookimpl
def register_models() -> list[type[Model]]:
    return [PixelGaussian]
