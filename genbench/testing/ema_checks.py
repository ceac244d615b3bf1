"""The model check of exponential moving averages: a model holding a :class:`genbench.blocks.EMA`
samples with the average, not with the weights it trains."""

from __future__ import annotations

import torch

from genbench.api import DataShape, Model
from genbench.blocks.ema import EMA
from genbench.testing.failures import listed, model_check, require
from genbench.testing.inputs import build, train_on_batch

SAMPLES = 2  # Whole sampling chains run twice: the fewest images that still show a change.
STEPS = 2  # Training steps first, so the average and the trained weights differ.
PERTURBATION = 0.1  # The standard deviation of the noise added to each trained weight.


def perturb(network: torch.nn.Module, seed: int = 0) -> None:
    """Add seeded Gaussian noise to every parameter of ``network``, in place."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in network.parameters():
            noise = torch.randn(parameter.shape, generator=generator) * PERTURBATION
            parameter.add_(noise.to(parameter))


@model_check
def check_ema_sampling(model_cls: type[Model], shape: DataShape) -> None:
    """A model holding a :class:`~genbench.blocks.EMA` samples with the average: after a few training
    steps, changing the trained network's weights (each EMA's ``source``) leaves the samples under
    a fixed generator exactly as they were. Skipped for models without an EMA."""
    model = build(model_cls, shape)
    averages = {name: module for name, module in model.named_modules() if isinstance(module, EMA)}
    if not averages:
        return
    for step in range(STEPS):
        train_on_batch(model, step)
    labels = torch.arange(SAMPLES) % shape.num_classes if model.conditional else None
    before = model.sample(SAMPLES, torch.Generator().manual_seed(0), labels)
    # The trained weights change and the averages stay: samples that follow are drawn with trained
    # weights. Perturbing the trained network rather than the average is the robust way round: it
    # asks for exact equality (torch.equal under one generator), which no clamping of saturated
    # samples can fake, it catches a sampler mixing both networks, and an EMA the model keeps of a
    # network that never samples (a critic, an encoder) passes, where perturbing the average would
    # call it unused.
    for ema in averages.values():
        perturb(ema.source)
    after = model.sample(SAMPLES, torch.Generator().manual_seed(0), labels)
    name = next(iter(averages))
    require(
        torch.equal(before, after),
        "EMA sampling",
        f"the samples changed when only the trained weights averaged by {listed(list(averages))} "
        "changed: sample uses the trained network, not its exponential moving average",
        f"sample (and decode) with self.{name}.network, the average; the trained network is for "
        "train_step only",
    )
