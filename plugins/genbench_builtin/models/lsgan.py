"""``lsgan``: the least-squares GAN of Mao et al. (2017) on DCGAN's networks.

The discriminator outputs a raw score, not a probability, and is fitted by least squares to the
value ``b`` on real images and ``a`` on fakes; the generator pulls the score of its fakes to ``c``
(the paper's objective)::

    min_D  ½ E_x (D(x) − b)²  +  ½ E_z (D(G(z)) − a)²
    min_G  ½ E_z (D(G(z)) − c)²

Unlike the sigmoid cross-entropy, the squared error keeps a gradient for fakes that sit far on the
"real" side of the decision boundary, which is the paper's case for it.

Which divergence, and how it is logged: for any discriminator ``D`` and any coding with ``a ≠ b``,
the pointwise minimiser ``D* = (b p_data + a p_g) / (p_data + p_g)`` gives

    L_D(D)  ≥  L_D(D*)  =  (b − a)² / 8 · (2 − Δ),     Δ = ∫ (p_data − p_g)² / (p_data + p_g) dx,

and ``Δ`` is exactly the paper's ``χ²_Pearson(p_data + p_g ‖ 2 p_g)`` (its relation to f-divergences).
Hence ``chi2 = 2 − 8 L_D / (b − a)²`` is a lower bound on that Pearson χ², tight at the optimal
discriminator, just as DCGAN's ``jsd = log 2 − loss_d / 2`` bounds the Jensen–Shannon divergence:
2 when the scores separate real and fake completely, 0 for a discriminator that outputs one constant
``(a + b) / 2``, negative for a worse one (about −2 at initialisation with the 0-1 coding, whose
scores start near 0 = a). It holds for every coding, the default 0-1 coding included; only with
``b − c = 1`` and ``b − a = 2`` (e.g. ``a = −1, b = 1, c = 0``) is it also the divergence the generator
minimises (the paper's theorem). With the 0-1 coding the generator instead pulls its fakes' scores to
the real label, which the paper found to perform similarly and uses in its experiments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from genbench import DataShape, UserError
from genbench.blocks.modes import eval_mode
from genbench_builtin.models.dcgan import DCGAN, ESTIMATE_SEED


def least_squares_loss(scores: torch.Tensor, target: float) -> torch.Tensor:
    """``½ E (scores − target)²``: one term of the paper's objectives."""
    return 0.5 * (scores - target).square().mean()


def chi2_from_scores(
    real_scores: torch.Tensor, fake_scores: torch.Tensor, a: float, b: float
) -> torch.Tensor:
    """The discriminator's lower bound on ``χ²_Pearson(p_data + p_g ‖ 2 p_g)``, in [−∞, 2]:
    ``2 − 8 L_D / (b − a)²`` with ``L_D`` the least-squares discriminator loss on these scores (see
    the module docstring). 2 for a perfect discriminator, 0 for the best constant one."""
    loss_d = least_squares_loss(real_scores, b) + least_squares_loss(fake_scores, a)
    return 2.0 - 8.0 * loss_d / (b - a) ** 2


