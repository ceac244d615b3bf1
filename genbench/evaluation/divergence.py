"""Independent divergence estimates between real and generated images, comparable across models.

A model's own estimates (its discriminator's JSD, its critic's Earth-Mover distance) depend on its
networks, so they cannot be compared between models. Here every model is measured by *fresh* networks
of one fixed architecture, trained with one fixed recipe and budget after training (the Neural Net
Divergence of Gulrajani et al., 2019, "Towards GAN benchmarks which require generalization"):

- ``jsd_clf``: a classifier trained on real vs generated images; its held-out binary cross-entropy
  ``L`` (averaged over both classes) gives the Jensen–Shannon estimate ``log 2 − L`` in nats.
- ``w1_critic``: a WGAN-GP critic (gradient penalty 10); ``E f(real) − E f(generated)`` on held-out
  images estimates the Earth-Mover (W1) distance, in units of [-1, 1] pixels under the L2 norm.

Each estimator is trained on one half of the real reference images against one half of the generated
ones and evaluated on the other halves, so memorising its training images earns it nothing. The
classifier keeps the weights that scored best on a validation part of its training half (its
cross-entropy overfits); the critic keeps its final weights: on a small reference split the validation
part is a few dozen images, too few to pick a critic by (the pick was then a critic of the first 25
steps, whose held-out gap is noise around 0 even against clearly corrupted images).

The functions here return the raw held-out values, which can be below 0 (the estimator's noise around
0 for real vs real images); the metrics floor them at 0 and record the raw value
(genbench.evaluation.estimates): the constant classifier/critic belongs to the family, and a
held-out value below it only measures noise.
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from genbench.core.images import to_unit_range
from genbench.core.progress import ProgressSink, SilentProgress
from genbench.core.run_spec import DivergenceSettings
from genbench.evaluation.adaptive_pool import AdaptiveAvgPool
from genbench.evaluation.deterministic import deterministic

VALIDATE_EVERY = 25  # Steps between validation checks (early stopping)...
MAX_VALIDATION = 512  # ...on a fifth of the training halves, at most this many images a side.
# Estimators may train side by side in threads (genbench.evaluation.estimates): one at a time seeds
# torch's global generators to initialise its network.
_INITIALISING = threading.Lock()
# A training loss: the estimator, a batch of real and of generated images, the generator of its noise.
Loss = Callable[[nn.Module, torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor]


class EstimatorNet(nn.Module):
    """The one estimator architecture: three strided convs, pooled to a 4x4 grid, a linear output.
    No normalisation layers, as the gradient penalty needs per-sample gradients."""

    def __init__(self, channels: int, width: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 4 * width, 3, padding=1),
            nn.LeakyReLU(0.2),
            AdaptiveAvgPool(4),  # nn.AdaptiveAvgPool2d(4), deterministic on CUDA too.
            nn.Flatten(),
            nn.Linear(4 * width * 16, 1),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """One score per image in [-1, 1]: a logit (classifier) or a critic value."""
        return self.net(images).squeeze(1)


@dataclass(frozen=True)
class Halves:
    """Real and generated images in [-1, 1], each cut into a training half and a held-out half."""

    real_train: torch.Tensor
    real_test: torch.Tensor
    fake_train: torch.Tensor
    fake_test: torch.Tensor

    @property
    def n_validation(self) -> int:
        """Images a side of the training halves keeps back for early stopping."""
        return min(max(1, len(self.real_train) // 5), MAX_VALIDATION)

    def batch_size(self, settings: DivergenceSettings) -> int:
        """Images a side per step: the settings' batch, or fewer where the halves are smaller."""
        return min(settings.batch_size, len(self.real_train) - self.n_validation)


