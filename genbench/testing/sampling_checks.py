"""The model checks of sampling: images, labels, held-out estimates and the optional latent API."""

from __future__ import annotations

import torch

from genbench.api import DataShape, Model
from genbench.contract import range_problem
from genbench.testing.failures import ContractError, listed, model_check, require
from genbench.testing.inputs import BATCH, batch_images, batch_labels, build, copy_buffers, train_on_batch
from genbench.testing.training_checks import require_logs


def require_images(images: object, n: int, shape: DataShape, what: str) -> None:
    """``n`` float32 images of ``shape`` without gradients, all in [-1, 1]."""
    rule = f"{what} images"
    require(isinstance(images, torch.Tensor), rule, f"got a {type(images).__name__}", "return a tensor")
    assert isinstance(images, torch.Tensor)
    expected = (n, *shape.image_shape)
    require(tuple(images.shape) == expected, rule, f"shape {tuple(images.shape)}", f"return {expected}")
    require(images.dtype == torch.float32, rule, f"dtype {images.dtype}", "return float32 images")
    require(not images.requires_grad, rule, "the images require grad", f"run {what} under torch.no_grad()")
    problem = range_problem(what, images)
    if problem:
        raise ContractError(f"{what} range: {problem}")


def require_untouched(model: Model, buffers: dict[str, torch.Tensor], what: str) -> None:
    """``what`` left the model in training mode with its buffers as they were."""
    fix = f"wrap {what} in genbench.blocks.eval_mode or restore the mode and buffers yourself"
    require(model.training, f"{what} mode", f"{what} left the model in eval mode", fix)
    changed = [n for n, b in model.named_buffers() if not torch.equal(b, buffers[n])]
    require(not changed, f"{what} mode", f"{what} changed buffers {listed(changed)}", fix)


@model_check
def check_sampling(model_cls: type[Model], shape: DataShape) -> None:
    """``sample`` gives float32 images of the right shape, strictly in [-1, 1], determined by the
    generator, and leaves the model's mode and buffers as they were."""
    model = build(model_cls, shape)
    train_on_batch(model, 0)
    buffers = copy_buffers(model)
    samples = model.sample(16, torch.Generator().manual_seed(0))
    require_images(samples, 16, shape, "sample")
    require(
        torch.equal(samples, model.sample(16, torch.Generator().manual_seed(0))),
        "sample noise",
        "the same seed gave other samples",
        "draw all sampling noise with generator=generator",
    )
    require(
        not torch.equal(samples, model.sample(16, torch.Generator().manual_seed(1))),
        "sample noise",
        "another seed gave the same samples",
        "draw the sampling noise with generator=generator",
    )
    require_untouched(model, buffers, "sample")


@model_check
def check_labels(model_cls: type[Model], shape: DataShape) -> None:
    """Conditional models draw each image for its requested label; unconditional ones ignore labels."""
    model = build(model_cls, shape)
    train_on_batch(model, 0)
    zeros, ones = torch.zeros(6, dtype=torch.long), torch.ones(6, dtype=torch.long)

    def draw(labels: torch.Tensor) -> torch.Tensor:
        return model.sample(6, torch.Generator().manual_seed(0), labels)

    require(
        torch.equal(draw(zeros), draw(zeros)),
        "labels",
        "the same labels and seed gave other samples",
        "draw all sampling noise with generator=generator",
    )
    if model.conditional:  # The instance's: a hyperparameter may decide it, as the runner reads it.
        require(
            not torch.equal(draw(zeros), draw(ones)),
            "labels",
            "a conditional model ignores labels",
            "condition the generator on labels, or set conditional = False",
        )
    else:
        require(
            torch.equal(draw(zeros), draw(ones)),
            "labels",
            "an unconditional model changes with labels",
            "ignore labels, or set conditional = True",
        )