class LSGAN(DCGAN):
    """LSGAN (Mao et al. 2017): DCGAN's networks with least-squares losses and the 0-1 coding.

    Networks as in the paper, which builds on DCGAN: the conv ladder's transposed-conv generator with
    batch norm, ReLU and tanh, and strided-conv discriminator with LeakyReLU(0.2) and batch norm on all
    layers but the first, weights ~ N(0, 0.02) (:mod:`genbench_builtin.models.dcgan`), except that the
    discriminator's last layer is linear: its score is regressed, not squashed. Coding ``a = 0, b = 1,
    c = 1``, used in the paper's experiments; ``a = −1, b = 1, c = 0`` is the coding under which the
    objective minimises the Pearson χ² divergence. Adam with learning rate 2e-4 and β1 = 0.5.

    Logs per step: ``loss_d`` (``½ E (D(x) − b)² + ½ E (D(G(z)) − a)²``), ``loss_g``
    (``½ E (D(G(z)) − c)²``), ``d_real`` / ``d_fake`` (mean raw scores D(x) and D(G(z)) before the
    discriminator's update: near ``b`` and ``a`` when it separates them, not probabilities) and
    ``chi2`` (:func:`chi2_from_scores` on the same scores, ``2 − 8 loss_d / (b − a)²``). No JSD: the
    scores are not probabilities, so the cross-entropy bound does not apply. Held out: ``chi2``,
    ``d_real``, ``d_fake``.
    """

    name = "lsgan"
    description = "LSGAN (Mao et al. 2017): DCGAN networks, least-squares losses, 0-1 coding"
    conditional = False
    # Not bf16 (unlike dcgan): its least-squares losses are plain arithmetic on the scores, which autocast
    # leaves in bf16, so the losses and their gradients would carry bf16's 8-bit mantissa.
    bf16_safe = False

    @dataclass
    class Hparams(DCGAN.Hparams):
        """LSGAN's hyperparameters: DCGAN's networks and optimiser (as the paper), plus the coding."""

        a: float = 0.0  # Target score of fakes for the discriminator.
        b: float = 1.0  # Target score of real images for the discriminator.
        c: float = 1.0  # Target score of fakes for the generator (c = b: "as real as possible").
        model_name: ClassVar[str] = "lsgan"  # Named in the messages of __post_init__.

        def __post_init__(self) -> None:
            super().__post_init__()
            if self.a == self.b:  # Checked with the other values, before anything runs.
                raise UserError(f"lsgan needs a != b (the fake and real targets), got a = b = {self.a}")

    hparams: Hparams

    def __init__(self, shape: DataShape, hparams: Hparams) -> None:
        # DCGAN's networks, initialisation and Adam; its discriminator ends in a linear layer: scores.
        super().__init__(shape, hparams)

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """One discriminator step, then one generator step on the same fakes."""
        hp = self.hparams
        fake = self.generator(self.prior_latents(images.shape[0], images.device))

        # Discriminator: real and fake in separate batches, so each has its own batch statistics.
        real_scores = self.discriminator(images)
        fake_scores = self.discriminator(fake.detach())
        loss_d = least_squares_loss(real_scores, hp.b) + least_squares_loss(fake_scores, hp.a)
        self.optimizers["discriminator"].zero_grad(set_to_none=True)
        loss_d.backward()
        self.optimizers["discriminator"].step()

        loss_g = least_squares_loss(self.discriminator(fake), hp.c)
        self.optimizers["generator"].zero_grad(set_to_none=True)
        loss_g.backward()  # Also fills the discriminator's grads; its zero_grad discards them.
        self.optimizers["generator"].step()

        real_scores, fake_scores = real_scores.detach(), fake_scores.detach()
        return {
            "loss_d": loss_d.detach(),
            "loss_g": loss_g.detach(),
            "d_real": real_scores.mean(),
            "d_fake": fake_scores.mean(),
            "chi2": chi2_from_scores(real_scores, fake_scores, hp.a, hp.b),
        }

    def estimate(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """``chi2``, ``d_real`` and ``d_fake`` on test images and as many fakes from latents seeded with
        :data:`~genbench_builtin.models.dcgan.ESTIMATE_SEED`, batch norm in eval mode (running
        statistics, which mix real and fake batches: see ``dcgan``'s ``estimate``)."""
        generator = torch.Generator(images.device).manual_seed(ESTIMATE_SEED)
        z = self.prior_latents(images.shape[0], images.device, generator)
        with torch.no_grad(), eval_mode(self):
            real_scores = self.discriminator(images)
            fake_scores = self.discriminator(self.generator(z))
        return {
            "chi2": chi2_from_scores(real_scores, fake_scores, self.hparams.a, self.hparams.b),
            "d_real": real_scores.mean(),
            "d_fake": fake_scores.mean(),
        }
