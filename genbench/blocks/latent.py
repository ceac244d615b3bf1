"""Sampling through a latent space, as every built-in model does: draw latents from the prior with the
caller's generator, then decode them (for conditional models, with one label per latent).

Public building block: a plugin's model subclasses :class:`LatentModel`, implements ``generate`` and
``train_step``, and gets ``sample``, ``latents`` and ``decode`` (and with them the report's
interpolation pictures) for free.

:class:`LatentModel` implements genbench's optional latent API (:meth:`~genbench.api.Model.latents`,
:meth:`~genbench.api.Model.decode`) and builds ``sample`` on it, so the two agree by construction:
``decode(latents(n, g), labels)`` *is* ``sample(n, g, labels)`` for a generator seeded alike.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import torch
from torch import nn

from genbench.api import Model
from genbench.blocks.modes import eval_mode
from genbench.blocks.optimizers import adam

# The latent priors a model may draw from: N(0, I) (Goodfellow et al.'s code, DCGAN) or U[0, 1)^d,
# "a uniform distribution within the unit hypercube" (Mirza & Osindero 2014, section 4.1). The same
# names :attr:`genbench.api.Model.latent_prior` documents.
PRIORS = ("normal", "uniform")


def draw_latents(
    n: int, dim: int, prior: str, device: torch.device, generator: torch.Generator | None
) -> torch.Tensor:
    """``n`` latents ``(n, dim)`` from ``prior`` (one of :data:`PRIORS`) on ``device``, drawn with
    ``generator`` (None: torch's global RNG, which the runner seeds: training steps must use it)."""
    if prior == "uniform":
        return torch.rand(n, dim, generator=generator, device=device)
    return torch.randn(n, dim, generator=generator, device=device)


class LatentModel(Model):
    """A model whose samples are decoded latents ``z ~ prior`` (``(n, latent_dim)``).

    Subclasses implement :meth:`generate` and ``train_step``, and may override :attr:`latent_prior`
    (default N(0, I)). Their hyperparameters need a ``latent_dim`` (and ``lr``, ``beta1``, ``beta2``
    for :meth:`add_adam`). Training steps draw latents with :meth:`prior_latents` and the global RNG
    (``generator=None``), so the runner's seed decides them.
    """

    hparams: Any  # The subclass's Hparams; they have a ``latent_dim``.

    def add_adam(self, **networks: nn.Module) -> None:
        """One Adam per network with the hyperparameters' ``lr`` and ``(beta1, beta2)``: the GAN family's
        optimiser, keyed by network name in ``self.optimizers`` (and so in checkpoints); fused on CUDA,
        foreach elsewhere (:mod:`~genbench.blocks.optimizers`)."""
        betas = (self.hparams.beta1, self.hparams.beta2)
        for name, network in networks.items():
            self.optimizers[name] = adam(network.parameters(), self.hparams.lr, betas)

    @property
    def latent_prior(self) -> str:
        """The prior of the latents, one of :data:`PRIORS` (the same
        names :attr:`genbench.api.Model.latent_prior` documents)."""
        return "normal"

    @abstractmethod
    def generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """Images ``(B, C, H, W)`` in [-1, 1] from latents ``z`` (and, if conditional, ``labels``), in
        whatever mode and grad mode the caller set: training steps call it directly."""

    def prior_latents(
        self, n: int, device: torch.device, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``n`` latents ``(n, latent_dim)`` on ``device`` from :attr:`latent_prior`: in training steps
        with ``generator=None`` (torch's global generator, which the runner seeds and checkpoints), in
        ``estimate`` with a seeded generator of the model's own."""
        return draw_latents(n, self.hparams.latent_dim, self.latent_prior, device, generator)

    def _latents(self, n: int, device: torch.device, generator: torch.Generator | None) -> torch.Tensor:
        """The name :meth:`prior_latents` had before it was public; kept because plugins written from
        older scaffolds call it."""
        return self.prior_latents(n, device, generator)

    def latents(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` latents ``(n, latent_dim)`` from the prior, drawn with ``generator`` on its device."""
        return self.prior_latents(n, generator.device, generator)

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
