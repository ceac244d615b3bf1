"""Fake plugins that go wrong, for the failure-containment tests (``GENBENCH_PLUGINS=fakes,faulty``).

Each is the fake per-pixel Gaussian with one fault: an exception in a training step, a loss that turns
NaN, running out of GPU memory, or an exception while sampling.
"""

from __future__ import annotations

import torch
from fakes import PixelGaussian

from genbench import Model, hookimpl


class Raises(PixelGaussian):
    """Raises in its fifth training step, like a plugin with a bug."""

    name = "raises"

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        self.calls = getattr(self, "calls", 0) + 1
        if self.calls == 5:
            raise RuntimeError("shape mismatch in layer 3")
        return super().train_step(images, labels)


class GoesNaN(PixelGaussian):
    """Its loss becomes NaN after a few steps: a diverging model."""

    name = "goes-nan"

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        logs = super().train_step(images, labels)
        self.calls = getattr(self, "calls", 0) + 1
        return {"loss": logs["loss"] * (float("nan") if self.calls > 3 else 1.0)}


class OutOfMemory(PixelGaussian):
    """Runs out of (GPU) memory in its first step."""

    name = "out-of-memory"

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


class SamplingFails(PixelGaussian):
    """Trains, then raises when asked for samples."""

    name = "sampling-fails"

    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None) -> torch.Tensor:
        if n > 100:  # The progress strip's 16 samples work; the evaluation's do not.
            raise ValueError("sampler not implemented for large n")
        return super().sample(n, generator, labels)


@hookimpl
def register_models() -> list[type[Model]]:
    return [Raises, GoesNaN, OutOfMemory, SamplingFails]
