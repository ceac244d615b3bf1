"""``wgan-gp``: the Wasserstein GAN with gradient penalty of Gulrajani et al. (2017).

WGAN's critic objective (:mod:`genbench_builtin.models.wgan`), with the Lipschitz constraint imposed
softly instead of by weight clipping, which the paper shows biases the critic towards overly simple
functions and makes training sensitive to ``c``: the optimal critic has gradient norm 1 almost
everywhere on lines between real and generated points, so the critic's loss adds

    λ · E_x̂ (‖∇_x̂ f(x̂)‖₂ − 1)²,   x̂ = ε x + (1 − ε) G(z),   ε ~ U[0, 1] per image,

with λ = 10 (:func:`gradient_penalty`). The penalty is a per-image gradient, so the critic must treat
each image on its own: batch norm, which couples the images of a batch, is replaced by layer norm
(the paper's recommendation, here ``GroupNorm(1, C)``: one mean and variance per image over all its
channels and pixels, with a scale and shift per channel), or by nothing (``critic_norm="none"``).

Training is the paper's Algorithm 1: Adam with lr 1e-4 and betas (0, 0.9), n_critic 5, batch 64.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from genbench import DataShape, Hyperparameters
from genbench.blocks.conv_ladder import DownLadder, FeatureHead, NormFactory, dcgan_init, leaky_relu
from genbench_builtin.models.hparam_rules import check_hparams
from genbench_builtin.models.wasserstein import WassersteinGAN


def layer_norm(channels: int) -> nn.Module:
    """Layer norm over ``(C, H, W)`` per image with a per-channel affine, for conv feature maps."""
    return nn.GroupNorm(1, channels)


CRITIC_NORMS: dict[str, NormFactory | None] = {"layer": layer_norm, "none": None}


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``E (‖∇_x̂ f(x̂)‖₂ − 1)²`` over random interpolates ``x̂`` of ``real`` and ``fake`` (one uniform
    ``ε`` per image, drawn with ``generator``; None: the global RNG), differentiable in the critic's
    parameters.

    Summing the scores before differentiating gives each image's own gradient only if the critic
    scores every image independently of the others (no batch norm). ``create_graph=True`` keeps the
    gradient's graph, so the penalty's backward is a double backward through the critic.
    """
    shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    eps = torch.rand(shape, generator=generator, device=real.device, dtype=real.dtype)
    mixed = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return (torch.linalg.vector_norm(grad.flatten(1), dim=1) - 1).square().mean()


class WGANGP(WassersteinGAN):
    """WGAN-GP (Gulrajani et al. 2017): DCGAN's generator, a layer-norm critic, gradient penalty, Adam.

    Defaults are the paper's Algorithm 1 (λ = 10, n_critic = 5, Adam lr 1e-4, betas (0, 0.9), batch
    64). Users' report "000" used Adam with lr 1e-4, n_critic 5, p_coeff (λ) 10 and batch 64 too, and
    did not state its betas; the paper's beta1 = 0 is kept.

    Logs: ``loss_d`` (the critic's loss ``−(E f(x) − E f(G(z))) + λ gp``), ``em`` (its Earth-Mover
    estimate ``E f(x) − E f(G(z))``, before the update) and ``gp`` (the unweighted penalty
    ``E (‖∇f(x̂)‖ − 1)²``) on every step; ``loss_g`` (``−E f(G(z))``) on generator steps, every
    ``n_critic``-th. Held out: ``em`` on test images against seeded fakes.
    """

    name = "wgan-gp"
    description = "WGAN-GP (Gulrajani et al. 2017): gradient-penalty critic with layer norm, Adam (0, 0.9)"
    conditional = False

    @dataclass
    class Hparams(Hyperparameters):
        """WGAN-GP's hyperparameters; the defaults are the paper's Algorithm 1."""

        batch_size: int = 64  # The paper's m.
        latent_dim: int = 100  # DCGAN's z (report "000"'s n_noise).
        base_channels: int = 64  # Widths double per halving: 64, 128, 256 at 32x32, as in dcgan.
        lr: float = 1e-4  # The paper's alpha, for both networks.
        beta1: float = 0.0  # No momentum: the critic's target moves with the generator.
        beta2: float = 0.9
        n_critic: int = 5  # Critic updates per generator update.
        gp_weight: float = 10.0  # The paper's lambda; it worked across architectures and datasets.
        critic_norm: str = "layer"  # "layer" (the paper's suggestion) or "none"; never batch norm.
        model_name: ClassVar[str] = "wgan-gp"  # Named in the messages of __post_init__.

        def __post_init__(self) -> None:
            check_hparams(self.model_name, self)

    hparams: Hparams

    def __init__(self, shape: DataShape, hparams: Hparams) -> None:
        super().__init__(shape, hparams)
        self.apply(dcgan_init)
        self.add_adam(generator=self.generator, critic=self.critic)

    def build_critic(self) -> nn.Module:
        """DCGAN's discriminator layout with layer norm (or none) in place of batch norm, no sigmoid."""
        return nn.Sequential(
            DownLadder(self.shape.channels, self.plan, CRITIC_NORMS[self.hparams.critic_norm], leaky_relu),
            FeatureHead(self.plan, 1),
            nn.Flatten(0),
        )

    def critic_penalty(
        self, real: torch.Tensor, fake: torch.Tensor
    ) -> tuple[torch.Tensor | None, dict[str, torch.Tensor]]:
        """``λ · gp`` for the critic's loss, and ``gp`` itself to log."""
        gp = gradient_penalty(self.critic, real, fake)
        return self.hparams.gp_weight * gp, {"gp": gp}
