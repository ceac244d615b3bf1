"""``acgan``: the auxiliary classifier GAN of Odena, Olah and Shlens (2017).

A class-conditional GAN: the generator draws ``X_fake = G(c, z)`` for a class ``c`` and noise ``z``;
the discriminator sees only the image and has two heads on one shared trunk, a *source* logit (real
or fake) and *class* logits (an auxiliary classifier). With the source log-likelihood ``L_S`` and the
class log-likelihood ``L_C`` of the paper (equations 2 and 3), the discriminator maximises
``L_S + L_C`` and the generator ``L_C − L_S``. Here both are written as losses to minimise:

- discriminator: ``BCE(src(x), 1) + BCE(src(G(c, z)), 0) + CE(cls(x), y) + CE(cls(G(c, z)), c)``;
- generator: ``BCE(src(G(c, z)), 1) + CE(cls(G(c, z)), c)``, the non-saturating form of ``−L_S``
  (as in dcgan: ``log(1 − D)`` stops giving gradient while the discriminator rejects every fake).

Architecture on the conv ladder (:mod:`genbench.blocks.conv_ladder`), DCGAN-like as in the
paper's appendix: the generator's input is ``z`` concatenated with the one-hot class (the paper's
110 = 100 + 10 inputs on CIFAR-10), so its first dense layer adds a learned per-class embedding to
the projection of ``z``; the discriminator is DCGAN's with dropout 0.5 after each LeakyReLU and one
``1 + num_classes`` head. Training: Adam with lr 2e-4 and betas (0.5, 0.999), batch 100.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from genbench import DataShape, Hyperparameters, UserError
from genbench.blocks.conv_ladder import (
    DownLadder,
    FeatureHead,
    LadderPlan,
    LatentStem,
    UpLadder,
    dcgan_init,
    ladder_plan,
    relu,
)
from genbench.blocks.latent import LatentModel
from genbench.blocks.modes import eval_mode
from genbench_builtin.models.dcgan import ESTIMATE_SEED, jsd_from_logits
from genbench_builtin.models.hparam_rules import check_hparams


class ConditionalGenerator(nn.Module):
    """``(z, labels)`` -> images in [-1, 1]: DCGAN's generator on ``z`` concatenated with one-hot labels."""

    def __init__(self, plan: LadderPlan, latent_dim: int, num_classes: int, channels: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.net = nn.Sequential(
            LatentStem(latent_dim + num_classes, plan, nn.BatchNorm2d, relu),
            UpLadder(channels, plan, nn.BatchNorm2d, relu),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        one_hot = F.one_hot(labels, self.num_classes).to(z.dtype)
        return self.net(torch.cat([z, one_hot], dim=1))


class AuxiliaryDiscriminator(nn.Module):
    """Images -> ``(source logits (B,), class logits (B, num_classes))`` from one shared trunk."""

    def __init__(self, plan: LadderPlan, channels: int, num_classes: int, dropout: float) -> None:
        super().__init__()

        def activation() -> nn.Module:  # LeakyReLU(0.2) then dropout, as in the paper's discriminator.
            return nn.Sequential(nn.LeakyReLU(0.2, inplace=True), nn.Dropout(dropout))

        self.trunk = DownLadder(channels, plan, nn.BatchNorm2d, activation, norm_first=False)
        self.head = FeatureHead(plan, 1 + num_classes)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.head(self.trunk(images))
        return out[:, 0], out[:, 1:]


def accuracy(class_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The fraction of rows whose largest logit is at their label, as a float scalar tensor."""
    return (class_logits.argmax(dim=1) == labels).float().mean()


class ACGAN(LatentModel):
    """AC-GAN (Odena et al. 2017): class-conditional generator, discriminator with source and class heads.

    Defaults are the paper's (its appendix: Adam lr 0.0002, betas (0.5, 0.999), batch 100, dropout
    0.5 in the discriminator, N(0, 0.02) weights). Users' report "002" trained with lr 1.5e-4, batch
    64 and a learned 100-d label embedding; where it and the paper disagree the paper wins (the
    one-hot input amounts to a learned embedding added in the generator's first layer).

    Logs per step: ``loss_d`` and ``loss_g`` (the losses of the module docstring), ``jsd`` (the
    source head's Jensen–Shannon estimate, :func:`~genbench_builtin.models.dcgan.jsd_from_logits`),
    ``acc_real`` (the auxiliary classifier's accuracy on the real batch against its labels) and
    ``acc_fake`` (on the fakes against the classes they were drawn for), all from the
    discriminator's step, before its update. Held out: the same ``jsd``, ``acc_real`` and ``acc_fake``
    on test images and fakes drawn for the test labels.
    """

    name = "acgan"
    description = "AC-GAN (Odena et al. 2017): class-conditional DCGAN with an auxiliary classifier head"
    conditional = True
    # The runner's fast path (genbench.running.fast_path): bf16 autocast on CUDA and bf16-capable CPUs
    # (the BCE losses and their logits stay float32 under autocast), channels-last convolutions, the
    # step in a CUDA graph.
    bf16_safe = True
    channels_last = True
    capturable = True
    packable = True

    @dataclass
    class Hparams(Hyperparameters):
        """AC-GAN's hyperparameters; the defaults are the paper's (see the class docstring)."""

        batch_size: int = 100  # The paper's; report "002" used 64.
        latent_dim: int = 100  # The paper's z, joined by the one-hot class.
        base_channels: int = 64  # Widths double per halving: 64, 128, 256 at 32x32, as in dcgan.
        lr: float = 2e-4  # The paper's (and DCGAN's); report "002" used 1.5e-4.
        beta1: float = 0.5  # DCGAN's: 0.9 made GAN training oscillate.
        beta2: float = 0.999
        dropout: float = 0.5  # After every discriminator activation, as in the paper's appendix.
        model_name: ClassVar[str] = "acgan"  # Named in the messages of __post_init__.

        def __post_init__(self) -> None:
            check_hparams(self.model_name, self)

    hparams: Hparams

    def __init__(self, shape: DataShape, hparams: Hparams) -> None:
        if shape.num_classes < 1:
            raise UserError(f"acgan needs a labelled dataset; this one has {shape.num_classes} classes")
        super().__init__(shape, hparams)
        plan = ladder_plan(shape.resolution, hparams.base_channels)
        self.generator = ConditionalGenerator(plan, hparams.latent_dim, shape.num_classes, shape.channels)
        self.discriminator = AuxiliaryDiscriminator(plan, shape.channels, shape.num_classes, hparams.dropout)
        self.apply(dcgan_init)
        self.add_adam(generator=self.generator, discriminator=self.discriminator)

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """Images for latents z ~ N(0, I) and their classes ``labels``."""
        if labels is None:
            raise ValueError("acgan needs a label per latent")
        return self.generator(z, labels)

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """One discriminator step, then one generator step on the same fakes (as in dcgan); the fakes'
        classes are drawn uniformly, the paper's ``c ~ p_c``."""
        batch, device = images.shape[0], images.device
        fake_labels = torch.randint(self.shape.num_classes, (batch,), device=device)
        fake = self.generator(self.prior_latents(batch, device), fake_labels)

        # Discriminator: real and fake in separate batches, so each has its own batch statistics.
        real_src, real_cls = self.discriminator(images)
        fake_src, fake_cls = self.discriminator(fake.detach())
        loss_d = (
            F.binary_cross_entropy_with_logits(real_src, torch.ones_like(real_src))
            + F.binary_cross_entropy_with_logits(fake_src, torch.zeros_like(fake_src))
            + F.cross_entropy(real_cls, labels)
            + F.cross_entropy(fake_cls, fake_labels)
        )
        self.optimizers["discriminator"].zero_grad(set_to_none=True)
        loss_d.backward()
        self.optimizers["discriminator"].step()

        # Generator: look real (non-saturating) and look like the class it was asked for.
        gen_src, gen_cls = self.discriminator(fake)
        loss_g = F.binary_cross_entropy_with_logits(gen_src, torch.ones_like(gen_src)) + F.cross_entropy(
            gen_cls, fake_labels
        )
        self.optimizers["generator"].zero_grad(set_to_none=True)
        loss_g.backward()  # Also fills the discriminator's grads; its zero_grad discards them.
        self.optimizers["generator"].step()

        return {
            "loss_d": loss_d.detach(),
            "loss_g": loss_g.detach(),
            "jsd": jsd_from_logits(real_src.detach(), fake_src.detach()),
            "acc_real": accuracy(real_cls.detach(), labels),
            "acc_fake": accuracy(fake_cls.detach(), fake_labels),
        }

    def estimate(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """``jsd`` and ``acc_real`` on test images and labels, ``acc_fake`` on fakes drawn for the same
        labels from latents seeded with :data:`~genbench_builtin.models.dcgan.ESTIMATE_SEED`, in eval
        mode (no dropout; batch norm's running statistics, as in dcgan's estimates)."""
        generator = torch.Generator(images.device).manual_seed(ESTIMATE_SEED)
        z = self.prior_latents(images.shape[0], images.device, generator)
        with torch.no_grad(), eval_mode(self):
            real_src, real_cls = self.discriminator(images)
            fake_src, fake_cls = self.discriminator(self.generator(z, labels))
        return {
            "jsd": jsd_from_logits(real_src, fake_src),
            "acc_real": accuracy(real_cls, labels),
            "acc_fake": accuracy(fake_cls, labels),
        }
