"""Public building blocks for model plugins: the pieces every built-in model is made of.

- :mod:`genbench.blocks.conv_ladder`: resolution-adaptive convolutional ladders. :func:`ladder_plan`
  picks the depth for 8x8, 28x28 and 32x32 images; :class:`DownLadder` / :class:`FeatureHead` make a
  discriminator or encoder, :class:`LatentStem` / :class:`UpLadder` a generator or decoder;
  :func:`dcgan_init` is DCGAN's initialisation.
- :mod:`genbench.blocks.latent`: :class:`LatentModel`, a model that samples by decoding latents drawn
  with the caller's generator, so ``sample``, ``latents`` and ``decode`` agree by construction;
  :func:`draw_latents` for the priors in :data:`PRIORS`.
- :mod:`genbench.blocks.optimizers`: :func:`adam` and :func:`rmsprop`, in the fastest implementation
  for the weights' device (fused on CUDA, foreach elsewhere); :meth:`LatentModel.add_adam` uses it.
- :mod:`genbench.blocks.modes`: :func:`eval_mode`, eval mode for a block, each submodule's mode restored.
- :mod:`genbench.blocks.unet`: :class:`UNet`, a small U-Net (Ho et al. 2020) for diffusion and flow
  models, ``net(x, t, labels=None)`` -> a tensor like ``x``, whose depth adapts to 8, 16, 28 and 32
  pixels, optionally class-conditional with a null class for classifier-free guidance.
- :mod:`genbench.blocks.embeddings`: what the U-Net is conditioned on: :class:`TimeEmbedding`
  (sinusoids of Vaswani et al. 2017 then an MLP), :func:`sinusoidal_embedding` alone, and
  :class:`LabelEmbedding` (a vector per class plus the null class, with ``drop`` for label dropout).
- :mod:`genbench.blocks.ema`: :class:`EMA`, an exponential moving average of a network's weights (a
  submodule, so checkpoints hold it), updated after each optimizer step and used for sampling.

Constants and types: ``MAX_STAGES`` (3) and ``MIN_BASE`` (4 pixels) bound a ladder's depth;
``NormFactory`` (``channels -> nn.Module``, e.g. ``nn.BatchNorm2d``) and ``ActivationFactory``
(``() -> nn.Module``, e.g. :func:`leaky_relu`) are what the ladders take; ``PRIORS`` names the latent
priors, ``"normal"`` and ``"uniform"``.

A DCGAN-like model in a few lines::

    from genbench.blocks import DownLadder, FeatureHead, LatentModel, LatentStem, UpLadder, ladder_plan

    plan = ladder_plan(shape.resolution, base_channels=32)
    generator = nn.Sequential(LatentStem(100, plan, nn.BatchNorm2d), UpLadder(shape.channels, plan,
                              nn.BatchNorm2d), nn.Tanh())
    discriminator = nn.Sequential(DownLadder(shape.channels, plan, nn.BatchNorm2d), FeatureHead(plan, 1))

and the networks of a diffusion model::

    from genbench.blocks import EMA, UNet

    net = UNet(shape.channels, shape.resolution, base_channels=32, num_classes=shape.num_classes)
    ema = EMA(net, decay=0.999)          # ema.update() after each optimizer step; sample with ema.network

genbench's core never imports a plugin; plugins (the built-in ones included) import these.
"""

from genbench.blocks.conv_ladder import (
    MAX_STAGES,
    MIN_BASE,
    ActivationFactory,
    DownLadder,
    FeatureHead,
    LadderPlan,
    LatentStem,
    NormFactory,
    UpLadder,
    dcgan_init,
    ladder_plan,
    leaky_relu,
    relu,
)
from genbench.blocks.ema import EMA
from genbench.blocks.embeddings import LabelEmbedding, TimeEmbedding, sinusoidal_embedding
from genbench.blocks.latent import PRIORS, LatentModel, draw_latents
from genbench.blocks.modes import eval_mode
from genbench.blocks.optimizers import adam, rmsprop
from genbench.blocks.unet import UNet

__all__ = [
    "EMA",
    "MAX_STAGES",
    "MIN_BASE",
    "PRIORS",
    "ActivationFactory",
    "DownLadder",
    "FeatureHead",
    "LabelEmbedding",
    "LadderPlan",
    "LatentModel",
    "LatentStem",
    "NormFactory",
    "TimeEmbedding",
    "UNet",
    "UpLadder",
    "adam",
    "dcgan_init",
    "draw_latents",
    "eval_mode",
    "ladder_plan",
    "leaky_relu",
    "relu",
    "rmsprop",
    "sinusoidal_embedding",
]
