"""A dataset and a model small enough that a tracked run takes seconds, reference classifier included
(registered by module name: ``GENBENCH_PLUGINS=genbench_mlflow,tiny_plugin``)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from genbench import Dataset, DataShape, Hyperparameters, Model, Split, hookimpl


class Stripes(Dataset):
    """Horizontal (class 0) or vertical (class 1) stripes, 8x8, with noise."""

    name = "stripes"
    shape = DataShape(channels=1, resolution=8, num_classes=2)

    def load(self, split: str) -> Split:
        n, generator = (
            (256, torch.Generator().manual_seed(1))
            if split == "train"
            else (64, torch.Generator().manual_seed(2))
        )
        labels = torch.arange(n) % 2
        where = torch.randint(0, 8, (n,), generator=generator)
        images = torch.zeros(n, 1, 8, 8)
        for i in range(n):
            if labels[i] == 0:
                images[i, 0, where[i], :] = 1
            else:
                images[i, 0, :, where[i]] = 1
        noise = torch.rand(n, 1, 8, 8, generator=generator)
        return Split((images * 200 + noise * 55).round().to(torch.uint8), labels.long())


class PixelGaussian(Model):
    """A per-pixel Gaussian fitted by gradient descent."""

    name = "tiny-gaussian"

    @dataclass
    class Hparams(Hyperparameters):
        batch_size: int = 32
        lr: float = 0.05

    def __init__(self, shape: DataShape, hparams: Hparams) -> None:
        super().__init__(shape, hparams)
        self.mean = torch.nn.Parameter(torch.full(shape.image_shape, -1.0))
        self.log_std = torch.nn.Parameter(torch.zeros(shape.image_shape))
        self.optimizers["adam"] = torch.optim.Adam(self.parameters(), lr=hparams.lr)

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        nll = (((images - self.mean) / self.log_std.exp()) ** 2 / 2 + self.log_std).sum((1, 2, 3)).mean()
        self.optimizers["adam"].zero_grad()
        nll.backward()
        self.optimizers["adam"].step()
        return {"loss": nll.detach()}

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None) -> torch.Tensor:
        noise = torch.randn((n, *self.shape.image_shape), generator=generator, device=generator.device)
        return (self.mean + noise * self.log_std.exp()).clamp(-1, 1)


@hookimpl
def register_datasets() -> list[type[Dataset]]:
    return [Stripes]


@hookimpl
def register_models() -> list[type[Model]]:
    return [PixelGaussian]
