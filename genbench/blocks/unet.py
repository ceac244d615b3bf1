"""A small U-Net for denoising and velocity networks: image, noise level and (optionally) class in, a
tensor of the image's shape out. The network of DDPM (Ho et al. 2020, appendix B), a PixelCNN++-style
U-Net after Ronneberger et al. (2015), scaled down for 8x8 to 32x32 images.

Per resolution level: residual blocks (GroupNorm, SiLU, 3x3 convolutions, the time-and-class vector
added after the first convolution, dropout before the second) and a skip connection to the
mirror-image level on the way up; between levels, a stride-2 convolution down, and up a
nearest-neighbour upsampling plus a convolution to the finer level's width; in the middle, at the
coarsest resolution, a residual block, single-head self-attention and another residual block (Ho et
al. also attend at 16x16, which costs more than it gives at these sizes). One skip per level, not
Ho et al.'s one per block, keeps the fine levels (most of the cost) light.

The depth adapts to the resolution with the conv ladder's rule (:func:`~genbench.blocks.ladder_plan`):
exact halvings down to at least 4x4 pixels, at most three: 8 -> 4, 16 -> 8 -> 4, 28 -> 14 -> 7,
32 -> 16 -> 8 -> 4. The widths follow Ho et al.'s CIFAR-10 multipliers (1, 2, 2, 2) of ``base_channels``.
"""

from __future__ import annotations

import itertools
import math
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from genbench.blocks.conv_ladder import ladder_plan
from genbench.blocks.embeddings import LabelEmbedding, TimeEmbedding

CHANNEL_MULTIPLIERS = (1, 2, 2, 2)  # Ho et al.'s CIFAR-10 network, one entry per resolution level.
NORM_GROUPS = 8  # GroupNorm's groups (at most; a divisor of the width): Ho et al. use 32 of 128 channels.


def group_norm(channels: int) -> nn.GroupNorm:
    """GroupNorm with up to :data:`NORM_GROUPS` groups (Wu & He 2018), as Ho et al. normalise: it
    needs no batch statistics, so an image's output never depends on the rest of its batch."""
    return nn.GroupNorm(math.gcd(channels, NORM_GROUPS), channels)


def unet_widths(resolution: int, base_channels: int) -> tuple[int, ...]:
    """The width of each resolution level, finest first: one level more than the ladder's halvings."""
    stages = ladder_plan(resolution, base_channels).stages
    return tuple(base_channels * m for m in CHANNEL_MULTIPLIERS[: stages + 1])


