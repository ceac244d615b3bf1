"""``dcgan``: the deep convolutional GAN of Radford, Metz and Chintala (2015), trained with BCE.

Architecture as in the paper, with the depth adapted to the resolution by the conv ladder
(:mod:`genbench.blocks.conv_ladder`): a transposed-conv generator with batch norm and ReLU and a
tanh output; a strided-conv discriminator with LeakyReLU(0.2) and batch norm on every layer but the
first; weights drawn from N(0, 0.02). Training as in users' report "002": the standard GAN's binary
cross-entropy with the non-saturating generator loss, Adam with lr 2e-4 and betas (0.5, 0.999).

The discriminator outputs *logits*, not probabilities (the paper's last sigmoid is folded into the
loss): ``binary_cross_entropy_with_logits`` and ``logsigmoid`` compute ``log D`` and ``log(1 - D)`` as
``-softplus(-l)`` and ``-softplus(l)``, exact for every logit. From probabilities, ``log(1 - sigmoid(l))``
is ``log(0) = -inf`` once ``sigmoid(l)`` rounds to 1 (``l`` above about 17 in float32) and
``log(sigmoid(l))`` once it underflows to 0 (``l`` below about -88); ``nn.BCELoss`` clamps those at -100,
which also zeroes their gradient, precisely on the samples whose loss is largest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from genbench import DataShape, Hyperparameters
from genbench.blocks.conv_ladder import (
    DownLadder,
    FeatureHead,
    LadderPlan,
    LatentStem,
    UpLadder,
    dcgan_init,
    ladder_plan,
    leaky_relu,
    relu,
)
from genbench.blocks.latent import LatentModel
from genbench.blocks.modes import eval_mode
from genbench_builtin.models.hparam_rules import check_hparams

# ``estimate`` draws its fakes from a generator seeded with this, not from the global RNG: held-out
# estimates then never shift the training noise (turning them on or off leaves training unchanged),
# and every estimate point sees the same latents, so the test curve shows the model changing, not
# the noise. Each test batch of one call reuses the same latents (common random numbers).
ESTIMATE_SEED = 0


def jsd_from_logits(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """The discriminator's Jensen–Shannon estimate, in nats:
    ``log 2 + ½ (E log D(x) + E log(1 − D(G(z))))`` with ``D = sigmoid(logits)``.

    For the optimal discriminator this equals JSD(data ‖ model) (Goodfellow et al. 2014, theorem 1);
    any other discriminator gives a lower value, so it is a lower bound in (−∞, log 2]: log 2 when
    real and fake logits are separated completely, 0 when the discriminator cannot tell them apart.
    """
    log_d_real = F.logsigmoid(real_logits).mean()
    log_one_minus_d_fake = F.logsigmoid(-fake_logits).mean()  # log(1 - sigmoid(l)) = log sigmoid(-l).
    return math.log(2.0) + 0.5 * (log_d_real + log_one_minus_d_fake)


def discriminator_bce(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """The standard GAN discriminator loss: BCE of real images as 1 plus BCE of fakes as 0."""
    return F.binary_cross_entropy_with_logits(
        real_logits, torch.ones_like(real_logits)
    ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))


def bce_step_logs(
    loss_d: torch.Tensor, loss_g: torch.Tensor, real_logits: torch.Tensor, fake_logits: torch.Tensor
) -> dict[str, torch.Tensor]:
    """What every BCE GAN logs per step: both losses, mean D on real and fake, and the JSD estimate."""
    real_logits, fake_logits = real_logits.detach(), fake_logits.detach()
    return {
        "loss_d": loss_d.detach(),
        "loss_g": loss_g.detach(),
        "d_real": torch.sigmoid(real_logits).mean(),
        "d_fake": torch.sigmoid(fake_logits).mean(),
        "jsd": jsd_from_logits(real_logits, fake_logits),
    }


def build_generator(plan: LadderPlan, latent_dim: int, channels: int) -> nn.Sequential:
    """DCGAN's generator: latent ``(B, latent_dim)`` -> images ``(B, channels, R, R)`` in [-1, 1]."""
    return nn.Sequential(
        LatentStem(latent_dim, plan, nn.BatchNorm2d, relu),
        UpLadder(channels, plan, nn.BatchNorm2d, relu),
        nn.Tanh(),
    )


