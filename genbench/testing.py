"""The plugin contract as checks a plugin's own tests run: every rule a model or dataset must keep for
its benchmark numbers to mean something.

Each check builds what it tests itself and raises :class:`ContractError` (an ``AssertionError``) whose
message names the rule, the offending key, tensor or parameter, what was found and what to do, so any
test runner can call them. A plugin's test file needs two lines per class::

    from genbench.testing import dataset_contract_tests, model_contract_tests

    test_model_contract = model_contract_tests(MyModel)  # Every check at every shape of SHAPES.
    test_dataset_contract = dataset_contract_tests(MyDataset)

or calls :func:`check_model` / :func:`check_dataset` directly. Importing this module does not need
pytest; the two ``*_contract_tests`` helpers import it when called.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import json
from collections.abc import Callable, Iterable
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, NoReturn

import torch

from genbench.api import Dataset, DataShape, Model, check_split
from genbench.contract import log_value_problem, range_problem
from genbench.errors import DataNotFoundError, UserError
from genbench.plugins import class_problem

__all__ = [
    "MODEL_CHECKS",
    "SHAPES",
    "ContractError",
    "check_builds_on_the_current_device",
    "check_checkpoint",
    "check_dataset",
    "check_encoding",
    "check_estimates",
    "check_hyperparameters",
    "check_labels",
    "check_latents",
    "check_model",
    "check_resume",
    "check_sampling",
    "check_training_steps",
    "dataset_contract_tests",
    "model_contract_tests",
]

# The shapes of the built-in datasets: digits, MNIST / Fashion-MNIST, CIFAR-10.
SHAPES = (DataShape(1, 8, 10), DataShape(1, 28, 10), DataShape(3, 32, 10))
BATCH = 8
MAX_STEPS = 12  # Enough for a generator step of models that update their critic several times first.
LISTED = 6  # Offending names listed in one message; the rest are counted.

ModelCheck = Callable[[type[Model], DataShape], None]


class ContractError(AssertionError):
    """A broken rule of the plugin contract. The message reads ``WHO: RULE: WHAT WAS FOUND; WHAT TO DO``."""


def _fail(rule: str, found: str, fix: str) -> NoReturn:
    raise ContractError(f"{rule}: {found}; {fix}")


def _require(ok: object, rule: str, found: str, fix: str) -> None:
    if not ok:
        _fail(rule, found, fix)


def _names(names: list[str]) -> str:
    more = f" and {len(names) - LISTED} more" if len(names) > LISTED else ""
    return ", ".join(names[:LISTED]) + more


def _model_check(check: ModelCheck) -> ModelCheck:
    """Prefix the check's failures with the model and shape they concern."""

    @functools.wraps(check)
    def run(model_cls: type[Model], shape: DataShape) -> None:
        try:
            check(model_cls, shape)
        except ContractError as error:
            who = f"model '{getattr(model_cls, 'name', model_cls.__qualname__)}' at {shape.image_shape}"
            raise ContractError(f"{who}: {error}") from None

    return run


def _build(model_cls: type[Model], shape: DataShape, seed: int = 0) -> Model:
    torch.manual_seed(seed)
    return model_cls.build(shape)


