"""genbench's built-in models, on the public blocks (:mod:`genbench.blocks`: the conv ladder, the U-Net)
and the MLPs of :mod:`.mlp`.

Registered through the ``genbench`` entry point group like any third-party plugin.
"""

from __future__ import annotations

from genbench import Model, hookimpl
from genbench_builtin.models.acgan import ACGAN
from genbench_builtin.models.cgan import CGAN
from genbench_builtin.models.dcgan import DCGAN
from genbench_builtin.models.ddpm import DDPM, DDPMCond
from genbench_builtin.models.flow_matching import FlowMatching, FlowMatchingCond
from genbench_builtin.models.gan import GAN
from genbench_builtin.models.lsgan import LSGAN
from genbench_builtin.models.vae import VAE
from genbench_builtin.models.wgan import WGAN
from genbench_builtin.models.wgan_gp import WGANGP

__all__ = [
    "ACGAN",
    "CGAN",
    "DCGAN",
    "DDPM",
    "GAN",
    "LSGAN",
    "VAE",
    "WGAN",
    "WGANGP",
    "DDPMCond",
    "FlowMatching",
    "FlowMatchingCond",
    "register_models",
]


@hookimpl
def register_models() -> list[type[Model]]:
    """The built-in models."""
    return [VAE, GAN, DCGAN, WGAN, WGANGP, ACGAN, CGAN, LSGAN, DDPM, DDPMCond, FlowMatching, FlowMatchingCond]