def make_halves(
    real: torch.Tensor, fake: torch.Tensor, settings: DivergenceSettings, device: torch.device
) -> Halves:
    """Equal-sized halves of uint8 ``real`` and ``fake``: a seeded shuffle of each, cut in two, so that
    the classifier sees balanced classes and a sorted split cannot put one class in one half."""
    m = min(len(real) // 2, len(fake) // 2, settings.max_per_half)
    if m < 2:
        raise ValueError(f"divergence estimates need at least 4 real and 4 generated images, got {m * 2}")
    generator = torch.Generator().manual_seed(settings.seed)
    real = real[torch.randperm(len(real), generator=generator)[: 2 * m]]
    fake = fake[torch.randperm(len(fake), generator=generator)[: 2 * m]]
    # One memory layout whatever the images came in: a convolution on channels-last strides (images
    # read back from an npz or PNGs, (N, H, W, C) permuted) sums in another order, and the estimate
    # came out different in its last digits (jsd_clf 0.692010791813855 scored, 0.6920107915810244 run).
    layout = torch.contiguous_format
    real, fake = (to_unit_range(x.to(device)).clone(memory_format=layout) for x in (real, fake))
    return Halves(real[:m], real[m:], fake[:m], fake[m:])


def _initialised(
    settings: DivergenceSettings, channels: int, device: torch.device
) -> tuple[nn.Module, torch.Generator]:
    """A fresh estimator initialised from ``settings.seed``, and the generator its training draws noise
    from: torch's global generator as that initialisation left it, so the draws are the ones an
    estimator trained alone has always made, while other threads' use of the global generators, before
    and after, neither changes them nor is changed (the caller's random state is restored)."""
    cuda = device.type == "cuda"
    index = (device.index if device.index is not None else torch.cuda.current_device()) if cuda else None
    with _INITIALISING, torch.random.fork_rng(devices=[index] if cuda else []):
        seeded = torch.cuda.default_generators[index] if index is not None else torch.default_generator
        seeded.manual_seed(settings.seed)
        with torch.device(device):
            net = EstimatorNet(channels, settings.width)
        noise = torch.Generator(device=device)
        noise.set_state(seeded.get_state())
    return net, noise


def _train(
    loss_of: Loss,
    score_of: Callable[[nn.Module, torch.Tensor, torch.Tensor], float],
    halves: Halves,
    lr: float,
    betas: tuple[float, float],
    settings: DivergenceSettings,
    progress: ProgressSink,
    early_stopping: bool = True,
) -> nn.Module:
    """Train a fresh estimator for ``settings.steps`` on random batches of the training halves and
    return it at its best ``score_of`` on a validation part of them (``early_stopping``), or as it
    ends. The progress sink counts steps."""
    real, fake = halves.real_train, halves.fake_train
    n_fit = len(real) - halves.n_validation
    batch = halves.batch_size(settings)
    net, noise = _initialised(settings, real.shape[1], real.device)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr, betas=betas)
    generator = torch.Generator().manual_seed(settings.seed)
    best_score, best_state = -math.inf, copy.deepcopy(net.state_dict())
    for step in range(1, settings.steps + 1):
        real_index, fake_index = torch.randint(n_fit, (2, batch), generator=generator).to(real.device)
        loss = loss_of(net, real[real_index], fake[fake_index], noise)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % VALIDATE_EVERY == 0 or step == settings.steps:
            if early_stopping:
                score = score_of(net, real[n_fit:], fake[n_fit:])
                if score > best_score:
                    best_score, best_state = score, copy.deepcopy(net.state_dict())
            progress.update(step, step)
    if early_stopping:
        net.load_state_dict(best_state)
    return net.eval()


def _classifier_loss(
    net: nn.Module, real: torch.Tensor, fake: torch.Tensor, noise: torch.Generator
) -> torch.Tensor:
    logits = net(torch.cat([real, fake]))
    targets = torch.cat([torch.ones_like(logits[: len(real)]), torch.zeros_like(logits[len(real) :])])
    return F.binary_cross_entropy_with_logits(logits, targets)


