"""``wgan``: the Wasserstein GAN of Arjovsky, Chintala and Bottou (2017), with weight clipping.

The discriminator becomes a *critic* ``f`` with one unbounded score per image (DCGAN's discriminator
without its sigmoid: :func:`genbench_builtin.models.dcgan.build_discriminator` already returns
logits). It is trained to maximise ``E f(x) − E f(G(z))``, which for a 1-Lipschitz ``f`` is at most
the Earth-Mover (Wasserstein-1) distance and equals it at the supremum (Kantorovich–Rubinstein
duality). The generator minimises ``−E f(G(z))``. Lipschitz continuity is enforced crudely, as in the
paper, by clipping every critic parameter to ``[−c, c]`` after each update: the critic is then
K-Lipschitz for some K fixed by the architecture, so its estimate is the distance times K.

Training is the paper's Algorithm 1 (see :mod:`genbench_builtin.models.wasserstein` for how its
loop maps onto the runner's steps): RMSProp (the paper reports that a momentum-based optimizer such as
Adam made the critic's training unstable at times), lr 5e-5, c = 0.01, n_critic = 5, batch 64.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from genbench import DataShape, Hyperparameters
from genbench.blocks.conv_ladder import dcgan_init
from genbench.blocks.optimizers import rmsprop
from genbench_builtin.models.dcgan import build_discriminator
from genbench_builtin.models.hparam_rules import check_hparams
from genbench_builtin.models.wasserstein import WassersteinGAN


class WGAN(WassersteinGAN):
    """WGAN (Arjovsky et al. 2017): DCGAN's networks, a clipped critic without sigmoid, RMSProp.

    Defaults are the paper's Algorithm 1. Users' report "000" trained its MNIST WGAN with lr 5e-4 and
    n_critic 2 (and reported that it failed to converge); where it and the paper disagree the paper
    wins, so lr is 5e-5 and n_critic 5 here (report "002" also used lr 5e-5 and c = 0.01). The
    reference code's extra critic iterations (100 for the first 25 generator steps and every 500th)
    are not part of Algorithm 1 and are left out.

    Logs: ``loss_d`` (critic loss ``−(E f(x) − E f(G(z)))``), ``em`` (the critic's Earth-Mover estimate
    ``E f(x) − E f(G(z))``, before its update) on every step and ``loss_g`` (``−E f(G(z))``) on
    generator steps, every ``n_critic``-th. Held out: ``em`` on test images against seeded fakes.
    """

    name = "wgan"
    description = "Wasserstein GAN (Arjovsky et al. 2017): DCGAN networks, weight-clipped critic, RMSProp"
    conditional = False

    @dataclass
    class Hparams(Hyperparameters):
        """WGAN's hyperparameters; the defaults are the paper's Algorithm 1 (see the class docstring)."""

        batch_size: int = 64  # The paper's m.
        latent_dim: int = 100  # DCGAN's z, which the paper's DCGAN generator kept (report "000" too).
        base_channels: int = 64  # Widths double per halving: 64, 128, 256 at 32x32, as in dcgan.
        lr: float = 5e-5  # The paper's alpha, for both networks: RMSProp with a small step.
        n_critic: int = 5  # Critic updates per generator update: the critic should stay near optimal.
        clip: float = 0.01  # The paper's c: critic parameters are clamped to [-c, c] after each update.
        model_name: ClassVar[str] = "wgan"  # Named in the messages of __post_init__.

        def __post_init__(self) -> None:
            check_hparams(self.model_name, self)

    hparams: Hparams

    def __init__(self, shape: DataShape, hparams: Hparams) -> None:
        super().__init__(shape, hparams)
        self.apply(dcgan_init)  # The paper keeps DCGAN's N(0, 0.02); clipping tightens it on step one.
        self.optimizers["generator"] = rmsprop(self.generator.parameters(), hparams.lr)
        self.optimizers["critic"] = rmsprop(self.critic.parameters(), hparams.lr)

    def build_critic(self) -> nn.Module:
        """DCGAN's discriminator, batch norm included as in the paper's experiments; its logit is the
        critic's score (no sigmoid)."""
        return build_discriminator(self.plan, self.shape.channels)

    @torch.no_grad()
    def after_critic_step(self) -> None:
        """Clamp every critic parameter (batch norm's scale and shift too, as in the paper's code) to
        ``[−clip, clip]``: Algorithm 1's ``w ← clip(w, −c, c)``, after the update."""
        clip = self.hparams.clip
        for parameter in self.critic.parameters():
            parameter.clamp_(-clip, clip)
