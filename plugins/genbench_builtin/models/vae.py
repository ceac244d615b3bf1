"""``vae``: a convolutional variational autoencoder (Kingma & Welling 2014), as in users' report "000".

The encoder (a conv down-ladder, :mod:`genbench.blocks.conv_ladder`) gives a diagonal Gaussian
posterior ``q(z|x) = N(mu, exp(logvar))``; the decoder mirrors it and outputs one logit per pixel.
Training minimises the negative ELBO per image, ``recon + kl``, with the reparameterisation trick:

- ``recon="bce"`` (report "000"): binary cross-entropy of the decoder's logits against the targets
  ``(x + 1) / 2`` in [0, 1], summed over pixels: a Bernoulli likelihood, the paper's choice for MNIST.
  (Grey levels are not binary, so this "likelihood" is the usual relaxation, not a normalised one.)
- ``recon="mse"`` (report "004"): squared error of ``sigmoid(logits)`` against the same targets,
  summed over pixels: a Gaussian likelihood with variance ½, up to its constant.
- ``kl``: KL(q(z|x) ‖ N(0, I)) in closed form.

Both terms are summed over pixels / latent dimensions and averaged over the batch, so the logs are per
image and comparable across batch sizes. The reports sum over the batch as well; that only scales the
loss by the batch size, which Adam's update ignores (it divides the gradient by its own running RMS),
so the optimisation is the same at the same learning rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from genbench import DataShape, Hyperparameters
from genbench.blocks.conv_ladder import (
    DownLadder,
    FeatureHead,
    LatentStem,
    UpLadder,
    ladder_plan,
    relu,
)
from genbench.blocks.latent import LatentModel
from genbench.blocks.modes import eval_mode
from genbench.blocks.optimizers import adam
from genbench_builtin.models.hparam_rules import check_hparams

# ``estimate`` draws its posterior samples from a generator seeded with this rather than from the
# global RNG: held-out estimates then never shift the training noise, and each estimate point uses
# the same noise, so the test curve follows the model, not the draw.
ESTIMATE_SEED = 0


class VAE(LatentModel):
    """Convolutional VAE: Gaussian posterior, Bernoulli-logit decoder, loss = reconstruction + KL.

    Logs per step (and on test images, as ``test/…``), all per image in nats: ``loss`` (the negative
    ELBO, minimised), ``recon`` (the reconstruction term, ``-E_q log p(x|z)`` for ``bce``), ``kl``
    (KL(q(z|x) ‖ p(z))) and ``elbo`` (``-loss``; an ELBO proper only for ``recon="bce"``).
    """

    name = "vae"
    description = "Convolutional VAE (Kingma & Welling 2014): BCE (or MSE) reconstruction + KL, Adam"
    conditional = False
    # The runner's fast path (genbench.running.fast_path): channels-last convolutions and the step in a
    # CUDA graph on CUDA. Not bf16: its ELBO, a per-pixel sum reported to a few digits and compared
    # across runs, would come from logits with bf16's 8-bit mantissa.
    channels_last = True
    capturable = True
    packable = True

    @dataclass
    class Hparams(Hyperparameters):
        """The VAE's hyperparameters; report "000" used batch 256, here 128 keeps CPU steps short."""

        batch_size: int = 128
        latent_dim: int = 20
        base_channels: int = 32  # Widths double per halving: 32, 64, 128 at 32x32.
        lr: float = 1e-3
        recon: str = "bce"  # "bce" or "mse", see the module docstring.
        model_name: ClassVar[str] = "vae"  # Named in the messages of __post_init__.

        def __post_init__(self) -> None:
            check_hparams(self.model_name, self)

    hparams: Hparams

    def __init__(self, shape: DataShape, hparams: Hparams) -> None:
        super().__init__(shape, hparams)
        plan = ladder_plan(shape.resolution, hparams.base_channels)
        # No batch norm: the ELBO of an image then depends on that image alone, in training and in
        # evaluation alike, and the posterior is not coupled across the batch.
        self.encoder = nn.Sequential(
            DownLadder(shape.channels, plan, None, relu), FeatureHead(plan, 2 * hparams.latent_dim)
        )
        self.decoder = nn.Sequential(
            LatentStem(hparams.latent_dim, plan, None, relu), UpLadder(shape.channels, plan, None, relu)
        )
        self.optimizers["adam"] = adam(self.parameters(), hparams.lr)

    def posterior(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``mu`` and ``logvar`` ``(B, latent_dim)`` of q(z|x) for images in [-1, 1]."""
        mu, logvar = self.encoder(images).chunk(2, dim=1)
        return mu, logvar

    def encode(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The posterior means ``(B, latent_dim)`` of images in [-1, 1], for interpolations; labels
        are ignored."""
        with torch.no_grad(), eval_mode(self):
            return self.posterior(images)[0]

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """Images in [-1, 1] ``(B, C, R, R)``: the decoder's Bernoulli means for latents ``z``; ``sample``
        decodes prior draws z ~ N(0, I) with it."""
        return torch.sigmoid(self.decoder(z)) * 2 - 1

    def _terms(self, images: torch.Tensor, generator: torch.Generator | None) -> dict[str, torch.Tensor]:
        """Every logged term for one batch, with one posterior sample per image drawn by ``generator``
        (``None``: the global RNG). One sample gives an unbiased estimate of the ELBO; decoding the
        posterior mean instead would give a biased one.
        """
        mu, logvar = self.posterior(images)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        logits = self.decoder(mu + eps * torch.exp(0.5 * logvar))  # Reparameterised: z = mu + sigma * eps.
        targets = (images + 1) / 2
        if self.hparams.recon == "bce":
            per_pixel = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
        else:
            per_pixel = F.mse_loss(torch.sigmoid(logits), targets, reduction="none")
        recon = per_pixel.flatten(1).sum(1).mean()
        kl = (0.5 * (mu.square() + logvar.exp() - 1 - logvar)).sum(1).mean()
        loss = recon + kl
        return {"loss": loss, "recon": recon, "kl": kl, "elbo": -loss}

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """One Adam step on the negative ELBO of ``images``."""
        terms = self._terms(images, None)
        optimizer = self.optimizers["adam"]
        optimizer.zero_grad(set_to_none=True)
        terms["loss"].backward()
        optimizer.step()
        return {key: value.detach() for key, value in terms.items()}

    def estimate(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """``loss``, ``recon``, ``kl`` and ``elbo`` per image on test images, each with one posterior
        sample drawn from a generator seeded with :data:`ESTIMATE_SEED`.
        """
        generator = torch.Generator(images.device).manual_seed(ESTIMATE_SEED)
        with torch.no_grad(), eval_mode(self):
            return self._terms(images, generator)