def _critic_loss(
    net: nn.Module, real: torch.Tensor, fake: torch.Tensor, noise: torch.Generator, gp_weight: float
) -> torch.Tensor:
    # WGAN-GP (Gulrajani et al., 2017): the penalty keeps the critic's gradient norm near 1 on
    # random interpolates, a soft version of the 1-Lipschitz constraint that makes the gap W1.
    eps = torch.rand(len(real), 1, 1, 1, device=real.device, generator=noise)
    mixed = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(net(mixed).sum(), mixed, create_graph=True)
    penalty = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
    return net(fake).mean() - net(real).mean() + gp_weight * penalty


@torch.inference_mode()
def _scores(net: nn.Module, images: torch.Tensor) -> torch.Tensor:
    return torch.cat([net(chunk) for chunk in images.split(1024)])


def _jsd(net: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> float:
    """``log 2 − BCE`` of the classifier on these images, BCE averaged over the two classes."""
    bce = (F.softplus(-_scores(net, real)).mean() + F.softplus(_scores(net, fake)).mean()) / 2
    return math.log(2) - float(bce)  # softplus(-x) = -log sigmoid(x), softplus(x) = -log(1 - sigmoid(x)).


def _w1(net: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> float:
    """The critic's gap ``E f(real) − E f(fake)`` on these images."""
    return float(_scores(net, real).mean() - _scores(net, fake).mean())


@dataclass(frozen=True)
class HeldOut:
    """An estimate and the per-image terms it averages on the held-out halves: before its floor at 0,
    it is ``offset + mean(real) − mean(generated)``, so its interval resamples them
    (genbench.evaluation.estimates); ``high`` is the largest value the estimate can take."""

    value: float
    offset: float
    real: torch.Tensor
    generated: torch.Tensor
    high: float = math.inf


def jsd_estimate(halves: Halves, settings: DivergenceSettings, progress: ProgressSink | None = None) -> float:
    """Jensen–Shannon divergence estimate in nats, at most log 2: ``log 2 − held-out BCE`` (raw: noise
    can take it below 0)."""
    return jsd_held_out(halves, settings, progress).value


def jsd_held_out(
    halves: Halves, settings: DivergenceSettings, progress: ProgressSink | None = None
) -> HeldOut:
    """:func:`jsd_estimate` with its terms, for the trained classifier's logits s:
    ``log 2 − (mean softplus(−s(real)) + mean softplus(s(generated))) / 2``."""
    with deterministic():
        net = _train(
            _classifier_loss,
            _jsd,
            halves,
            settings.classifier_lr,
            (0.5, 0.999),
            settings,
            progress or SilentProgress(),
        )
        value = _jsd(net, halves.real_test, halves.fake_test)  # Raw: the metric floors it at 0.
        real, generated = (
            -F.softplus(-_scores(net, halves.real_test)) / 2,
            F.softplus(_scores(net, halves.fake_test)) / 2,
        )
    return HeldOut(value, math.log(2), real, generated, high=math.log(2))


def w1_estimate(halves: Halves, settings: DivergenceSettings, progress: ProgressSink | None = None) -> float:
    """Earth-Mover (W1) estimate: the held-out gap ``E f(real) − E f(fake)`` of a WGAN-GP critic with
    its final weights (raw: noise can take it below 0)."""
    return w1_held_out(halves, settings, progress).value


def w1_held_out(
    halves: Halves, settings: DivergenceSettings, progress: ProgressSink | None = None
) -> HeldOut:
    """:func:`w1_estimate` with its terms: the critic's values f on the held-out real and generated images."""

    def loss(net: nn.Module, real: torch.Tensor, fake: torch.Tensor, noise: torch.Generator) -> torch.Tensor:
        return _critic_loss(net, real, fake, noise, settings.gp_weight)

    with deterministic():
        net = _train(
            loss,
            _w1,
            halves,
            settings.critic_lr,
            (0.5, 0.9),
            settings,
            progress or SilentProgress(),
            early_stopping=False,
        )
        value = _w1(net, halves.real_test, halves.fake_test)  # Raw: the metric floors it at 0.
        return HeldOut(value, 0.0, _scores(net, halves.real_test), _scores(net, halves.fake_test))
