"""Fake models for the Ray executor tests (``GENBENCH_PLUGINS=fakes,ray_models``), which say where
they ran: each construction (but the sweep's preflight, on the meta device) appends its process id to
``$GENBENCH_TEST_PIDS/<model name>``.

``slow-gaussian`` is the fake per-pixel Gaussian with a pause in each step (the same numbers, slow
enough to kill its worker mid-training); ``raises-once`` raises in its third step, like a plugin bug.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import torch
from fakes import PixelGaussian

from genbench import DataShape, Model, hookimpl

PIDS_ENV = "GENBENCH_TEST_PIDS"


def _note_pid(name: str) -> None:
    folder = os.environ.get(PIDS_ENV)
    if folder:
        with (Path(folder) / name).open("a") as file:
            file.write(f"{os.getpid()}\n")


class SlowGaussian(PixelGaussian):
    """Sleeps 0.1 s per step; trains exactly like pixel-gaussian."""

    name = "slow-gaussian"

    def __init__(self, shape: DataShape, hparams: PixelGaussian.Hparams) -> None:
        super().__init__(shape, hparams)
        if not self.mean.is_meta:  # Built on the meta device: the sweep's preflight, in the driver.
            _note_pid(self.name)

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        time.sleep(0.1)
        return super().train_step(images, labels)


class RaisesOnce(PixelGaussian):
    """Raises in its third step; every construction is noted, so a retry would show."""

    name = "raises-once"

    def __init__(self, shape: DataShape, hparams: PixelGaussian.Hparams) -> None:
        super().__init__(shape, hparams)
        if not self.mean.is_meta:  # Built on the meta device: the sweep's preflight, in the driver.
            _note_pid(self.name)
        self.calls = 0

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        self.calls += 1
        if self.calls == 3:
            raise RuntimeError("index out of range in the decoder")
        return super().train_step(images, labels)


@hookimpl
def register_models() -> list[type[Model]]:
    return [SlowGaussian, RaisesOnce]