def build_discriminator(plan: LadderPlan, channels: int) -> nn.Sequential:
    """DCGAN's discriminator: images ``(B, channels, R, R)`` -> one logit per image ``(B,)``."""
    return nn.Sequential(
        DownLadder(channels, plan, nn.BatchNorm2d, leaky_relu, norm_first=False),
        FeatureHead(plan, 1),
        nn.Flatten(0),
    )


class DCGAN(LatentModel):
    """DCGAN (Radford et al. 2015): transposed-conv generator, strided-conv discriminator, BCE loss.

    Logs per step: ``loss_d`` (discriminator BCE, real + fake terms), ``loss_g`` (non-saturating
    generator BCE, ``-E log D(G(z))``), ``d_real`` / ``d_fake`` (mean D(x) and D(G(z)), as
    probabilities, before the discriminator's update) and ``jsd`` (:func:`jsd_from_logits` on the same
    logits, so ``jsd = log 2 − loss_d / 2``).
    """

    name = "dcgan"
    description = "DCGAN (Radford et al. 2015): transposed-conv generator, strided-conv discriminator, BCE"
    conditional = False
    # The runner's fast path (genbench.running.fast_path): bf16 autocast on CUDA and bf16-capable CPUs
    # (the BCE losses and their logits stay float32 under autocast), channels-last convolutions, the
    # step in a CUDA graph.
    bf16_safe = True
    channels_last = True
    capturable = True
    packable = True

    @dataclass
    class Hparams(Hyperparameters):
        """DCGAN's hyperparameters; the defaults are the paper's (and report "002"'s)."""

        batch_size: int = 64
        latent_dim: int = 100
        base_channels: int = 64  # Widths double per halving: 64, 128, 256 at 32x32 (PyTorch's example).
        lr: float = 2e-4
        beta1: float = 0.5  # The paper's: 0.9 made training oscillate.
        beta2: float = 0.999
        model_name: ClassVar[str] = "dcgan"  # Named in the messages of __post_init__.

        def __post_init__(self) -> None:
            check_hparams(self.model_name, self)

    hparams: Hparams

    def __init__(self, shape: DataShape, hparams: Hparams) -> None:
        super().__init__(shape, hparams)
        plan = ladder_plan(shape.resolution, hparams.base_channels)
        self.generator = build_generator(plan, hparams.latent_dim, shape.channels)
        self.discriminator = build_discriminator(plan, shape.channels)
        self.apply(dcgan_init)
        self.add_adam(generator=self.generator, discriminator=self.discriminator)

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """Images from latents z ~ N(0, I); the labels are ignored."""
        return self.generator(z)

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """One discriminator step, then one generator step on the same fakes (as in the paper)."""
        fake = self.generator(self.prior_latents(images.shape[0], images.device))

        # Discriminator: real and fake in separate batches, so each has its own batch statistics.
        real_logits = self.discriminator(images)
        fake_logits = self.discriminator(fake.detach())
        loss_d = discriminator_bce(real_logits, fake_logits)
        self.optimizers["discriminator"].zero_grad(set_to_none=True)
        loss_d.backward()
        self.optimizers["discriminator"].step()

        # Generator, non-saturating: maximise log D(G(z)) rather than minimise log(1 - D(G(z))),
        # whose gradient vanishes while the discriminator still rejects every fake.
        gen_logits = self.discriminator(fake)
        loss_g = F.binary_cross_entropy_with_logits(gen_logits, torch.ones_like(gen_logits))
        self.optimizers["generator"].zero_grad(set_to_none=True)
        loss_g.backward()  # Also fills the discriminator's grads; its zero_grad discards them.
        self.optimizers["generator"].step()

        return bce_step_logs(loss_d, loss_g, real_logits, fake_logits)

    def estimate(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """``jsd``, ``d_real`` and ``d_fake`` of the discriminator on test images and as many fresh
        fakes, drawn from latents seeded with :data:`ESTIMATE_SEED`.

        In eval mode the discriminator's batch norm uses running statistics, which mix real and fake
        batches; in training each batch is normalised alone. The held-out values therefore measure a
        slightly different function than the training ones and may differ from them systematically.
        """
        generator = torch.Generator(images.device).manual_seed(ESTIMATE_SEED)
        z = self.prior_latents(images.shape[0], images.device, generator)
        with torch.no_grad(), eval_mode(self):
            real_logits = self.discriminator(images)
            fake_logits = self.discriminator(self.generator(z))
        return {
            "jsd": jsd_from_logits(real_logits, fake_logits),
            "d_real": torch.sigmoid(real_logits).mean(),
            "d_fake": torch.sigmoid(fake_logits).mean(),
        }
