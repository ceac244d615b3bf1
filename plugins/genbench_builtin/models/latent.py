"""Sampling through a latent space, as every built-in model does: draw latents from the prior with the
caller's generator, then decode them (for conditional models, with one label per latent).

:class:`LatentModel` implements genbench's optional latent API (:meth:`~genbench.api.Model.latents`,
:meth:`~genbench.api.Model.decode`) and builds ``sample`` on it, so the two agree by construction:
``decode(latents(n, g), labels)`` *is* ``sample(n, g, labels)`` for a generator seeded alike.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import torch
from torch import nn

from genbench import Model
from genbench_builtin.models.mlp import draw_latents
from genbench_builtin.models.modes import eval_mode
from genbench_builtin.models.optimizers import adam


class LatentModel(Model):
    """A model whose samples are decoded latents ``z ~ prior`` (``(n, latent_dim)``).

    Subclasses implement :meth:`generate` and may override :attr:`latent_prior` (default N(0, I)).
    Their training steps draw latents with :meth:`_latents` and the global RNG (``generator=None``).
    """

    hparams: Any  # The subclass's Hparams; they have a ``latent_dim``.

    def add_adam(self, **networks: nn.Module) -> None:
        """One Adam per network with the hyperparameters' ``lr`` and ``(beta1, beta2)``: the GAN family's
        optimiser, keyed by network name in ``self.optimizers`` (and so in checkpoints); fused on CUDA,
        foreach elsewhere (:mod:`~genbench_builtin.models.optimizers`)."""
        betas = (self.hparams.beta1, self.hparams.beta2)
        for name, network in networks.items():
            self.optimizers[name] = adam(network.parameters(), self.hparams.lr, betas)

    @property
    def latent_prior(self) -> str:
        """The prior of the latents, one of :data:`~genbench_builtin.models.mlp.PRIORS` (the same
        names :attr:`genbench.api.Model.latent_prior` documents)."""
        return "normal"

    @abstractmethod
    def generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """Images ``(B, C, H, W)`` in [-1, 1] from latents ``z`` (and, if conditional, ``labels``), in
        whatever mode and grad mode the caller set: training steps call it directly."""

    def _latents(self, n: int, device: torch.device, generator: torch.Generator | None) -> torch.Tensor:
        return draw_latents(n, self.hparams.latent_dim, self.latent_prior, device, generator)

    def latents(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` latents ``(n, latent_dim)`` from the prior, drawn with ``generator`` on its device."""
        return self._latents(n, generator.device, generator)

    def decode(self, latents: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [-1, 1] for ``latents`` (conditional models: and ``labels``), without gradients
        and in eval mode (batch norm's running statistics, no dropout), the model's mode left as it was.
        """
        labels = self._checked_labels(latents.shape[0], labels)
        with torch.no_grad(), eval_mode(self):
            return self.generate(latents, labels)

    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None) -> torch.Tensor:
        """``n`` images in [-1, 1]: ``n`` latents drawn with ``generator``, decoded.

        Conditional models draw image ``i`` for class ``labels[i]``; without labels they draw uniform
        classes with ``generator`` *after* the latents, so latent ``i`` is the same whatever the labels.
        """
        z = self.latents(n, generator)
        if self.conditional and labels is None:
            labels = torch.randint(self.shape.num_classes, (n,), generator=generator, device=z.device)
        return self.decode(z, labels)

    def _checked_labels(self, n: int, labels: torch.Tensor | None) -> torch.Tensor | None:
        """``labels`` for a conditional model, refused unless there is one per latent; None otherwise."""
        if not self.conditional:
            return None
        if labels is None or labels.shape != (n,):
            got = "none" if labels is None else f"shape {tuple(labels.shape)}"
            raise ValueError(f"{self.name} needs {n} labels, one label per image; got {got}")
        return labels
