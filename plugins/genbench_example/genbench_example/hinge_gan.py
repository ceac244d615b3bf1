"""``hinge-gan``: a DCGAN-like GAN trained with the hinge loss, its discriminator spectrally normalised
(Miyato, Kataoka, Koyama and Yoshida 2018, "Spectral Normalization for Generative Adversarial Networks").

Architecture: the paper's "standard CNN" in spirit, with the depth adapted to the resolution by
genbench's public conv ladder (:mod:`genbench.blocks`): a generator with batch norm, ReLU and a tanh
output; a discriminator with LeakyReLU(0.1), no batch norm, and spectral normalisation
(``torch.nn.utils.parametrizations.spectral_norm``, one power iteration per training forward) on every
convolution. Losses, the paper's hinge version of the adversarial loss:

    L_D = E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]        L_G = -E[D(G(z))]

Optimiser: Adam with lr 2e-4 and betas (0.5, 0.999), one discriminator update per generator update
(``n_dis = 1``): the paper's setting "C" of its table 1, the DCGAN setting, which suits a DCGAN-like
network. (Its ResNet experiments use betas (0.0, 0.9) and ``n_dis = 5`` instead; set them with
``--set hinge-gan.beta1=0.0 --set hinge-gan.beta2=0.9 --set hinge-gan.n_dis=5``.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from genbench import DataShape, Hyperparameters, UserError
from genbench.blocks import (
    DownLadder,
    FeatureHead,
    LadderPlan,
    LatentModel,
    LatentStem,
    UpLadder,
    dcgan_init,
    eval_mode,
    ladder_plan,
    relu,
)

# Held-out estimates draw their fakes from a generator seeded with this, never from the global RNG, so
# turning estimates on or off leaves training unchanged.
ESTIMATE_SEED = 0
LEAKY_SLOPE = 0.1  # The paper's discriminator: LeakyReLU with slope 0.1.


def leaky_relu_01() -> nn.Module:
    """LeakyReLU(0.1), the activation of the paper's discriminator."""
    return nn.LeakyReLU(LEAKY_SLOPE, inplace=True)


def build_generator(plan: LadderPlan, latent_dim: int, channels: int) -> nn.Sequential:
    """Latent ``(B, latent_dim)`` -> images ``(B, channels, R, R)`` in [-1, 1] (batch norm, ReLU, tanh)."""
    return nn.Sequential(
        LatentStem(latent_dim, plan, nn.BatchNorm2d, relu),
        UpLadder(channels, plan, nn.BatchNorm2d, relu),
        nn.Tanh(),
    )


def build_discriminator(plan: LadderPlan, channels: int) -> nn.Sequential:
    """Images ``(B, channels, R, R)`` -> one unbounded score per image ``(B,)``; every convolution
    spectrally normalised, no batch norm (spectral normalisation replaces it)."""
    network = nn.Sequential(
        DownLadder(channels, plan, None, leaky_relu_01), FeatureHead(plan, 1), nn.Flatten(0)
    )
    network.apply(dcgan_init)  # Before the parametrisation, which then wraps the initialised weights.
    for module in list(network.modules()):
        if isinstance(module, nn.Conv2d):
            spectral_norm(module)
    return network


def hinge_discriminator_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """``E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]``: zero once real scores exceed 1 and fake ones
    fall below -1, so the discriminator stops pushing samples it already separates with a margin."""
    return F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean()


