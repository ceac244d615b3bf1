"""Fully connected building blocks of the MLP GANs (``gan``, ``cgan``): the generator and discriminator
stacks, label conditioning by concatenation, the latent prior and the initialisation.

An MLP sees an image as one vector of ``C * H * W`` values, so the same code serves 8x8 digits,
28x28 MNIST and 32x32 CIFAR-10; only the widths of the first (discriminator) and last (generator)
layers follow the shape.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from genbench import DataShape, UserError
from genbench.blocks.conv_ladder import ActivationFactory, leaky_relu
from genbench.blocks.latent import PRIORS

DEPTH = 3  # Hidden layers of each network: 256, 512, 1024 units for width 256.
LEAKY_SLOPE = 0.2  # Of conv_ladder.leaky_relu: DCGAN's, and the PyTorch ports' of the GAN papers.


def check_prior(model: str, prior: str) -> None:
    """Refuse an unknown latent prior, naming the model and the choices."""
    if prior not in PRIORS:
        raise UserError(f"{model}.prior must be one of {', '.join(PRIORS)}; got {prior!r}")


def hidden_stack(
    in_features: int, widths: Sequence[int], act: ActivationFactory, dropout: float = 0.0
) -> nn.Sequential:
    """``Linear -> activation (-> Dropout)`` for each width in turn: ``(B, in_features)`` ->
    ``(B, widths[-1])``. Dropout follows every activation, so it drops the inputs of the next layer."""
    layers: list[nn.Module] = []
    for width in widths:
        layers += [nn.Linear(in_features, width), act()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        in_features = width
    return nn.Sequential(*layers)


def image_head(in_features: int, shape: DataShape) -> nn.Sequential:
    """Hidden features ``(B, in_features)`` -> images ``(B, C, H, W)`` in [-1, 1] through tanh, the
    range of genbench's images (the papers' sigmoid matched their [0, 1] pixels)."""
    return nn.Sequential(
        nn.Linear(in_features, pixel_count(shape)), nn.Tanh(), nn.Unflatten(1, shape.image_shape)
    )


@torch.no_grad()
def he_init(module: nn.Module, slope: float) -> None:
    """He et al. (2015) initialisation of every linear layer in ``module`` for activations of negative
    slope ``slope`` (0: ReLU, 0.2: LeakyReLU(0.2)): weights ~ N(0, 2 / ((1 + slope²) fan_in)), biases
    0, so a signal keeps its scale through the stack. Embeddings are left as they are.

    PyTorch's default (uniform, variance 1 / (3 fan_in)) has about a sixth of that variance, so each
    hidden layer shrinks the latent's signal against the biases: at initialisation the samples hardly
    differ (per-pixel standard deviation across samples of 4/255 on digits, against 59/255 between
    real digits) and, on digits, the MLP GANs collapsed to a single image in our runs. Works on
    ``meta``.
    """
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.kaiming_normal_(layer.weight, a=slope, nonlinearity="leaky_relu")
            nn.init.zeros_(layer.bias)


def pixel_count(shape: DataShape) -> int:
    """``C * H * W``: the length of an image as one vector."""
    return shape.channels * shape.resolution * shape.resolution


def mlp_generator(in_features: int, width: int, shape: DataShape) -> nn.Sequential:
    """``(B, in_features)`` -> ``width·(1, 2, 4)`` LeakyReLU(0.2) units -> images ``(B, C, H, W)`` (tanh)."""
    widths = [width * 2**i for i in range(DEPTH)]
    return nn.Sequential(hidden_stack(in_features, widths, leaky_relu), image_head(widths[-1], shape))


def mlp_discriminator(in_features: int, width: int, dropout: float) -> nn.Sequential:
    """``(B, in_features)`` -> ``width·(4, 2, 1)`` LeakyReLU(0.2) units (each followed by dropout when
    ``dropout > 0``) -> one logit per row ``(B,)``."""
    widths = [width * 2**i for i in reversed(range(DEPTH))]
    return nn.Sequential(
        hidden_stack(in_features, widths, leaky_relu, dropout), nn.Linear(widths[-1], 1), nn.Flatten(0)
    )


class LabelConcat(nn.Module):
    """``net(cat(inputs.flatten(1), embedding(labels)))``: a network that also sees its input's class,
    as a learned ``label_dim``-vector concatenated to the latent (generator) or image (discriminator).

    The embedding keeps PyTorch's N(0, 1) initialisation, so each of its coordinates enters at the
    scale of a latent coordinate. A one-hot vector has a single unit entry instead of ``label_dim``
    standard normal ones, so its share of the first layer's input is ``label_dim`` times smaller; in
    our digits runs a generator fed one-hot labels ignored them for tens of kimg (reference-classifier
    accuracy on its samples 0.17 after 40 kimg, against 0.90 with a 10-d embedding).
    """

    def __init__(self, num_classes: int, label_dim: int, net: nn.Module) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num_classes, label_dim)
        self.net = net

    def forward(self, inputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """``net``'s output for ``inputs`` ``(B, ...)`` and int labels ``(B,)``."""
        return self.net(torch.cat([inputs.flatten(1), self.embedding(labels)], dim=1))
