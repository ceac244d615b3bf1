"""Resolution-adaptive convolutional ladders: the shared skeleton of every built-in conv model, public
so that a plugin's model adapts its depth to 8x8, 28x28 and 32x32 images the same way.

A *ladder* halves (down) or doubles (up) the resolution ``stages`` times between the image and a small
``base x base`` feature map, with kernel-4 / stride-2 / padding-1 convolutions, which map ``r`` exactly
to ``r / 2`` and back for any even ``r``. :func:`ladder_plan` chooses the depth from the resolution, so
one architecture serves 8x8 digits (8 -> 4), 28x28 MNIST (28 -> 14 -> 7) and 32x32 CIFAR-10
(32 -> 16 -> 8 -> 4).

The pieces compose into the usual shapes::

    generator / decoder:      LatentStem -> UpLadder           (z -> image logits)
    discriminator / encoder:  DownLadder -> FeatureHead        (image -> scores / posterior)

Norm and activation are factories so that other models can reuse the ladders unchanged: DCGAN uses
batch norm, a WGAN-GP critic needs none (or a per-sample norm), a VAE uses none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from genbench.errors import UserError

# A factory of a layer for a given channel count (e.g. nn.BatchNorm2d), or of a channel-free
# activation (e.g. ``lambda: nn.LeakyReLU(0.2)``).
NormFactory = Callable[[int], nn.Module]
ActivationFactory = Callable[[], nn.Module]

MAX_STAGES = 3  # 32 -> 4 like DCGAN's 64 -> 4 minus one stage: deeper adds little at these sizes.
MIN_BASE = 4  # The coarsest map keeps at least 4x4 pixels, as in DCGAN.


def relu() -> nn.Module:
    """ReLU, the activation of DCGAN's generator."""
    return nn.ReLU(inplace=True)


def leaky_relu() -> nn.Module:
    """LeakyReLU(0.2), the activation of DCGAN's discriminator."""
    return nn.LeakyReLU(0.2, inplace=True)


@dataclass(frozen=True)
class LadderPlan:
    """The geometry of a ladder for one resolution.

    ``widths[i]`` is the channel count at resolution ``resolution / 2**(i+1)``: it doubles at each
    halving, so ``widths[-1]`` (the widest) belongs to the ``base x base`` map.
    """

    resolution: int
    stages: int
    base: int
    widths: tuple[int, ...]

    @property
    def top_channels(self) -> int:
        """Channels of the ``base x base`` feature map between the ladder and its stem or head."""
        return self.widths[-1]


def ladder_plan(resolution: int, base_channels: int, max_stages: int = MAX_STAGES) -> LadderPlan:
    """The deepest ladder (at most ``max_stages``) with an exact halving at every stage and a base of
    at least :data:`MIN_BASE` pixels: 8 -> 1 stage, 28 -> 2 stages (7x7 base), 32 -> 3 stages.
    """
    stages = 0
    while (
        stages < max_stages
        and resolution % 2 ** (stages + 1) == 0
        and resolution // 2 ** (stages + 1) >= MIN_BASE
    ):
        stages += 1
    if stages == 0:
        raise UserError(
            f"the convolutional models need an even image resolution of at least {2 * MIN_BASE}, "
            f"got {resolution}"
        )
    if base_channels < 1:
        raise UserError(f"base_channels must be at least 1, got {base_channels}")
    widths = tuple(base_channels * 2**i for i in range(stages))
    return LadderPlan(resolution, stages, resolution // 2**stages, widths)


def _block(conv: nn.Module, channels: int, norm: NormFactory | None, act: ActivationFactory) -> nn.Sequential:
    """conv -> norm -> activation (callers give a conv followed by a norm no bias: the norm's shift
    would cancel it)."""
    layers = [conv] if norm is None else [conv, norm(channels)]
    return nn.Sequential(*layers, act())


class DownLadder(nn.Sequential):
    """Image ``(B, C, R, R)`` -> features ``(B, plan.top_channels, base, base)``.

    ``norm_first=False`` leaves the first stage without a norm: DCGAN's discriminator does so because
    normalising the raw image layer made its training unstable (Radford et al., section 3).
    """

    def __init__(
        self,
        in_channels: int,
        plan: LadderPlan,
        norm: NormFactory | None,
        act: ActivationFactory = leaky_relu,
        norm_first: bool = False,
    ) -> None:
        blocks: list[nn.Module] = []
        channels = in_channels
        for i, width in enumerate(plan.widths):
            stage_norm = norm if (i > 0 or norm_first) else None
            conv = nn.Conv2d(channels, width, 4, stride=2, padding=1, bias=stage_norm is None)
            blocks.append(_block(conv, width, stage_norm, act))
            channels = width
        super().__init__(*blocks)


class UpLadder(nn.Sequential):
    """Features ``(B, plan.top_channels, base, base)`` -> ``(B, out_channels, R, R)``, unactivated.

    The last stage has neither norm nor activation: the model chooses its output map (tanh for a GAN
    generator, Bernoulli logits for a VAE decoder).
    """

    def __init__(
        self,
        out_channels: int,
        plan: LadderPlan,
        norm: NormFactory | None,
        act: ActivationFactory = relu,
    ) -> None:
        blocks: list[nn.Module] = []
        finer = (*reversed(plan.widths[:-1]), out_channels)  # Widths after each doubling.
        channels = plan.top_channels
        for i, width in enumerate(finer):
            last = i == len(finer) - 1
            conv = nn.ConvTranspose2d(channels, width, 4, stride=2, padding=1, bias=last or norm is None)
            blocks.append(conv if last else _block(conv, width, norm, act))
            channels = width
        super().__init__(*blocks)


class LatentStem(nn.Sequential):
    """Latent ``(B, in_features)`` -> ``(B, plan.top_channels, base, base)``, normalised and activated.

    A transposed convolution with kernel ``base`` on the 1x1 latent, as in DCGAN: a dense layer
    whose output is laid out as a feature map.
    """

    def __init__(
        self,
        in_features: int,
        plan: LadderPlan,
        norm: NormFactory | None,
        act: ActivationFactory = relu,
    ) -> None:
        conv = nn.ConvTranspose2d(in_features, plan.top_channels, plan.base, bias=norm is None)
        super().__init__(nn.Unflatten(1, (in_features, 1, 1)), _block(conv, plan.top_channels, norm, act))


class FeatureHead(nn.Sequential):
    """Features ``(B, plan.top_channels, base, base)`` -> ``(B, out_features)``.

    A convolution with kernel ``base`` (DCGAN's last discriminator layer): a dense layer over the
    whole ``base x base`` map.
    """

    def __init__(self, plan: LadderPlan, out_features: int) -> None:
        super().__init__(nn.Conv2d(plan.top_channels, out_features, plan.base), nn.Flatten(1))


@torch.no_grad()
def dcgan_init(module: nn.Module) -> None:
    """DCGAN's initialisation, for ``module.apply``: conv weights ~ N(0, 0.02), norm scales ~ N(1, 0.02),
    biases 0. Works on any device, ``meta`` included (the init then does nothing).
    """
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d) and module.affine:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