class HingeGAN(LatentModel):
    """Hinge-loss GAN with a spectrally normalised discriminator (SN-GAN, Miyato et al. 2018).

    Logs per step: ``loss_d`` (the hinge loss above, before the update), ``d_real`` / ``d_fake`` (mean
    discriminator scores on real images and fakes) and, on generator steps (every ``n_dis``-th),
    ``loss_g`` (``-E D(G(z))``).
    """

    name = "hinge-gan"
    description = "Hinge-loss GAN with a spectrally normalised discriminator (Miyato et al. 2018)"
    conditional = False
    # The hinge loss gives the discriminator's output bias exactly zero gradient while every score lies
    # inside the margins (-1, 1), as at the start of training: the contract's per-parameter check skips it.
    untrained_parameters = ("discriminator.1.0.bias",)

    @dataclass
    class Hparams(Hyperparameters):
        """The paper's setting C (its table 1), the DCGAN setting; checked when built."""

        batch_size: int = 64
        latent_dim: int = 128  # The paper's z in R^128.
        base_channels: int = 64  # Widths double per halving: 64, 128, 256 at 32x32.
        lr: float = 2e-4
        beta1: float = 0.5
        beta2: float = 0.999
        n_dis: int = 1  # Discriminator updates per generator update.

        def __post_init__(self) -> None:
            # genbench.UserError, not ValueError: genbench shows it as one line and exits with code 2.
            for name in ("batch_size", "latent_dim", "base_channels", "n_dis"):
                if getattr(self, name) < 1:
                    raise UserError(f"hinge-gan.{name} must be at least 1, got {getattr(self, name)}")
            if not self.lr > 0:
                raise UserError(f"hinge-gan.lr must be positive, got {self.lr}")
            for name in ("beta1", "beta2"):
                if not 0 <= getattr(self, name) < 1:
                    raise UserError(f"hinge-gan.{name} must lie in [0, 1), got {getattr(self, name)}")

    hparams: Hparams

    def __init__(self, shape: DataShape, hparams: Hparams) -> None:
        super().__init__(shape, hparams)
        plan = ladder_plan(shape.resolution, hparams.base_channels)
        self.generator = build_generator(plan, hparams.latent_dim, shape.channels)
        self.generator.apply(dcgan_init)
        self.discriminator = build_discriminator(plan, shape.channels)
        self.add_adam(generator=self.generator, discriminator=self.discriminator)
        # A Python int: choosing the generator's steps never waits for the device.
        self.discriminator_steps = 0

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """Images from latents z ~ N(0, I); the labels are ignored."""
        return self.generator(z)

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """One discriminator update on ``images`` and as many fresh fakes; every ``n_dis``-th call, then
        one generator update on fresh latents (the paper's alternating updates, unrolled over calls)."""
        batch = images.shape[0]
        with torch.no_grad():  # The discriminator's update needs no gradient through the generator.
            fake = self.generator(self.prior_latents(batch, images.device))
        real_scores = self.discriminator(images)
        fake_scores = self.discriminator(fake)
        loss_d = hinge_discriminator_loss(real_scores, fake_scores)
        self.optimizers["discriminator"].zero_grad(set_to_none=True)
        loss_d.backward()
        self.optimizers["discriminator"].step()
        self.discriminator_steps += 1

        logs = {
            "loss_d": loss_d.detach(),
            "d_real": real_scores.detach().mean(),
            "d_fake": fake_scores.detach().mean(),
        }
        if self.discriminator_steps % self.hparams.n_dis == 0:
            loss_g = -self.discriminator(self.generator(self.prior_latents(batch, images.device))).mean()
            self.optimizers["generator"].zero_grad(set_to_none=True)
            loss_g.backward()  # Also fills the discriminator's grads; its zero_grad discards them.
            self.optimizers["generator"].step()
            logs["loss_g"] = loss_g.detach()
        return logs

    def estimate(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """``loss_d``, the hinge loss on test images and as many fakes from latents seeded with
        :data:`ESTIMATE_SEED`, in eval mode (no power iteration: the model is left unchanged)."""
        generator = torch.Generator(images.device).manual_seed(ESTIMATE_SEED)
        z = self.prior_latents(images.shape[0], images.device, generator)
        with torch.no_grad(), eval_mode(self):
            loss = hinge_discriminator_loss(self.discriminator(images), self.discriminator(self.generator(z)))
        return {"loss_d": loss}

    def checkpoint_state(self) -> dict[str, Any]:
        """Weights, optimizer states and the discriminator-step count (a resumed run keeps its schedule)."""
        return {**super().checkpoint_state(), "discriminator_steps": self.discriminator_steps}

    def load_checkpoint_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`checkpoint_state` returned."""
        super().load_checkpoint_state(state)
        self.discriminator_steps = int(state.get("discriminator_steps", 0))
