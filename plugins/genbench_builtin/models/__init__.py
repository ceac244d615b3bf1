"""genbench's built-in models: ``dcgan`` and ``vae``, on the shared conv ladder of :mod:`.conv_ladder`.

Registered through the ``genbench`` entry point group like any third-party plugin.
"""

from __future__ import annotations

from genbench import Model, hookimpl
from genbench_builtin.models.dcgan import DCGAN
from genbench_builtin.models.vae import VAE

__all__ = ["DCGAN", "VAE", "register_models"]


@hookimpl
def register_models() -> list[type[Model]]:
    """The built-in models."""
    return [DCGAN, VAE]
