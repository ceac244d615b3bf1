"""The files `genbench new-plugin NAME` writes (:mod:`genbench.scaffold`), as text with placeholders.

``__NAME__`` is the plugin's distribution, model and dataset name, ``__MODULE__`` its import name and
``__CLASS__`` the stem of its class names; ``__GENBENCH__`` is the oldest genbench with its plugin API.
The model and the dataset pass genbench's contract as written (tests/test_scaffold.py runs the
generated tests), so a new plugin starts from working code and changes one piece at a time.
"""

from __future__ import annotations

PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "__NAME__"
version = "0.1.0"
description = "A genbench plugin: the __NAME__ model and the __NAME__ dataset."
readme = "README.md"
requires-python = ">=3.11"
# Only genbench's public API is used; torch comes with it.
dependencies = ["genbench>=__GENBENCH__"]

[project.optional-dependencies]
test = ["pytest>=8"]

# How genbench finds the plugin: the module whose @hookimpl functions register its classes.
[project.entry-points.genbench]
__MODULE__ = "__MODULE__"

[tool.setuptools.packages.find]
include = ["__MODULE__", "__MODULE__.*"]
"""

README = """\
# __NAME__

A [genbench](https://pypi.org/project/genbench/) plugin, written by `genbench new-plugin __NAME__`:

- the model `__NAME__` (`__MODULE__/model.py`): a small DCGAN-like GAN built from genbench's public
  building blocks (`genbench.blocks`), which adapt its depth to the image resolution;
- the dataset `__NAME__` (`__MODULE__/dataset.py`): seeded synthetic 8x8 images of bars in four
  orientations, 400 train / 200 test. Replace it with your data; keep `shape`, the `(root, download)`
  constructor and `load(split) -> genbench.Split` (uint8 images `(N, C, H, W)`, int64 labels).

Both are registered in `__MODULE__/__init__.py` and found by genbench through the `genbench` entry
point group in `pyproject.toml`.

```
pip install -e .                              # in this folder
genbench plugins                              # lists __NAME__ (model and dataset)
genbench run --models __NAME__ --data __NAME__
genbench run --models __NAME__,dcgan --data digits
python -m pytest tests                        # genbench's contract for the model, and the dataset
```

Before packaging, `GENBENCH_PLUGINS=__MODULE__ genbench run ...` registers the module by name (with
this folder on `PYTHONPATH`).
"""

INIT = '''\
"""__NAME__: a genbench plugin (written by `genbench new-plugin __NAME__`)."""

from __future__ import annotations

from genbench import Dataset, Model, hookimpl

from __MODULE__.dataset import __CLASS__Dataset
from __MODULE__.model import __CLASS__Model

__all__ = ["__CLASS__Dataset", "__CLASS__Model", "register_datasets", "register_models"]


@hookimpl
def register_models() -> list[type[Model]]:
    """The plugin's models."""
    return [__CLASS__Model]


@hookimpl
def register_datasets() -> list[type[Dataset]]:
    """The plugin's datasets."""
    return [__CLASS__Dataset]
'''

MODEL = '''\
"""The ``__NAME__`` model: a small DCGAN-like GAN on genbench's public building blocks.

The conv ladder (``genbench.blocks``) picks the depth from the resolution, so one class serves 8x8,
28x28 and 32x32 images. ``LatentModel`` gives ``sample``, ``latents`` and ``decode`` from ``generate``.
Rules the runner relies on: ``train_step`` returns detached scalar *tensors*; training noise comes
from torch's global generator (the runner seeds it); tensors are created like the inputs (the runner
picks the device); samples lie in [-1, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from genbench import DataShape, Hyperparameters, UserError
from genbench.blocks import (
    DownLadder,
    FeatureHead,
    LatentModel,
    LatentStem,
    UpLadder,
    dcgan_init,
    ladder_plan,
    leaky_relu,
    relu,
)
from torch import nn


class __CLASS__Model(LatentModel):
    """A small DCGAN-like GAN trained with the non-saturating BCE loss."""

    name = "__NAME__"
    description = "A small DCGAN-like GAN (written by genbench new-plugin)"
    conditional = False

    @dataclass
    class Hparams(Hyperparameters):
        """Every field needs a JSON-serialisable default; ``--set __NAME__.lr=1e-4`` overrides one."""

        batch_size: int = 64
        latent_dim: int = 64
        base_channels: int = 32
        lr: float = 2e-4
        beta1: float = 0.5
        beta2: float = 0.999

        def __post_init__(self) -> None:
            # genbench.UserError: genbench shows it as one line and exits with code 2.
            for name in ("batch_size", "latent_dim", "base_channels"):
                if getattr(self, name) < 1:
                    raise UserError(f"__NAME__.{name} must be at least 1, got {getattr(self, name)}")
            if not self.lr > 0:
                raise UserError(f"__NAME__.lr must be positive, got {self.lr}")

    hparams: Hparams

    def __init__(self, shape: DataShape, hparams: Hparams) -> None:
        super().__init__(shape, hparams)
        plan = ladder_plan(shape.resolution, hparams.base_channels)
        self.generator = nn.Sequential(
            LatentStem(hparams.latent_dim, plan, nn.BatchNorm2d, relu),
            UpLadder(shape.channels, plan, nn.BatchNorm2d, relu),
            nn.Tanh(),  # Samples in [-1, 1].
        )
        self.discriminator = nn.Sequential(
            DownLadder(shape.channels, plan, nn.BatchNorm2d, leaky_relu),
            FeatureHead(plan, 1),
            nn.Flatten(0),
        )
        self.apply(dcgan_init)
        self.add_adam(generator=self.generator, discriminator=self.discriminator)

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """Images in [-1, 1] from latents ``z``; the labels are ignored."""
        return self.generator(z)

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """One discriminator step, then one generator step on the same fakes."""
        fake = self.generator(self._latents(images.shape[0], images.device, None))

        real_logits, fake_logits = self.discriminator(images), self.discriminator(fake.detach())
        loss_d = F.binary_cross_entropy_with_logits(
            real_logits, torch.ones_like(real_logits)
        ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        self.optimizers["discriminator"].zero_grad(set_to_none=True)
        loss_d.backward()
        self.optimizers["discriminator"].step()

        gen_logits = self.discriminator(fake)
        loss_g = F.binary_cross_entropy_with_logits(gen_logits, torch.ones_like(gen_logits))
        self.optimizers["generator"].zero_grad(set_to_none=True)
        loss_g.backward()
        self.optimizers["generator"].step()
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach()}
'''

DATASET = '''\
"""The ``__NAME__`` dataset: seeded synthetic 8x8 grey images of a bar in one of four orientations.

Replace the generation with your own data. What genbench needs: ``shape`` known before loading, the
``(root, download)`` constructor (``root`` is ``--data-root``; raise ``genbench.DataNotFoundError``
saying where you looked when files are missing) and ``load(split)`` returning a ``genbench.Split`` of
uint8 images ``(N, C, H, W)`` in [0, 255] and int64 labels in ``[0, num_classes)``. Keep the split
fixed (seeded): changing it changes every score.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import torch
from genbench import Dataset, DataShape, Split, UserError

CLASSES = ("horizontal", "vertical", "diagonal", "antidiagonal")
RESOLUTION = 8
SIZES = {"train": 400, "test": 200}
SEEDS = {"train": 0, "test": 1}


def generate(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images ``(n, 1, 8, 8)`` uint8 and labels int64 (``n / 4`` per class) from ``seed``."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(CLASSES))
    offsets = rng.integers(-2, 3, n)[:, None, None]
    y, x = np.mgrid[:RESOLUTION, :RESOLUTION]
    centre = RESOLUTION // 2
    masks = np.stack(
        [
            np.broadcast_to(y == centre + offsets, (n, RESOLUTION, RESOLUTION)),
            np.broadcast_to(x == centre + offsets, (n, RESOLUTION, RESOLUTION)),
            np.broadcast_to(x - y == offsets, (n, RESOLUTION, RESOLUTION)),
            np.broadcast_to(x + y == RESOLUTION - 1 + offsets, (n, RESOLUTION, RESOLUTION)),
        ]
    )[labels, np.arange(n)]
    brightness = rng.uniform(150, 255, n)[:, None, None]
    images = np.where(masks, brightness, 10.0) + rng.normal(0, 8, (n, RESOLUTION, RESOLUTION))
    return np.clip(np.rint(images), 0, 255).astype(np.uint8)[:, None], labels.astype(np.int64)


class __CLASS__Dataset(Dataset):
    """Seeded synthetic 8x8 bars in four orientations: 400 train / 200 test, no files."""

    name = "__NAME__"
    shape = DataShape(channels=1, resolution=RESOLUTION, num_classes=len(CLASSES))
    description = "Synthetic 8x8 bars in four orientations (written by genbench new-plugin)"

    @cached_property
    def _splits(self) -> dict[str, Split]:
        return {
            split: Split(*map(torch.from_numpy, generate(n, SEEDS[split]))) for split, n in SIZES.items()
        }

    def load(self, split: str) -> Split:
        """The whole split, generated once per instance."""
        if split not in SIZES:
            raise UserError(f"dataset '{self.name}' has no split '{split}'; it has: train, test")
        return self._splits[split]
'''

TESTS = '''\
"""The plugin's own tests: genbench's contract (genbench.testing) for the model at every built-in shape
and this dataset's, and for the dataset."""

from __future__ import annotations

from pathlib import Path

import torch
from genbench.testing import SHAPES, dataset_contract_tests, model_contract_tests

from __MODULE__ import __CLASS__Dataset, __CLASS__Model

test_model_contract = model_contract_tests(__CLASS__Model, shapes=(*SHAPES, __CLASS__Dataset.shape))
test_dataset_contract = dataset_contract_tests(__CLASS__Dataset)


def test_dataset_splits_are_fixed(tmp_path: Path) -> None:
    for split in ("train", "test"):
        loaded = __CLASS__Dataset(tmp_path, download=False).load(split)
        assert len(loaded.labels.unique()) == __CLASS__Dataset.shape.num_classes  # Every class is present.
        again = __CLASS__Dataset(tmp_path / "elsewhere", download=False).load(split)
        assert torch.equal(loaded.images, again.images) and torch.equal(loaded.labels, again.labels)
'''

# Paths relative to the new folder -> template; ``__MODULE__`` in a path is replaced too.
FILES = {
    "pyproject.toml": PYPROJECT,
    "README.md": README,
    "__MODULE__/__init__.py": INIT,
    "__MODULE__/model.py": MODEL,
    "__MODULE__/dataset.py": DATASET,
    "tests/test___MODULE__.py": TESTS,
}
