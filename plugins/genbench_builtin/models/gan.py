"""``gan``: the generative adversarial network of Goodfellow et al. (2014) with MLP generator and
discriminator, trained with binary cross-entropy as in users' reports "000", "003" and "004".

:class:`BCEGAN` holds what the zoo's two MLP GANs share (``gan`` here, ``cgan`` in
:mod:`genbench_builtin.models.cgan`): the networks' sizes, the alternating updates of the paper's
algorithm 1 with ``k`` discriminator steps per generator step, the non-saturating generator loss,
the latent prior and the held-out Jensen–Shannon estimate (seeded sampling comes from
:class:`~genbench.blocks.latent.LatentModel`). Subclasses build the two networks and say how
they see the labels.

As in :mod:`genbench_builtin.models.dcgan`, the discriminator outputs logits and the losses use
``binary_cross_entropy_with_logits``, exact where ``log(sigmoid(l))`` would round to ``log 0``.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from genbench import DataShape, Hyperparameters
from genbench.blocks.latent import LatentModel
from genbench.blocks.modes import eval_mode
from genbench_builtin.models.dcgan import ESTIMATE_SEED, bce_step_logs, discriminator_bce, jsd_from_logits
from genbench_builtin.models.hparam_rules import check_hparams
from genbench_builtin.models.mlp import (
    LEAKY_SLOPE,
    check_prior,
    he_init,
    mlp_discriminator,
    mlp_generator,
    pixel_count,
)


@dataclass
class BCEGANHparams(Hyperparameters):
    """What both MLP GANs have, with the defaults of ``gan``; ``cgan`` restates what it sources."""

    batch_size: int = 100  # Report "000", and both papers' minibatches.
    latent_dim: int = 100  # Both papers and the reports (report "004"'s GAN used 200).
    prior: str = "normal"  # "normal", N(0, I) as the GAN paper's code draws, or "uniform", U[0, 1)^d.
    width: int = 256  # Generator widths 256, 512, 1024 (the ports'); the discriminator's mirror them.
    d_dropout: float = 0.0  # After each discriminator hidden layer; see GAN's docstring for why 0.
    lr: float = 2e-4  # The reports' Adam rate; the papers (before Adam) used SGD with momentum.
    beta1: float = 0.5  # DCGAN's (Radford et al.): Adam's default 0.9 made GAN training oscillate.
    beta2: float = 0.999
    d_steps: int = 1  # k, discriminator steps per generator step: the paper's 1, "the least expensive".
    model_name: ClassVar[str] = "gan"  # Named in the messages of __post_init__.

    def __post_init__(self) -> None:
        check_hparams(self.model_name, self)


class BCEGAN(LatentModel):
    """A GAN trained with binary cross-entropy: ``d_steps`` discriminator updates, then one
    non-saturating generator update (Goodfellow et al. 2014, algorithm 1 and section 3).

    Logs per step: ``loss_d`` (discriminator BCE, real + fake terms), ``loss_g`` (non-saturating
    generator BCE, ``-E log D(G(z))``), ``d_real`` / ``d_fake`` (mean D(x) and D(G(z)) as probabilities,
    before the last discriminator update) and ``jsd`` (:func:`~genbench_builtin.models.dcgan.jsd_from_logits`
    on the same logits, so ``jsd = log 2 − loss_d / 2``). Held out: ``jsd``, ``d_real``, ``d_fake``.
    """

    Hparams = BCEGANHparams
    # The runner's fast path (genbench.running.fast_path): bf16 autocast on CUDA and bf16-capable CPUs
    # (the BCE losses and their logits stay float32 under autocast) and the step, ``d_steps`` updates
    # included, in a CUDA graph.
    bf16_safe = True
    capturable = True
    packable = True
    hparams: BCEGANHparams
    generator: nn.Module
    discriminator: nn.Module

    def __init__(self, shape: DataShape, hparams: BCEGANHparams) -> None:
        check_prior(self.name, hparams.prior)  # Its numbers' bounds: BCEGANHparams.__post_init__.
        super().__init__(shape, hparams)

    def _make_optimizers(self) -> None:
        """One Adam per network; called by subclasses once both networks exist."""
        self.add_adam(generator=self.generator, discriminator=self.discriminator)

    @abstractmethod
    def discriminate(self, images: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """One logit per image ``(B,)``: the discriminator's log-odds that the image is real."""

    @property
    def latent_prior(self) -> str:
        """The ``prior`` hyperparameter: N(0, I) or the unit hypercube."""
        return self.hparams.prior

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """``d_steps`` discriminator steps on ``images`` (fresh fakes each), then one generator step on
        the last fakes. Conditional models condition the fakes on the batch's own labels: a draw from
        the data's class frequencies, as the conditional objective's expectation over y asks."""
        cond = labels if self.conditional else None
        discriminator_opt, generator_opt = self.optimizers["discriminator"], self.optimizers["generator"]
        for _ in range(self.hparams.d_steps):
            fake = self.generate(self.prior_latents(images.shape[0], images.device), cond)
            real_logits = self.discriminate(images, cond)
            fake_logits = self.discriminate(fake.detach(), cond)
            loss_d = discriminator_bce(real_logits, fake_logits)
            discriminator_opt.zero_grad(set_to_none=True)
            loss_d.backward()
            discriminator_opt.step()

        # Non-saturating: maximise log D(G(z)) rather than minimise log(1 - D(G(z))), whose gradient
        # vanishes early on, while the discriminator rejects every fake (the paper, section 3).
        gen_logits = self.discriminate(fake, cond)
        loss_g = F.binary_cross_entropy_with_logits(gen_logits, torch.ones_like(gen_logits))
        generator_opt.zero_grad(set_to_none=True)
        loss_g.backward()  # Also fills the discriminator's grads; its zero_grad discards them.
        generator_opt.step()

        return bce_step_logs(loss_d, loss_g, real_logits, fake_logits)

    def estimate(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """``jsd``, ``d_real`` and ``d_fake`` of the discriminator (dropout off) on test images and as
        many fakes from latents seeded with :data:`~genbench_builtin.models.dcgan.ESTIMATE_SEED`;
        conditional models condition the fakes on the test labels and judge each image with its label.
        """
        generator = torch.Generator(images.device).manual_seed(ESTIMATE_SEED)
        z = self.prior_latents(images.shape[0], images.device, generator)
        cond = labels if self.conditional else None
        with torch.no_grad(), eval_mode(self):
            real_logits = self.discriminate(images, cond)
            fake_logits = self.discriminate(self.generate(z, cond), cond)
        return {
            "jsd": jsd_from_logits(real_logits, fake_logits),
            "d_real": torch.sigmoid(real_logits).mean(),
            "d_fake": torch.sigmoid(fake_logits).mean(),
        }


class GAN(BCEGAN):
    """The original GAN (Goodfellow et al. 2014) with LeakyReLU MLPs, trained as the users' reports do.

    Generator: latent -> ``width·(1, 2, 4)`` (256, 512, 1024) LeakyReLU(0.2) units -> ``C·H·W`` tanh.
    Discriminator: image -> ``width·(4, 2, 1)`` (1024, 512, 256) LeakyReLU(0.2) units -> 1 logit.
    These are the sizes of the common PyTorch ports of the paper (e.g. znxlwm's
    ``pytorch_MNIST_GAN.py``) that go with the reports' recipe (BCE, Adam 2e-4, latent 100). The
    paper's own MNIST nets (``mnist.yaml`` in its code) were a 2x1200 ReLU generator with a sigmoid
    output and a maxout discriminator trained with dropout, by SGD with momentum; its Gaussian latent
    and its batch of 100 are kept. Weights: He initialisation (:func:`~genbench_builtin.models.mlp.he_init`),
    without which the generator starts, and on digits stays, collapsed to one image.

    Dropout in the discriminator (the paper's, with maxout units) is off by default: with Adam and
    LeakyReLU units it only slowed learning in our digits runs (dropout 0.3, the ports' rate: FD at
    20 kimg 734 and 914 for seeds 0 and 1, against 245 and 349 without; about even by 40 kimg).
    ``d_dropout`` turns it back on. Logged keys: see :class:`BCEGAN`.
    """

    name = "gan"
    description = "GAN (Goodfellow et al. 2014): MLP generator and discriminator, BCE, non-saturating G loss"
    conditional = False
    # Not bf16 (unlike the convolutional BCE GANs; cgan neither): on digits at 50 kimg bf16 changed its
    # results beyond the float32 seed spread (benchmarks/results/bf16-quality.md: FD in the classifier's
    # features 741 ± 190 in float32, 320 ± 75 in bf16 over seeds 0-2; 595 ± 15 and 376 ± 110 over seeds
    # 3-5; precision and KID moved too), which would change how it ranks against the other models.
    bf16_safe = False

    @dataclass
    class Hparams(BCEGANHparams):
        """The GAN's hyperparameters: the reports' training recipe, the ports' MLP sizes (see
        :class:`BCEGANHparams` for each default's source)."""

    hparams: Hparams

    def __init__(self, shape: DataShape, hparams: Hparams) -> None:
        super().__init__(shape, hparams)
        self.generator = mlp_generator(hparams.latent_dim, hparams.width, shape)
        self.discriminator = nn.Sequential(
            nn.Flatten(1), mlp_discriminator(pixel_count(shape), hparams.width, hparams.d_dropout)
        )
        he_init(self, LEAKY_SLOPE)
        self._make_optimizers()

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """Images from latents; the labels are ignored."""
        return self.generator(z)

    def discriminate(self, images: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """Logits ``(B,)``; the labels are ignored."""
        return self.discriminator(images)
