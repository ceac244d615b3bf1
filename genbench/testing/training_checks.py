"""The model checks of building and training: devices, logs, every parameter training, hyperparameters,
checkpoints and resuming."""

from __future__ import annotations

import dataclasses
import functools
import json
from fnmatch import fnmatch

import torch

from genbench.api import DataShape, Model
from genbench.blocks.ema import EMA
from genbench.contract import log_value_problem
from genbench.errors import one_line
from genbench.testing.failures import ContractError, fail, listed, model_check, require
from genbench.testing.inputs import build, differing_parameters, through_bytes, train_on_batch

MAX_STEPS = 12  # Enough for a generator step of models that update their critic several times first.


def require_logs(logs: object, what: str) -> None:
    """Logs are a dict of finite, detached scalar tensors."""
    require(
        isinstance(logs, dict),
        f"{what} logs",
        f"{what} returned a {type(logs).__name__}",
        "return a dict of scalar tensors, e.g. {'loss': loss.detach()}",
    )
    assert isinstance(logs, dict)  # What require() just checked, said to the type checker.
    for key, value in logs.items():
        problem = log_value_problem(what, key, value)
        if problem:
            raise ContractError(f"{what} logs: {problem}")
        require(torch.isfinite(value), f"{what} logs", f"'{key}' is {value}", "logs must be finite")


@model_check
def check_builds_on_the_current_device(model_cls: type[Model], shape: DataShape) -> None:
    """Every tensor is created on the device the runner makes current: no hard-coded device, and no
    plain tensor attribute that ``.to(device)`` would leave behind."""
    with torch.device("meta"):
        model = model_cls.build(shape)
    tensors = dict(model.named_parameters()) | dict(model.named_buffers())
    require(tensors, "device", "the model has no parameters", "make its networks submodules of the model")
    elsewhere = [f"{n} (on {t.device})" for n, t in tensors.items() if not t.is_meta]
    require(
        not elsewhere,
        "device",
        f"created on a fixed device: {listed(elsewhere)}",
        "create tensors without device= (the runner builds the model inside torch.device(...))",
    )
    loose = [  # Not on modules with forward pre-hooks, which recompute theirs (legacy spectral_norm).
        f"{prefix}{'.' if prefix else ''}{name}"
        for prefix, module in model.named_modules()
        if not module._forward_pre_hooks
        for name, value in vars(module).items()
        if isinstance(value, torch.Tensor) and not isinstance(value, torch.nn.Parameter)
    ]
    require(
        not loose,
        "device",
        f"plain tensor attributes {listed(loose)} do not move with .to(device)",
        "register them with self.register_buffer(name, tensor)",
    )


@model_check
def check_training_steps(model_cls: type[Model], shape: DataShape) -> None:
    """Steps return finite, detached scalar tensors, and within a few steps every parameter changes,
    except those named in ``untrained_parameters`` (zero gradient by construction)."""
    model = build(model_cls, shape)
    require(
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
            require_logs(train_on_batch(model, step), "train_step")
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

    averages = ema_averages(model)
    trained = [n for n in untrained if not any(n.startswith(prefix) for prefix in averages)]
    require(
        not trained,
        "training",
        f"after {MAX_STEPS} steps these parameters never changed: "
        + listed([f"{n} ({why(n)})" for n in trained]),
        "use every parameter in a loss and give it to an optimizer in self.optimizers; name one whose "
        "gradient is zero by construction in the class attribute untrained_parameters",
    )
    # What is left are EMA weights, which no optimizer trains: only EMA.update moves them.
    stale = [ema for prefix, ema in averages.items() if any(n.startswith(prefix) for n in untrained)]
    fail(
        "EMA",
        f"after {MAX_STEPS} steps the exponential moving average {listed(stale)} never changed: "
        + listed(untrained),
        f"call self.{stale[0]}.update() after each optimizer step in train_step (an EMA's weights have "
        "no gradient and belong in no optimizer: update() moves them towards the trained network's)",
    )


def ema_averages(model: Model) -> dict[str, str]:
    """The prefix of the averaged weights of each :class:`~genbench.blocks.EMA` in ``model``
    (``"ema.network."``) -> the EMA's attribute path (``"ema"``)."""
    return {f"{name}.network.": name for name, module in model.named_modules() if isinstance(module, EMA)}


@model_check
def check_hyperparameters(model_cls: type[Model], shape: DataShape) -> None:
    """Hyperparameters are a dataclass of defaults that round-trips through JSON."""
    hparams = model_cls.resolve_hparams()
    require(
        dataclasses.is_dataclass(hparams) and isinstance(hparams, model_cls.Hparams),
        "hyperparameters",
        f"Hparams is {model_cls.Hparams!r}",
        "make Hparams a @dataclass subclass of genbench.Hyperparameters",
    )
    try:
        again = model_cls.Hparams(**json.loads(json.dumps(dataclasses.asdict(hparams))))
    except TypeError as error:
        fail(
            "hyperparameters",
            f"they do not round-trip through JSON ({error})",
            "give every field a default of type bool, int, float or str",
        )
    require(again == hparams, "hyperparameters", "they change through JSON", "use bool, int, float or str")
    require(hparams.batch_size >= 1, "hyperparameters", f"batch_size is {hparams.batch_size}", "use >= 1")


@model_check
def check_checkpoint(model_cls: type[Model], shape: DataShape) -> None:
    """A checkpoint saved to bytes and loaded with ``weights_only=True`` restores the samples."""
    model = build(model_cls, shape)
    for step in range(2):
        train_on_batch(model, step)
    try:
        state = through_bytes(model.checkpoint_state())
    except Exception as error:
        fail(
            "checkpoint",
            f"it does not load with weights_only=True ({one_line(error)})",
            "keep tensors, numbers, strings, lists and dicts in checkpoint_state",
        )
    fresh = build(model_cls, shape, seed=1)
    fresh.load_checkpoint_state(state)
    expected = model.sample(4, torch.Generator().manual_seed(3))
    require(
        torch.equal(fresh.sample(4, torch.Generator().manual_seed(3)), expected),
        "checkpoint",
        "a restored checkpoint samples differently",
        "save all state in checkpoint_state",
    )


@model_check
def check_resume(model_cls: type[Model], shape: DataShape) -> None:
    """Training noise comes from torch's global generator, which the runner seeds and checkpoints: a
    model restored from a checkpoint, with that generator's state restored, trains on exactly as the
    original did."""
    model = build(model_cls, shape)
    for step in range(2):
        train_on_batch(model, step)
    state, rng = through_bytes(model.checkpoint_state()), torch.get_rng_state()
    for step in range(2, 4):
        train_on_batch(model, step)
    fresh = build(model_cls, shape, seed=1)
    fresh.load_checkpoint_state(state)
    torch.set_rng_state(rng)
    for step in range(2, 4):
        train_on_batch(fresh, step)
    differ = differing_parameters(model, fresh)
    require(
        not differ,
        "resume",
        f"after a restore, two more steps trained {listed(differ)} differently",
        "draw training noise from torch's global generator (no generator=, no seeding of your own) "
        "and keep every training state (step counters too) in checkpoint_state",
    )
