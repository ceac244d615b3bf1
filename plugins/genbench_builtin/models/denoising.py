"""What ``ddpm`` and ``flow-matching`` share: a model that samples by running a learned U-Net many
times from Gaussian noise, whether it predicts the noise (Ho et al. 2020) or a velocity (Lipman et
al. 2023). Each subclass brings its training objective (:meth:`DenoisingModel.loss_terms`) and its
sampler (:meth:`DenoisingModel.integrate`); this module gives them the rest:

- the networks: a :class:`~genbench.blocks.UNet` trained by Adam with gradient-norm clipping (Ho et
  al. clip at 1), and an :class:`~genbench.blocks.EMA` of it, which every sample, decode and held-out
  estimate uses (Ho et al. sample with an EMA too);
- class conditioning with classifier-free guidance (Ho & Salimans 2022): with ``conditional`` the
  U-Net sees a label embedding, each training label is replaced by the null class with probability
  ``label_dropout``, and sampling mixes the two predictions, ``uncond + guidance_scale * (cond -
  uncond)``, where the unconditional one is computed with the null class and never sees a label;
- the latent API: a latent is the starting noise, an image-shaped N(0, I) draw, and a deterministic
  sampler turns it into the image, so ``decode(latents(n, g))`` is ``sample(n, g)``;
- the sampling options (:class:`DenoisingSampling`, ``--sample-set``): the number of sampling steps and
  the guidance scale change how the trained network is sampled, never how it trains.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from genbench import DataShape, Hyperparameters, Model, SamplingOptions
from genbench.blocks import EMA, UNet, eval_mode
from genbench.blocks.optimizers import adam
from genbench_builtin.models.hparam_rules import check_hparams

# ``estimate`` draws its noise levels and noise from a generator seeded with this, never from the
# global one: held-out estimates then never shift training's noise, and every estimate point sees
# the same draws, so the test curve follows the model, not the noise.
ESTIMATE_SEED = 0


@dataclass
class DenoisingHparams(Hyperparameters):
    """What every denoising model takes; defaults scaled from Ho et al.'s CIFAR-10 ones to 8-32 px
    images and budgets of tens of kimg (each field's comment says how)."""

    batch_size: int = 64
    base_channels: int = 32  # Ho et al. 128; 32 keeps 1,000 samples at 28x28 to minutes on a CPU.
    res_blocks: int = 1  # Residual blocks per level and side; Ho et al. 2.
    dropout: float = 0.0  # Ho et al. 0.1 on CIFAR-10, 0 elsewhere.
    lr: float = 2e-4  # Ho et al.'s CIFAR-10 rate (Adam).
    grad_clip: float = 1.0  # Ho et al.'s gradient-norm clipping.
    ema_decay: float = 0.999  # Ho et al. 0.9999 over 800k steps; reached here after 9k (warm-up ramp).
    conditional: bool = False  # Class-conditional with classifier-free guidance.
    label_dropout: float = 0.1  # Ho & Salimans' p_uncond: 0.1 or 0.2 worked best.


@dataclass
class DenoisingSampling(SamplingOptions):
    """How every denoising model samples (``--sample-set``): changing them never retrains."""

    sample_steps: int = 50  # Sampler steps; network evaluations per sample (midpoint, guidance: more).
    guidance_scale: float = 1.5  # 1: conditional only; 0: unconditional only; above 1: guided.
    model_name: ClassVar[str] = "denoising"  # Named in the messages of __post_init__.

    def __post_init__(self) -> None:
        check_hparams(self.model_name, self)  # The same rules as the fields had as hyperparameters.


class DenoisingModel(Model):
    """A U-Net sampled iteratively from noise, with EMA weights and classifier-free guidance.

    Subclasses implement :meth:`loss_terms` and :meth:`integrate`. The instance's ``conditional`` is
    the ``conditional`` hyperparameter (the class attribute states the default, for listings).
    Logs per step (and on test images as ``test/…``, with the EMA network): ``loss``, the objective.
    """

    hparams: DenoisingHparams
    sampling: DenoisingSampling
    Sampling: ClassVar[type[SamplingOptions]] = DenoisingSampling
    expensive_sampling = True  # Tens of network evaluations per sample, where a GAN needs one.
    # The runner's fast path (genbench.running.fast_path) stays off, the conservative default: none of
    # bf16 autocast, channels-last or CUDA-graph capture has been verified on CUDA for these models.
    # (The step itself has no host syncs: the EMA's decay and the label dropout are device tensors.)
    bf16_safe = False
    channels_last = False
    capturable = False
    packable = True  # Every training state (the EMA's too) is in the instance: seeds may share a process.

    def __init__(self, shape: DataShape, hparams: DenoisingHparams) -> None:
        super().__init__(shape, hparams)
        self.conditional = hparams.conditional  # type: ignore[misc]
        classes = max(shape.num_classes, 1) if hparams.conditional else 0
        self.net = UNet(
            shape.channels,
            shape.resolution,
            hparams.base_channels,
            hparams.res_blocks,
            classes,
            hparams.dropout,
        )
        self.ema = EMA(self.net, hparams.ema_decay)
        self.optimizers["adam"] = adam(self.net.parameters(), hparams.lr)

    @abstractmethod
    def loss_terms(
        self,
        net: nn.Module,
        images: torch.Tensor,
        labels: torch.Tensor | None,
        generator: torch.Generator | None,
    ) -> dict[str, torch.Tensor]:
        """The objective ``{"loss": ...}`` (and any other scalars to log) of ``net`` on ``images``
        with ``labels`` (None: unconditional), noise drawn with ``generator`` (None: the global one)."""

    @abstractmethod
    def integrate(
        self, noise: torch.Tensor, labels: torch.Tensor | None, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Images from the starting ``noise`` with :meth:`guided` predictions; ``generator`` feeds a
        stochastic sampler and is None for the deterministic one (:meth:`decode`)."""

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """One Adam step on :meth:`loss_terms` (labels dropped to the null class at ``label_dropout``),
        the gradient's norm clipped at ``grad_clip``, then one EMA update."""
        conditioning = None
        if self.conditional:
            conditioning = self.net.labels.drop(labels, self.hparams.label_dropout)  # type: ignore[union-attr]
        terms = self.loss_terms(self.net, images, conditioning, None)
        optimizer = self.optimizers["adam"]
        optimizer.zero_grad(set_to_none=True)
        terms["loss"].backward()
        nn.utils.clip_grad_norm_(self.net.parameters(), self.hparams.grad_clip, foreach=True)
        optimizer.step()
        self.ema.update()
        return {key: value.detach() for key, value in terms.items()}

    def estimate(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """:meth:`loss_terms` of the EMA network (the one that samples) on test images and their
        labels, noise drawn from a generator seeded with :data:`ESTIMATE_SEED`."""
        generator = torch.Generator(images.device).manual_seed(ESTIMATE_SEED)
        with torch.no_grad(), eval_mode(self):
            return self.loss_terms(self.ema.network, images, labels if self.conditional else None, generator)

    def guided(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """The EMA network's prediction for ``x`` at times ``t``; with labels, classifier-free guided:
        ``uncond + s * (cond - uncond)`` (Ho & Salimans 2022, equation 6 with ``s = 1 + w``), both
        branches in one batch, the unconditional one with the null class for every image."""
        net = self.ema.network
        scale = self.sampling.guidance_scale
        if labels is None or scale == 1.0:
            return net(x, t, labels)
        null = torch.full_like(labels, net.null_label)
        both = net(torch.cat([x, x]), torch.cat([t, t]), torch.cat([labels, null]))
        conditional, unconditional = both.chunk(2)
        return unconditional + scale * (conditional - unconditional)

    @property
    def evaluations_per_step(self) -> int:
        """Network evaluations of one :meth:`guided` call per sample: 2 when guided (both branches,
        in one batch of twice the images), else 1."""
        return 2 if self.conditional and self.sampling.guidance_scale != 1.0 else 1

    def starting_noise(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` starting noises ``(n, C, H, W)`` ~ N(0, I), drawn with ``generator``."""
        return torch.randn((n, *self.shape.image_shape), generator=generator, device=generator.device)

    def latents(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """The starting noises (:meth:`starting_noise`), which the deterministic sampler decodes."""
        return self.starting_noise(n, generator)

    def decode(self, latents: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [-1, 1] for the starting noises ``latents``, by the deterministic sampler, with
        the EMA weights, without gradients, in eval mode."""
        labels = self._checked_labels(latents.shape[0], labels)
        with torch.no_grad(), eval_mode(self):
            return self.integrate(latents, labels, None).clamp(-1, 1)

    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None) -> torch.Tensor:
        """``n`` images in [-1, 1] from noises drawn with ``generator``; conditional models without
        labels draw uniform classes with it *after* the noise, so noise ``i`` is the same whatever the
        labels. A stochastic sampler draws its step noise with ``generator`` after both."""
        noise = self.starting_noise(n, generator)
        if self.conditional and labels is None:
            labels = torch.randint(self.shape.num_classes, (n,), generator=generator, device=noise.device)
        labels = self._checked_labels(n, labels)
        with torch.no_grad(), eval_mode(self):
            return self.integrate(noise, labels, generator).clamp(-1, 1)

    def _checked_labels(self, n: int, labels: torch.Tensor | None) -> torch.Tensor | None:
        """``labels`` for a conditional model, refused unless there is one per image; None otherwise."""
        if not self.conditional:
            return None
        if labels is None or labels.shape != (n,):
            got = "none" if labels is None else f"shape {tuple(labels.shape)}"
            raise ValueError(f"{self.name} needs {n} labels, one label per image; got {got}")
        return labels
