"""The training schedule shared by the Wasserstein GANs ``wgan`` and ``wgan-gp``: a critic ``f`` trained
to maximise ``E f(x) − E f(G(z))`` several times per generator update, and a generator trained to
maximise ``E f(G(z))`` (Arjovsky et al. 2017, Algorithm 1; Gulrajani et al. 2017, Algorithm 1).

The two differ only in how they keep the critic (near) 1-Lipschitz, which the Kantorovich–Rubinstein
duality needs for ``sup_f E f(x) − E f(G(z))`` to be the Earth-Mover distance: ``wgan`` clips the
critic's weights after each critic update, ``wgan-gp`` adds a gradient penalty to the critic's loss.
Subclasses therefore supply the critic, the optimizers, :meth:`WassersteinGAN.critic_penalty` and
:meth:`WassersteinGAN.after_critic_step`; the schedule and estimates live here, sampling in
:class:`~genbench.blocks.latent.LatentModel`.

The runner calls ``train_step`` once per real batch and counts every real image against the budget,
so one call is one critic update, and every ``n_critic``-th call also updates the generator: the
budget then counts the real images the critic saw, as the papers' epochs do.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from genbench import DataShape, Hyperparameters
from genbench.blocks.conv_ladder import LadderPlan, ladder_plan
from genbench.blocks.latent import LatentModel
from genbench.blocks.modes import eval_mode
from genbench_builtin.models.dcgan import ESTIMATE_SEED, build_generator


@contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """Run the block with ``module``'s parameters not requiring gradients, then restore each flag.

    The generator's loss backpropagates *through* the critic but must not update it: freezing its
    parameters skips computing their gradients (a third of the critic's backward pass) instead of
    computing them and throwing them away.
    """
    flags = [(p, p.requires_grad) for p in module.parameters()]
    for p, _ in flags:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)


class WassersteinGAN(LatentModel):
    """Base of ``wgan`` and ``wgan-gp``: DCGAN's generator, a critic with one unbounded score per image.

    Logs on every step: ``loss_d`` (the critic's loss, ``−(E f(x) − E f(G(z)))`` plus any penalty) and
    ``em`` (the critic's Earth-Mover estimate ``E f(x) − E f(G(z))``, before its update); on generator
    steps (every ``n_critic``-th) also ``loss_g`` (``−E f(G(z))``). Subclasses may add keys.
    """

    hparams: Any  # The subclass's Hparams: batch_size, latent_dim, base_channels, n_critic and its own.
    # The critic's output bias shifts E f(x) and E f(G(z)) alike: its gradient is zero by construction.
    untrained_parameters = ("critic.1.0.bias",)
    # The runner's fast path (genbench.running.fast_path): channels-last convolutions and ``n_critic``
    # steps (the critic's updates and the generator's) in one CUDA graph on CUDA; ``critic_steps``
    # matters only modulo ``n_critic``, as capture needs. Not bf16: the critic's gap E f(x) − E f(G(z))
    # and the penalty's gradient norm are small differences that bf16's 8-bit mantissa would blur.
    channels_last = True
    capturable = True
    packable = True

    def __init__(self, shape: DataShape, hparams: Hyperparameters) -> None:
        super().__init__(shape, hparams)  # n_critic >= 1: its Hparams' __post_init__ (hparam_rules).
        self.plan: LadderPlan = ladder_plan(shape.resolution, self.hparams.base_channels)
        # Both papers keep DCGAN's generator, batch norm included; only the critic changes.
        self.generator = build_generator(self.plan, self.hparams.latent_dim, shape.channels)
        self.critic = self.build_critic()
        # Critic updates so far: a Python int, so choosing the generator's steps never syncs the device.
        self.critic_steps = 0

    @property
    def step_period(self) -> int:
        """``n_critic``: the generator is updated on every ``n_critic``-th call."""
        return int(self.hparams.n_critic)

    @abstractmethod
    def build_critic(self) -> nn.Module:
        """The critic: images ``(B, C, R, R)`` -> one score per image ``(B,)``, no sigmoid."""

    def critic_penalty(
        self, real: torch.Tensor, fake: torch.Tensor
    ) -> tuple[torch.Tensor | None, dict[str, torch.Tensor]]:
        """A term added to the critic's loss (None: none) and what to log about it. Default: none."""
        return None, {}

    def after_critic_step(self) -> None:
        """Called after each critic update (WGAN clips the critic's weights here). Default: nothing."""

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """Images from latents z ~ N(0, I); the labels are ignored."""
        return self.generator(z)

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """One critic update on ``images`` and as many fresh fakes; every ``n_critic``-th call, then one
        generator update on a fresh batch of latents (the papers' Algorithm 1, unrolled over calls).
        """
        batch = images.shape[0]
        with torch.no_grad():  # The critic's update needs no gradient through the generator.
            fake = self.generator(self.prior_latents(batch, images.device))

        # Critic: real and fake in separate batches, as in both papers' code (WGAN's critic has batch
        # norm, which would otherwise mix the two).
        real_scores = self.critic(images)
        fake_scores = self.critic(fake)
        em = real_scores.mean() - fake_scores.mean()
        penalty, penalty_logs = self.critic_penalty(images, fake)
        loss_d = -em if penalty is None else penalty - em
        optimizer = self.optimizers["critic"]
        optimizer.zero_grad(set_to_none=True)
        loss_d.backward()
        optimizer.step()
        self.after_critic_step()
        self.critic_steps += 1

        logs = {"loss_d": loss_d.detach(), "em": em.detach()}
        logs.update({name: value.detach() for name, value in penalty_logs.items()})
        if self.critic_steps % self.hparams.n_critic == 0:
            logs["loss_g"] = self._generator_step(batch, images.device)
        return logs

    def _generator_step(self, batch: int, device: torch.device) -> torch.Tensor:
        """One generator update: minimise ``−E f(G(z))`` on fresh latents; returns the loss."""
        with frozen(self.critic):
            loss_g = -self.critic(self.generator(self.prior_latents(batch, device))).mean()
            optimizer = self.optimizers["generator"]
            optimizer.zero_grad(set_to_none=True)
            loss_g.backward()
            optimizer.step()
        return loss_g.detach()

    def estimate(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """``em``, the critic's ``E f(x) − E f(G(z))`` on test images and as many fakes from latents
        seeded with :data:`~genbench_builtin.models.dcgan.ESTIMATE_SEED`, in eval mode.

        A clipped critic is K-Lipschitz for some unknown K and a penalised one only roughly 1-Lipschitz,
        so ``em`` tracks the Earth-Mover distance only up to scale: compare it along one run, not across
        models or hyperparameters.
        """
        generator = torch.Generator(images.device).manual_seed(ESTIMATE_SEED)
        z = self.prior_latents(images.shape[0], images.device, generator)
        with torch.no_grad(), eval_mode(self):
            em = self.critic(images).mean() - self.critic(self.generator(z)).mean()
        return {"em": em}

    def checkpoint_state(self) -> dict[str, Any]:
        """Weights and optimizer states plus the critic-step count, so a resumed run keeps its schedule."""
        return {**super().checkpoint_state(), "critic_steps": self.critic_steps}

    def load_checkpoint_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`checkpoint_state` returned."""
        super().load_checkpoint_state(state)
        self.critic_steps = int(state.get("critic_steps", 0))