class ResBlock(nn.Module):
    """Ho et al.'s residual block: ``x + conv(drop(act(norm(conv(act(norm(x))) + proj(emb)))))``, with a
    1x1 convolution on the shortcut where the width changes."""

    def __init__(self, in_channels: int, out_channels: int, emb_features: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.norm1 = group_norm(in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.emb = nn.Linear(emb_features, out_channels)
        self.norm2 = group_norm(out_channels)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.shortcut = (
            nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()
        )

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        """``(B, out_channels, H, W)`` for features ``x`` and the conditioning vector ``emb``."""
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(F.silu(emb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return self.shortcut(x) + h


class SelfAttention(nn.Module):
    """Single-head self-attention over the pixels of a feature map, with a residual connection (the
    attention block of Ho et al., from Wang et al. 2018's non-local networks)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = group_norm(channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` plus attention over its ``H * W`` positions."""
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).flatten(2).transpose(1, 2).chunk(3, dim=2)  # (B, HW, C) each.
        attended = F.scaled_dot_product_attention(q, k, v)
        return x + self.out(attended.transpose(1, 2).reshape(b, c, h, w))


def _level(in_channels: int, width: int, blocks: int, emb_features: int, dropout: float) -> nn.ModuleList:
    """``blocks`` residual blocks, the first from ``in_channels`` to ``width``."""
    return nn.ModuleList(
        ResBlock(in_channels if i == 0 else width, width, emb_features, dropout) for i in range(blocks)
    )


class UNet(nn.Module):
    """``forward(x, t, labels=None)``: images or noisy images ``x`` ``(B, channels, R, R)``, noise levels
    or times ``t`` ``(B,)`` (embedded by :class:`TimeEmbedding`, so give DDPM's integer steps or
    continuous times scaled to a similar range) and optional int class labels ``(B,)`` -> a tensor
    like ``x`` (predicted noise, velocity, ...).

    With ``num_classes > 0`` the network is class-conditional through a :class:`LabelEmbedding` added
    to the time vector; ``labels=None`` (or entries equal to :attr:`null_label`) is the null class,
    the unconditional branch of classifier-free guidance, which sees no label. With ``num_classes =
    0`` it is unconditional and refuses labels. ``res_blocks`` residual blocks per level and side;
    ``attention`` adds the middle self-attention.
    """

    def __init__(
        self,
        channels: int,
        resolution: int,
        base_channels: int = 32,
        res_blocks: int = 1,
        num_classes: int = 0,
        dropout: float = 0.0,
        attention: bool = True,
    ) -> None:
        super().__init__()
        widths = unet_widths(resolution, base_channels)
        emb_features = 4 * base_channels
        self.time = TimeEmbedding(base_channels, emb_features)
        self.labels = LabelEmbedding(num_classes, emb_features) if num_classes > 0 else None
        self.stem = nn.Conv2d(channels, widths[0], 3, padding=1)
        previous = (widths[0], *widths[:-1])
        self.down = nn.ModuleList(
            _level(p, w, res_blocks, emb_features, dropout) for p, w in zip(previous, widths, strict=True)
        )
        self.downsample = nn.ModuleList(nn.Conv2d(w, w, 3, stride=2, padding=1) for w in widths[:-1])
        top = widths[-1]
        self.middle = nn.ModuleList(
            [ResBlock(top, top, emb_features, dropout), ResBlock(top, top, emb_features, dropout)]
        )
        self.attention = SelfAttention(top) if attention else nn.Identity()
        # Each level's upsampling convolution narrows to the finer level's width, so every level on the
        # way up joins two maps of its own width (and the costly fine levels stay narrow).
        self.up = nn.ModuleList(_level(2 * w, w, res_blocks, emb_features, dropout) for w in widths)
        self.upsample = nn.ModuleList(
            nn.Conv2d(coarse, fine, 3, padding=1) for fine, coarse in itertools.pairwise(widths)
        )
        self.head = nn.Sequential(
            group_norm(widths[0]), nn.SiLU(), nn.Conv2d(widths[0], channels, 3, padding=1)
        )

    @property
    def null_label(self) -> int:
        """The label that means "no class" (the unconditional branch); -1 for an unconditional net."""
        return self.labels.null if self.labels is not None else -1

    def embed(self, t: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """The conditioning vector ``(B, 4 * base_channels)`` of times ``t`` and ``labels``."""
        emb = self.time(t)
        if self.labels is not None:
            emb = emb + self.labels(labels, t.shape[0])
        elif labels is not None:
            raise ValueError("this UNet is unconditional (num_classes=0) and takes no labels")
        return emb

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """A tensor like ``x`` for noisy images ``x``, times ``t`` ``(B,)`` and optional ``labels``."""
        emb = self.embed(t, labels)
        h = self.stem(x)
        skips = []
        for i, blocks in enumerate(self.down):
            for block in cast(nn.ModuleList, blocks):
                h = block(h, emb)
            skips.append(h)
            if i < len(self.downsample):
                h = self.downsample[i](h)
        h = self.attention(self.middle[0](h, emb))
        h = self.middle[1](h, emb)
        for i in reversed(range(len(self.up))):
            h = torch.cat([h, skips[i]], dim=1)
            for block in cast(nn.ModuleList, self.up[i]):
                h = block(h, emb)
            if i > 0:  # Nearest-neighbour then a convolution: no checkerboard of transposed convs.
                h = self.upsample[i - 1](F.interpolate(h, scale_factor=2.0, mode="nearest"))
        return self.head(h)
