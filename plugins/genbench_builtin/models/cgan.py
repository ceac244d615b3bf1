"""``cgan``: the conditional GAN of Mirza and Osindero (2014) on ``gan``'s MLPs.

Both networks see the class: the generator models p(x | y) as G(z, y), the discriminator judges the
pair (x, y), and the objective is the GAN's with every term conditioned on y (the paper's equation 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from genbench import DataShape
from genbench_builtin.models.gan import BCEGAN, BCEGANHparams
from genbench_builtin.models.hparam_rules import check_hparams
from genbench_builtin.models.mlp import (
    LEAKY_SLOPE,
    LabelConcat,
    he_init,
    mlp_discriminator,
    mlp_generator,
    pixel_count,
)


class CGAN(BCEGAN):
    """Conditional GAN (Mirza & Osindero 2014): ``gan``'s MLPs, each also fed a learned label embedding.

    Networks: the generator is ``gan``'s on ``[z, e_G(y)]``, the discriminator ``gan``'s on
    ``[x, e_D(y)]``, where ``e_G`` and ``e_D`` are learned ``label_dim``-vectors per class
    (:class:`~genbench_builtin.models.mlp.LabelConcat`), as in eriklindernoren's PyTorch-GAN ``cgan.py``.
    Report "004" also builds both networks from linear layers that see the label. The two models of
    the zoo then differ only in the conditioning, which keeps their comparison clean.

    The paper's MNIST networks (section 4.1) were different: z (uniform) and y to 200 and 1000 ReLU
    units, joined in 1200; a maxout discriminator (240x5 units for x, 50x5 for y, joined in 240x4);
    dropout 0.5 in both; SGD with momentum. Rebuilt here with Adam, they collapsed to about one image
    per class on digits (per-pixel standard deviation within a class 3 to 11 of 255 after 80 kimg,
    against 42 between real digits of a class), and so did these MLPs with the paper's uniform prior
    (15 after 40 kimg, against 38 with the Gaussian): the default prior is the Gaussian;
    ``prior="uniform"`` gives the paper's.

    Where report "004" and the paper disagree the paper wins: the report trains the discriminator
    several times per generator step, the paper (following Goodfellow et al.'s k = 1) once, so
    ``d_steps`` defaults to 1. Training conditions the fakes on the batch's own labels; sampling
    without labels draws uniform classes. Logged keys: as ``gan``
    (:class:`~genbench_builtin.models.gan.BCEGAN`), for image-label pairs; held out, real test
    images come with their labels and the fakes are drawn for the same labels.
    """

    name = "cgan"
    description = "Conditional GAN (Mirza & Osindero 2014): MLPs fed a label embedding, BCE, k = 1"
    conditional = True
    # Not bf16, like gan (its MLPs): on Fashion-MNIST at 50 kimg bf16 left it worse on every metric,
    # KID (7810 ± 300 in float32, 8791 ± 51 in bf16) and recall in the classifier's features (0.017
    # against 0.002) beyond the float32 seed spread, its samples' class accuracy 0.21 against 0.12; on
    # digits its class accuracy and precision fell too, within the spread
    # (benchmarks/results/bf16-quality.md).
    bf16_safe = False

    @dataclass
    class Hparams(BCEGANHparams):
        """The conditional GAN's hyperparameters: ``gan``'s (see :class:`BCEGANHparams` for each
        default's source) and the size of the label embeddings."""

        d_steps: int = 1  # The paper's; report "004" used several (see the class docstring).
        label_dim: int = 10  # Embedding size per network: the class count of the built-in datasets.
        model_name: ClassVar[str] = "cgan"  # Named in the messages of __post_init__.

        def __post_init__(self) -> None:
            super().__post_init__()
            check_hparams(self.model_name, self)

    hparams: Hparams

    def __init__(self, shape: DataShape, hparams: Hparams) -> None:
        super().__init__(shape, hparams)
        classes, label_dim, width = max(shape.num_classes, 1), hparams.label_dim, hparams.width
        self.generator = LabelConcat(
            classes, label_dim, mlp_generator(hparams.latent_dim + label_dim, width, shape)
        )
        self.discriminator = LabelConcat(
            classes, label_dim, mlp_discriminator(pixel_count(shape) + label_dim, width, hparams.d_dropout)
        )
        he_init(self, LEAKY_SLOPE)  # Linear layers only: the embeddings keep their N(0, 1) entries.
        self._make_optimizers()

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """Images for latents ``z`` and their classes ``labels``."""
        if labels is None:
            raise ValueError("cgan needs a label per latent")
        return self.generator(z, labels)

    def discriminate(self, images: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """Logits ``(B,)`` for image-label pairs."""
        if labels is None:
            raise ValueError("cgan needs a label per image")
        return self.discriminator(images, labels)
