"""The model contract: checks every model plugin must pass, built-in or third-party.

Each check builds the model itself and raises ``AssertionError`` with a message on failure, so any
test runner can call them; genbench's own suite runs every check for every registered model at every
built-in shape (``tests/test_model_contract.py``). The optional latent API (``latents``, ``decode``,
``encode``) is checked where a model implements it. A plugin author runs them the same way::

    import pytest
    from genbench.contract import CHECKS, SHAPES

    @pytest.mark.parametrize("check", CHECKS)
    @pytest.mark.parametrize("shape", SHAPES)
    def test_contract(check, shape):
        check(MyModel, shape)
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Callable

import torch

from genbench.api import DataShape, Model

# The shapes of the built-in datasets: digits, MNIST / Fashion-MNIST, CIFAR-10.
SHAPES = (DataShape(1, 8, 10), DataShape(1, 28, 10), DataShape(3, 32, 10))
BATCH = 8
MAX_STEPS = 12  # Enough for a generator step of models that update their critic several times first.


def _build(model_cls: type[Model], shape: DataShape, seed: int = 0) -> Model:
    torch.manual_seed(seed)
    return model_cls.build(shape)


def _images(shape: DataShape, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand((BATCH, *shape.image_shape), generator=generator) * 2 - 1


def _labels(shape: DataShape, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, shape.num_classes, (BATCH,), generator=generator)


def _assert_scalar_logs(logs: dict[str, torch.Tensor], what: str) -> None:
    assert isinstance(logs, dict), f"{what} must return a dict, got {type(logs).__name__}"
    for key, value in logs.items():
        assert isinstance(value, torch.Tensor) and value.ndim == 0, f"{what}: '{key}' is not a scalar tensor"
        assert not value.requires_grad, f"{what}: '{key}' is not detached"
        assert torch.isfinite(value), f"{what}: '{key}' is {value}"


def _buffers(model: Model) -> dict[str, torch.Tensor]:
    return {name: b.clone() for name, b in model.named_buffers()}


def check_builds_on_the_current_device(model_cls: type[Model], shape: DataShape) -> None:
    """Every tensor is created on the device the runner makes current: no hard-coded device."""
    with torch.device("meta"):
        model = model_cls.build(shape)
    tensors = [*model.parameters(), *model.buffers()]
    assert tensors, "the model has no parameters"
    assert all(t.is_meta for t in tensors), "some tensors were not created on the current device"


def check_training_steps(model_cls: type[Model], shape: DataShape) -> None:
    """Steps return finite, detached scalar tensors, and within a few steps every network trains.

    Per network (each top-level submodule with parameters), not per parameter: some parameters get
    no gradient by construction (a Wasserstein critic's output bias shifts real and fake alike).
    """
    model = _build(model_cls, shape)
    assert model.optimizers, "the model registers no optimizer in self.optimizers"
    networks = {name: net for name, net in model.named_children() if any(True for _ in net.parameters())}
    before = {name: [p.detach().clone() for p in net.parameters()] for name, net in networks.items()}
    for step in range(MAX_STEPS):
        _assert_scalar_logs(model.train_step(_images(shape, step), _labels(shape, step)), "train_step")
        untrained = [
            name
            for name, net in networks.items()
            if all(
                torch.equal(p.detach(), old) for p, old in zip(net.parameters(), before[name], strict=True)
            )
        ]
        if not untrained:
            return
    raise AssertionError(f"after {MAX_STEPS} steps these networks never changed: {', '.join(untrained)}")


def check_sampling(model_cls: type[Model], shape: DataShape) -> None:
    """``sample`` gives images of the right shape, dtype and range, determined by the generator,
    and leaves the model's mode and buffers as they were."""
    model = _build(model_cls, shape)
    model.train_step(_images(shape), _labels(shape))
    buffers = _buffers(model)
    samples = model.sample(5, torch.Generator().manual_seed(0))
    assert samples.shape == (5, *shape.image_shape), f"sample shape {tuple(samples.shape)}"
    assert samples.dtype == torch.float32, f"samples are {samples.dtype}, not float32"
    assert not samples.requires_grad, "samples require grad: sample under torch.no_grad()"
    assert samples.min() >= -1 and samples.max() <= 1, "samples leave [-1, 1]"
    assert torch.equal(samples, model.sample(5, torch.Generator().manual_seed(0))), "same seed, other samples"
    assert not torch.equal(samples, model.sample(5, torch.Generator().manual_seed(1))), "seed is ignored"
    assert model.training, "sampling left the model in eval mode"
    assert all(torch.equal(b, buffers[n]) for n, b in model.named_buffers()), "sampling changed buffers"


def check_labels(model_cls: type[Model], shape: DataShape) -> None:
    """Conditional models draw each image for its requested label; unconditional ones ignore labels."""
    model = _build(model_cls, shape)
    model.train_step(_images(shape), _labels(shape))
    zeros, ones = torch.zeros(6, dtype=torch.long), torch.ones(6, dtype=torch.long)

    def draw(labels: torch.Tensor) -> torch.Tensor:
        return model.sample(6, torch.Generator().manual_seed(0), labels)

    assert torch.equal(draw(zeros), draw(zeros)), "same labels and seed, other samples"
    if model_cls.conditional:
        assert not torch.equal(draw(zeros), draw(ones)), "a conditional model ignores its labels"
    else:
        assert torch.equal(draw(zeros), draw(ones)), "an unconditional model changes with labels"


def check_estimates(model_cls: type[Model], shape: DataShape) -> None:
    """Held-out estimates are finite scalars, repeatable, and leave the training noise stream alone."""
    model = _build(model_cls, shape)
    model.train_step(_images(shape), _labels(shape))
    model.eval()
    state = torch.get_rng_state()
    with torch.no_grad():
        first = model.estimate(_images(shape, 5), _labels(shape, 5))
        second = model.estimate(_images(shape, 5), _labels(shape, 5))
    _assert_scalar_logs(first, "estimate")
    assert all(torch.equal(first[k], second[k]) for k in first), "estimate is not repeatable"
    assert torch.equal(torch.get_rng_state(), state), "estimate drew from the global random stream"


def check_hyperparameters(model_cls: type[Model], shape: DataShape) -> None:
    """Hyperparameters are a dataclass of defaults that round-trips through JSON."""
    hparams = model_cls.resolve_hparams()
    assert dataclasses.is_dataclass(hparams) and isinstance(hparams, model_cls.Hparams)
    assert model_cls.Hparams(**json.loads(json.dumps(dataclasses.asdict(hparams)))) == hparams
    assert hparams.batch_size >= 1


def check_checkpoint(model_cls: type[Model], shape: DataShape) -> None:
    """A checkpoint saved to bytes and loaded with ``weights_only=True`` restores the samples."""
    model = _build(model_cls, shape)
    for step in range(2):
        model.train_step(_images(shape, step), _labels(shape, step))
    buffer = io.BytesIO()
    torch.save(model.checkpoint_state(), buffer)
    buffer.seek(0)
    fresh = _build(model_cls, shape, seed=1)
    fresh.load_checkpoint_state(torch.load(buffer, weights_only=True))
    generator = torch.Generator().manual_seed(3)
    expected = model.sample(4, generator)
    assert torch.equal(fresh.sample(4, generator.manual_seed(3)), expected), "a restored checkpoint differs"


def _assert_decoded(images: torch.Tensor, n: int, shape: DataShape, what: str) -> None:
    assert images.shape == (n, *shape.image_shape), f"{what} shape {tuple(images.shape)}"
    assert images.dtype == torch.float32, f"{what} are {images.dtype}, not float32"
    assert not images.requires_grad, f"{what} require grad: decode under torch.no_grad()"
    assert images.min() >= -1 and images.max() <= 1, f"{what} leave [-1, 1]"


def check_latents(model_cls: type[Model], shape: DataShape) -> None:
    """The optional latent API (skipped where ``latents`` raises ``NotImplementedError``): latents are
    determined by the generator, and decoding them gives exactly what ``sample`` gives for the same
    seed and labels, leaving the model's mode and buffers as they were."""
    model = _build(model_cls, shape)
    model.train_step(_images(shape), _labels(shape))

    def draw(seed: int) -> torch.Tensor:
        return model.latents(5, torch.Generator().manual_seed(seed))

    try:
        latents = draw(0)
    except NotImplementedError:
        return
    assert isinstance(latents, torch.Tensor) and latents.shape[0] == 5, "latents(5, g) is not 5 latents"
    assert torch.equal(latents, draw(0)), "same seed, other latents"
    assert not torch.equal(latents, draw(1)), "seed is ignored"
    prior = model.latent_prior
    assert prior in ("normal", "uniform"), f"latent_prior is {prior!r}, not 'normal' or 'uniform'"
    labels = torch.arange(5) % shape.num_classes if model_cls.conditional else None
    buffers = _buffers(model)
    decoded = model.decode(latents, labels)
    _assert_decoded(decoded, 5, shape, "decoded images")
    expected = model.sample(5, torch.Generator().manual_seed(0), labels)
    assert torch.equal(decoded, expected), "decode(latents(n, g), labels) is not sample(n, g, labels)"
    assert model.training, "decode left the model in eval mode"
    assert all(torch.equal(b, buffers[n]) for n, b in model.named_buffers()), "decode changed buffers"


def check_encoding(model_cls: type[Model], shape: DataShape) -> None:
    """The optional encoder (skipped where ``encode`` raises ``NotImplementedError``): a repeatable
    batch of latents, shaped like the prior's, that ``decode`` turns back into images."""
    model = _build(model_cls, shape)
    model.train_step(_images(shape), _labels(shape))
    images, labels = _images(shape, 1), _labels(shape, 1)
    try:
        codes = model.encode(images, labels)
    except NotImplementedError:
        return
    prior = model.latents(1, torch.Generator().manual_seed(0))  # An encoder implies a latent space.
    assert codes.shape == (BATCH, *prior.shape[1:]), f"codes {tuple(codes.shape)}, latents {prior.shape}"
    assert not codes.requires_grad, "codes require grad: encode under torch.no_grad()"
    assert torch.equal(codes, model.encode(images, labels)), "encode is not repeatable"
    _assert_decoded(model.decode(codes, labels), BATCH, shape, "decoded codes")
    assert model.training, "encode left the model in eval mode"


CHECKS: tuple[Callable[[type[Model], DataShape], None], ...] = (
    check_builds_on_the_current_device,
    check_training_steps,
    check_sampling,
    check_labels,
    check_estimates,
    check_hyperparameters,
    check_checkpoint,
    check_latents,
    check_encoding,
)
