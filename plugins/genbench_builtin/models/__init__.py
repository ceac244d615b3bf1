"""genbench's built-in models, on the shared conv ladder of :mod:`.conv_ladder` (and MLPs of :mod:`.mlp`).

Registered through the ``genbench`` entry point group like any third-party plugin.
"""

from __future__ import annotations

from genbench import Model, hookimpl
from genbench_builtin.models.acgan import ACGAN
from genbench_builtin.models.dcgan import DCGAN
from genbench_builtin.models.vae import VAE
from genbench_builtin.models.wgan import WGAN
from genbench_builtin.models.wgan_gp import WGANGP

__all__ = ["ACGAN", "DCGAN", "VAE", "WGAN", "WGANGP", "register_models"]


@hookimpl
def register_models() -> list[type[Model]]:
    """The built-in models."""
    return [DCGAN, VAE, WGAN, WGANGP, ACGAN]
