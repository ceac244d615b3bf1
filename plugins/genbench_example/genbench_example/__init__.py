"""genbench-example: a third-party genbench plugin, packaged on its own.

It registers ``hinge-gan`` (a DCGAN-like GAN trained with the hinge loss and a spectrally normalised
discriminator, Miyato et al. 2018) and ``shapes`` (seeded synthetic 16x16 images of four shapes). It
depends on genbench only through its public API: ``genbench`` (the plugin API), ``genbench.blocks``
(the resolution-adaptive conv ladder and :class:`~genbench.blocks.LatentModel`) and ``genbench.contract``
in its tests.
"""

from __future__ import annotations

from genbench import Dataset, Model, hookimpl
from genbench_example.hinge_gan import HingeGAN
from genbench_example.shapes import Shapes

__all__ = ["HingeGAN", "Shapes", "register_datasets", "register_models"]


@hookimpl
def register_models() -> list[type[Model]]:
    """The example model."""
    return [HingeGAN]


@hookimpl
def register_datasets() -> list[type[Dataset]]:
    """The example dataset."""
    return [Shapes]