def _images(shape: DataShape, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand((BATCH, *shape.image_shape), generator=generator) * 2 - 1


def _labels(shape: DataShape, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, shape.num_classes, (BATCH,), generator=generator)


def _step(model: Model, step: int) -> dict[str, torch.Tensor]:
    return model.train_step(_images(model.shape, step), _labels(model.shape, step))


def _check_logs(logs: object, what: str) -> None:
    _require(
        isinstance(logs, dict),
        f"{what} logs",
        f"{what} returned a {type(logs).__name__}",
        "return a dict of scalar tensors, e.g. {'loss': loss.detach()}",
    )
    for key, value in logs.items():  # type: ignore[union-attr]
        problem = log_value_problem(what, key, value)
        if problem:
            raise ContractError(f"{what} logs: {problem}")
        _require(torch.isfinite(value), f"{what} logs", f"'{key}' is {value}", "logs must be finite")


def _check_images(images: object, n: int, shape: DataShape, what: str) -> None:
    rule = f"{what} images"
    _require(isinstance(images, torch.Tensor), rule, f"got a {type(images).__name__}", "return a tensor")
    assert isinstance(images, torch.Tensor)
    expected = (n, *shape.image_shape)
    _require(tuple(images.shape) == expected, rule, f"shape {tuple(images.shape)}", f"return {expected}")
    _require(images.dtype == torch.float32, rule, f"dtype {images.dtype}", "return float32 images")
    _require(not images.requires_grad, rule, "the images require grad", f"run {what} under torch.no_grad()")
    problem = range_problem(what, images)
    if problem:
        raise ContractError(f"{what} range: {problem}")


def _buffers(model: Model) -> dict[str, torch.Tensor]:
    return {name: b.clone() for name, b in model.named_buffers()}


def _check_untouched(model: Model, buffers: dict[str, torch.Tensor], what: str) -> None:
    fix = f"wrap {what} in genbench.blocks.eval_mode or restore the mode and buffers yourself"
    _require(model.training, f"{what} mode", f"{what} left the model in eval mode", fix)
    changed = [n for n, b in model.named_buffers() if not torch.equal(b, buffers[n])]
    _require(not changed, f"{what} mode", f"{what} changed buffers {_names(changed)}", fix)


@_model_check
def check_builds_on_the_current_device(model_cls: type[Model], shape: DataShape) -> None:
    """Every tensor is created on the device the runner makes current: no hard-coded device, and no
    plain tensor attribute that ``.to(device)`` would leave behind."""
    with torch.device("meta"):
        model = model_cls.build(shape)
    tensors = dict(model.named_parameters()) | dict(model.named_buffers())
    _require(tensors, "device", "the model has no parameters", "make its networks submodules of the model")
    elsewhere = [f"{n} (on {t.device})" for n, t in tensors.items() if not t.is_meta]
    _require(
        not elsewhere,
        "device",
        f"created on a fixed device: {_names(elsewhere)}",
        "create tensors without device= (the runner builds the model inside torch.device(...))",
    )
    loose = [
        f"{prefix}{'.' if prefix else ''}{name}"
        for prefix, module in model.named_modules()
        for name, value in vars(module).items()
        if isinstance(value, torch.Tensor) and not isinstance(value, torch.nn.Parameter)
    ]
    _require(
        not loose,
        "device",
        f"plain tensor attributes {_names(loose)} do not move with .to(device)",
        "register them with self.register_buffer(name, tensor)",
    )


@_model_check
def check_training_steps(model_cls: type[Model], shape: DataShape) -> None:
    """Steps return finite, detached scalar tensors, and within a few steps every parameter changes,
    except those named in ``untrained_parameters`` (zero gradient by construction)."""
    model = _build(model_cls, shape)
    _require(
        model.optimizers,
        "optimizers",
        "self.optimizers is empty",
        "put each optimizer in self.optimizers by name, so checkpoints include it",
    )
    exempt = model_cls.untrained_parameters
    params = {n: p for n, p in model.named_parameters() if not any(fnmatch(n, pat) for pat in exempt)}
    before = {n: p.detach().clone() for n, p in params.items()}
    graded: dict[str, bool] = {}  # Parameter -> whether any gradient it received was non-zero.

    def seen(name: str, grad: torch.Tensor) -> None:
        graded[name] = graded.get(name, False) or bool(grad.ne(0).any())

    hooks = [p.register_hook(functools.partial(seen, n)) for n, p in params.items() if p.requires_grad]
    try:
        for step in range(MAX_STEPS):
            _check_logs(_step(model, step), "train_step")
            untrained = [n for n, p in params.items() if torch.equal(p.detach(), before[n])]
            if not untrained:
                return
    finally:
        for hook in hooks:
            hook.remove()

    def why(name: str) -> str:
        if not params[name].requires_grad:
            return "requires_grad is False"
        if name not in graded:
            return "gradient always None: no loss uses it"
        return "gradient always zero" if not graded[name] else "has gradients but is in no optimizer"

    _fail(
        "training",
        f"after {MAX_STEPS} steps these parameters never changed: "
        + _names([f"{n} ({why(n)})" for n in untrained]),
        "use every parameter in a loss and give it to an optimizer in self.optimizers; name one whose "
        "gradient is zero by construction in the class attribute untrained_parameters",
    )


@_model_check
def check_sampling(model_cls: type[Model], shape: DataShape) -> None:
    """``sample`` gives float32 images of the right shape, strictly in [-1, 1], determined by the
    generator, and leaves the model's mode and buffers as they were."""
    model = _build(model_cls, shape)
    _step(model, 0)
    buffers = _buffers(model)
    samples = model.sample(16, torch.Generator().manual_seed(0))
    _check_images(samples, 16, shape, "sample")
    _require(
        torch.equal(samples, model.sample(16, torch.Generator().manual_seed(0))),
        "sample noise",
        "the same seed gave other samples",
        "draw all sampling noise with generator=generator",
    )
    _require(
        not torch.equal(samples, model.sample(16, torch.Generator().manual_seed(1))),
        "sample noise",
        "another seed gave the same samples",
        "draw the sampling noise with generator=generator",
    )
    _check_untouched(model, buffers, "sample")


@_model_check
def check_labels(model_cls: type[Model], shape: DataShape) -> None:
    """Conditional models draw each image for its requested label; unconditional ones ignore labels."""
    model = _build(model_cls, shape)
    _step(model, 0)
    zeros, ones = torch.zeros(6, dtype=torch.long), torch.ones(6, dtype=torch.long)

    def draw(labels: torch.Tensor) -> torch.Tensor:
        return model.sample(6, torch.Generator().manual_seed(0), labels)

    _require(
        torch.equal(draw(zeros), draw(zeros)),
        "labels",
        "the same labels and seed gave other samples",
        "draw all sampling noise with generator=generator",
    )
    if model_cls.conditional:
        _require(
            not torch.equal(draw(zeros), draw(ones)),
            "labels",
            "a conditional model ignores labels",
            "condition the generator on labels, or set conditional = False",
        )
    else:
        _require(
            torch.equal(draw(zeros), draw(ones)),
            "labels",
            "an unconditional model changes with labels",
            "ignore labels, or set conditional = True",
        )


@_model_check
def check_estimates(model_cls: type[Model], shape: DataShape) -> None:
    """Held-out estimates are finite scalars, repeatable, and leave the training noise stream alone."""
    model = _build(model_cls, shape)
    _step(model, 0)
    model.eval()
    state = torch.get_rng_state()
    with torch.no_grad():
        first = model.estimate(_images(shape, 5), _labels(shape, 5))
        second = model.estimate(_images(shape, 5), _labels(shape, 5))
    _check_logs(first, "estimate")
    changed = [k for k in first if not torch.equal(first[k], second[k])]
    _require(
        not changed,
        "estimate",
        f"{_names(changed)} differ between two calls on the same images",
        "draw any noise from a torch.Generator seeded inside estimate",
    )
    _require(
        torch.equal(torch.get_rng_state(), state),
        "estimate",
        "it drew from torch's global generator",
        "draw its noise from a torch.Generator of its own: the global one is training's",
    )


@_model_check
def check_hyperparameters(model_cls: type[Model], shape: DataShape) -> None:
    """Hyperparameters are a dataclass of defaults that round-trips through JSON."""
    hparams = model_cls.resolve_hparams()
    _require(
        dataclasses.is_dataclass(hparams) and isinstance(hparams, model_cls.Hparams),
        "hyperparameters",
        f"Hparams is {model_cls.Hparams!r}",
        "make Hparams a @dataclass subclass of genbench.Hyperparameters",
    )
    try:
        again = model_cls.Hparams(**json.loads(json.dumps(dataclasses.asdict(hparams))))
    except TypeError as error:
        _fail(
            "hyperparameters",
            f"they do not round-trip through JSON ({error})",
            "give every field a default of type bool, int, float or str",
        )
    _require(again == hparams, "hyperparameters", "they change through JSON", "use bool, int, float or str")
    _require(hparams.batch_size >= 1, "hyperparameters", f"batch_size is {hparams.batch_size}", "use >= 1")


def _roundtrip(state: dict[str, Any]) -> dict[str, Any]:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


@_model_check
def check_checkpoint(model_cls: type[Model], shape: DataShape) -> None:
    """A checkpoint saved to bytes and loaded with ``weights_only=True`` restores the samples."""
    model = _build(model_cls, shape)
    for step in range(2):
        _step(model, step)
    try:
        state = _roundtrip(model.checkpoint_state())
    except Exception as error:
        _fail(
            "checkpoint",
            f"it does not load with weights_only=True ({type(error).__name__}: {error})",
            "keep tensors, numbers, strings, lists and dicts in checkpoint_state",
        )
    fresh = _build(model_cls, shape, seed=1)
    fresh.load_checkpoint_state(state)
    expected = model.sample(4, torch.Generator().manual_seed(3))
    _require(
        torch.equal(fresh.sample(4, torch.Generator().manual_seed(3)), expected),
        "checkpoint",
        "a restored checkpoint samples differently",
        "save all state in checkpoint_state",
    )


@_model_check
def check_resume(model_cls: type[Model], shape: DataShape) -> None:
    """Training noise comes from torch's global generator, which the runner seeds and checkpoints: a
    model restored from a checkpoint, with that generator's state restored, trains on exactly as the
    original did."""
    model = _build(model_cls, shape)
    for step in range(2):
        _step(model, step)
    state, rng = _roundtrip(model.checkpoint_state()), torch.get_rng_state()
    for step in range(2, 4):
        _step(model, step)
    fresh = _build(model_cls, shape, seed=1)
    fresh.load_checkpoint_state(state)
    torch.set_rng_state(rng)
    for step in range(2, 4):
        _step(fresh, step)
    theirs = dict(fresh.named_parameters())
    differ = [n for n, p in model.named_parameters() if not torch.equal(p, theirs[n])]
    _require(
        not differ,
        "resume",
        f"after a restore, two more steps trained {_names(differ)} differently",
        "draw training noise from torch's global generator (no generator=, no seeding of your own) "
        "and keep every training state (step counters too) in checkpoint_state",
    )


@_model_check
def check_latents(model_cls: type[Model], shape: DataShape) -> None:
    """The optional latent API (skipped where ``latents`` raises ``NotImplementedError``): latents are
    determined by the generator, and decoding them gives exactly what ``sample`` gives for the same
    seed and labels, in [-1, 1], leaving the model's mode and buffers as they were."""
    model = _build(model_cls, shape)
    _step(model, 0)

    def draw(seed: int) -> torch.Tensor:
        return model.latents(5, torch.Generator().manual_seed(seed))

    try:
        latents = draw(0)
    except NotImplementedError:
        return
    _require(
        isinstance(latents, torch.Tensor) and latents.shape[0] == 5,
        "latents",
        f"latents(5, g) gave {getattr(latents, 'shape', type(latents).__name__)}",
        "return (5, ...)",
    )
    _require(torch.equal(latents, draw(0)), "latents", "the same seed gave other latents", "use generator=")
    _require(
        not torch.equal(latents, draw(1)),
        "latents",
        "another seed gave the same latents",
        "draw them with generator=generator",
    )
    prior = model.latent_prior
    _require(
        prior in ("normal", "uniform"), "latents", f"latent_prior is {prior!r}", "use 'normal' or 'uniform'"
    )
    labels = torch.arange(5) % shape.num_classes if model_cls.conditional else None
    buffers = _buffers(model)
    decoded = model.decode(latents, labels)
    _check_images(decoded, 5, shape, "decode")
    _require(
        torch.equal(decoded, model.sample(5, torch.Generator().manual_seed(0), labels)),
        "latents",
        "decode(latents(n, g), labels) is not sample(n, g, labels)",
        "draw sample's noise exactly as latents does, then decode it (genbench.blocks.LatentModel does)",
    )
    _check_untouched(model, buffers, "decode")


@_model_check
def check_encoding(model_cls: type[Model], shape: DataShape) -> None:
    """The optional encoder (skipped where ``encode`` raises ``NotImplementedError``): a repeatable
    batch of latents, shaped like the prior's, that ``decode`` turns back into images."""
    model = _build(model_cls, shape)
    _step(model, 0)
    images, labels = _images(shape, 1), _labels(shape, 1)
    try:
        codes = model.encode(images, labels)
    except NotImplementedError:
        return
    prior = model.latents(1, torch.Generator().manual_seed(0))  # An encoder implies a latent space.
    _require(
        codes.shape == (BATCH, *prior.shape[1:]),
        "encode",
        f"codes {tuple(codes.shape)}, latents {tuple(prior.shape)}",
        "return one latent per image, shaped like latents' output",
    )
    _require(not codes.requires_grad, "encode", "codes require grad", "encode under torch.no_grad()")
    _require(
        torch.equal(codes, model.encode(images, labels)),
        "encode",
        "two calls differ",
        "return the posterior mean, not a sample",
    )
    _check_images(model.decode(codes, labels), BATCH, shape, "decode")
    _require(model.training, "encode mode", "encode left the model in eval mode", "restore the mode")


MODEL_CHECKS: tuple[ModelCheck, ...] = (
    check_builds_on_the_current_device,
    check_training_steps,
    check_sampling,
    check_labels,
    check_estimates,
    check_hyperparameters,
    check_checkpoint,
    check_resume,
    check_latents,
    check_encoding,
)
"""Every model check, each called as ``check(model_cls, shape)``."""


def check_model(model_cls: type[Model], shapes: Iterable[DataShape] = SHAPES) -> None:
    """Run every model check at every shape of ``shapes``; the first broken rule raises."""
    problem = class_problem("model", model_cls)
    _require(problem is None, "registration", problem or "", "fix the class attributes")
    for shape in shapes:
        for check in MODEL_CHECKS:
            check(model_cls, shape)


def check_dataset(dataset_cls: type[Dataset], root: Path | str, download: bool = False) -> None:
    """Check a dataset class: its attributes, its ``(root, download)`` constructor, and both splits:
    genbench.Split of uint8 images in [0, 255] and int64 labels as declared, the same on every load,
    every declared class present in the train split. ``DataNotFoundError`` propagates."""
    problem = class_problem("dataset", dataset_cls)
    _require(problem is None, "registration", problem or "", "fix the class attributes")
    shape, who = dataset_cls.shape, f"dataset '{dataset_cls.name}'"
    dataset = dataset_cls(Path(root), download=download)
    for split in ("train", "test"):
        try:
            loaded = check_split(dataset.load(split), shape, f"{who}, {split} split")
        except DataNotFoundError:
            raise
        except UserError as error:  # Split's own checks, in the runner's words.
            raise ContractError(f"split: {error}") from None
        _require(
            int(loaded.images.max()) > 1,
            f"{who}: pixels",
            f"the {split} split's largest value is {int(loaded.images.max())}",
            "uint8 images span [0, 255]: multiply [0, 1] floats by 255",
        )
        again = dataset.load(split)
        _require(
            torch.equal(loaded.images, again.images) and torch.equal(loaded.labels, again.labels),
            f"{who}: split",
            f"two loads of the {split} split differ",
            "fix the split (seed any shuffle)",
        )
        if split == "train":
            present = len(loaded.labels.unique())
            _require(
                present == shape.num_classes,
                f"{who}: labels",
                f"the train split has {present} of {shape.num_classes} declared classes",
                "declare num_classes as the classes present",
            )


def model_contract_tests(model_cls: type[Model], shapes: Iterable[DataShape] = SHAPES) -> Callable[..., None]:
    """A pytest test running every model check at every shape: ``test_contract =
    model_contract_tests(MyModel)``, or with ``shapes=(*SHAPES, MyDataset.shape)`` for your own."""
    import pytest

    shapes = tuple(shapes)

    @pytest.mark.parametrize(
        "check", MODEL_CHECKS, ids=[c.__name__.removeprefix("check_") for c in MODEL_CHECKS]
    )
    @pytest.mark.parametrize("shape", shapes, ids=["x".join(map(str, s.image_shape)) for s in shapes])
    def test_model_contract(shape: DataShape, check: ModelCheck) -> None:
        check(model_cls, shape)

    return test_model_contract


def dataset_contract_tests(
    dataset_cls: type[Dataset], root: Path | str | None = None, download: bool = False
) -> Callable[..., None]:
    """A pytest test running :func:`check_dataset`: ``test_data = dataset_contract_tests(MyDataset)``.
    ``root`` defaults to an empty temporary folder (for datasets that make their images); missing data
    (``DataNotFoundError``) skips the test with the dataset's message."""
    import pytest

    def test_dataset_contract(tmp_path: Path) -> None:
        try:
            check_dataset(dataset_cls, tmp_path if root is None else root, download)
        except DataNotFoundError as error:
            pytest.skip(f"dataset '{dataset_cls.name}': {error}")

    return test_dataset_contract