@model_check
def check_estimates(model_cls: type[Model], shape: DataShape) -> None:
    """Held-out estimates are finite scalars, repeatable, and leave the training noise stream alone."""
    model = build(model_cls, shape)
    train_on_batch(model, 0)
    model.eval()
    state = torch.get_rng_state()
    with torch.no_grad():
        first = model.estimate(batch_images(shape, 5), batch_labels(shape, 5))
        second = model.estimate(batch_images(shape, 5), batch_labels(shape, 5))
    require_logs(first, "estimate")
    changed = [k for k in first if not torch.equal(first[k], second[k])]
    require(
        not changed,
        "estimate",
        f"{listed(changed)} differ between two calls on the same images",
        "draw any noise from a torch.Generator seeded inside estimate",
    )
    require(
        torch.equal(torch.get_rng_state(), state),
        "estimate",
        "it drew from torch's global generator",
        "draw its noise from a torch.Generator of its own: the global one is training's",
    )


@model_check
def check_latents(model_cls: type[Model], shape: DataShape) -> None:
    """The optional latent API (skipped where ``latents`` raises ``NotImplementedError``): latents are
    determined by the generator, and decoding them gives exactly what ``sample`` gives for the same
    seed and labels, in [-1, 1], leaving the model's mode and buffers as they were."""
    model = build(model_cls, shape)
    train_on_batch(model, 0)

    def draw(seed: int) -> torch.Tensor:
        return model.latents(5, torch.Generator().manual_seed(seed))

    try:
        latents = draw(0)
    except NotImplementedError:
        return
    require(
        isinstance(latents, torch.Tensor) and latents.shape[0] == 5,
        "latents",
        f"latents(5, g) gave {getattr(latents, 'shape', type(latents).__name__)}",
        "return (5, ...)",
    )
    require(torch.equal(latents, draw(0)), "latents", "the same seed gave other latents", "use generator=")
    require(
        not torch.equal(latents, draw(1)),
        "latents",
        "another seed gave the same latents",
        "draw them with generator=generator",
    )
    prior = model.latent_prior
    require(
        prior in ("normal", "uniform"), "latents", f"latent_prior is {prior!r}", "use 'normal' or 'uniform'"
    )
    labels = torch.arange(5) % shape.num_classes if model.conditional else None
    buffers = copy_buffers(model)
    decoded = model.decode(latents, labels)
    require_images(decoded, 5, shape, "decode")
    require(
        torch.equal(decoded, model.sample(5, torch.Generator().manual_seed(0), labels)),
        "latents",
        "decode(latents(n, g), labels) is not sample(n, g, labels)",
        "draw sample's noise exactly as latents does, then decode it (genbench.blocks.LatentModel does)",
    )
    require_untouched(model, buffers, "decode")


@model_check
def check_encoding(model_cls: type[Model], shape: DataShape) -> None:
    """The optional encoder (skipped where ``encode`` raises ``NotImplementedError``): a repeatable
    batch of latents, shaped like the prior's, that ``decode`` turns back into images."""
    model = build(model_cls, shape)
    train_on_batch(model, 0)
    images, labels = batch_images(shape, 1), batch_labels(shape, 1)
    try:
        codes = model.encode(images, labels)
    except NotImplementedError:
        return
    prior = model.latents(1, torch.Generator().manual_seed(0))  # An encoder implies a latent space.
    require(
        codes.shape == (BATCH, *prior.shape[1:]),
        "encode",
        f"codes {tuple(codes.shape)}, latents {tuple(prior.shape)}",
        "return one latent per image, shaped like latents' output",
    )
    require(not codes.requires_grad, "encode", "codes require grad", "encode under torch.no_grad()")
    require(
        torch.equal(codes, model.encode(images, labels)),
        "encode",
        "two calls differ",
        "return the posterior mean, not a sample",
    )
    require_images(model.decode(codes, labels), BATCH, shape, "decode")
    require(model.training, "encode mode", "encode left the model in eval mode", "restore the mode")
