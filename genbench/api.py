"""The plugin API: what a dataset plugin and a model plugin implement.

A dataset declares its :class:`DataShape` as a class attribute, before anything is loaded, and returns
each split as uint8 images ``(N, C, H, W)`` with int64 labels. A model is built from that shape plus
keyword hyperparameters (a dataclass with defaults), owns its networks and optimizers, and offers one
training step, sampling from a ``torch.Generator`` and its checkpoint state.

The runner, not the plugin, chooses the device: it builds the model inside a ``torch.device`` context
and moves it there, so a plugin never calls ``.cuda()``; it creates tensors ``like`` its inputs or on
``generator.device``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import torch
from torch import nn

from genbench.errors import UserError, one_line

API_VERSION = "1.3"
"""The version of this plugin API. A plugin module may require a range with ``GENBENCH_API = ">=1,<2"``;
a minor version adds to the API, a major version changes or removes something. 1.1 added ``Bounds``,
the fast-path attributes of ``Model`` (``bf16_safe``, ``channels_last``, ``capturable``, ``step_period``),
``genbench.blocks.optimizers`` and the tracker API (``genbench.tracking``, ``register_trackers``);
1.2 added sampling options (``SamplingOptions``, ``Model.sampling``, ``Model.nfe``), ``adam`` and
``rmsprop`` in ``genbench.blocks``, ``LatentModel.prior_latents`` and ``genbench.testing``'s
``hparams=`` and ``sampling=``; 1.3 added ``Model.packable`` and ``genbench.testing.check_packing``."""

SplitName = Literal["train", "test"]


@dataclass(frozen=True)
class DataShape:
    """What a dataset's images look like: known before any data is loaded or model is built."""

    channels: int
    resolution: int
    num_classes: int

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of one image."""
        return (self.channels, self.resolution, self.resolution)


@dataclass(frozen=True)
class Split:
    """One split of a dataset: uint8 images ``(N, C, H, W)`` in [0, 255] and int64 labels ``(N,)``."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def validate(self, shape: DataShape, owner: str) -> None:
        """Refuse a split that does not match what its dataset declared, naming the plugin."""
        problems = []
        if not isinstance(self.images, torch.Tensor) or self.images.dtype != torch.uint8:
            problems.append(
                f"images must be a uint8 tensor, got {getattr(self.images, 'dtype', type(self.images))}"
            )
        elif self.images.ndim != 4 or tuple(self.images.shape[1:]) != shape.image_shape:
            problems.append(
                f"images must be (N, {', '.join(map(str, shape.image_shape))}), "
                f"got {tuple(self.images.shape)}"
            )
        if problems:
            raise UserError(f"{owner}: {problems[0]}")
        if not isinstance(self.labels, torch.Tensor) or self.labels.dtype != torch.int64:
            problems.append(
                f"labels must be an int64 tensor, got {getattr(self.labels, 'dtype', type(self.labels))}"
            )
        elif self.labels.shape != (len(self),):
            problems.append(f"labels must have shape ({len(self)},), got {tuple(self.labels.shape)}")
        elif len(self) and (self.labels.min() < 0 or self.labels.max() >= max(shape.num_classes, 1)):
            problems.append(f"labels must lie in [0, {shape.num_classes - 1}]")
        if len(self) == 0:
            problems.append("the split is empty")
        if problems:
            raise UserError(f"{owner}: {'; '.join(problems)}")


def check_split(split: object, shape: DataShape, owner: str) -> Split:
    """``split`` if it is a :class:`Split` matching ``shape``; a user error naming ``owner`` otherwise."""
    if not isinstance(split, Split):
        raise UserError(
            f"{owner}: load returned a {type(split).__name__}, not a genbench.Split; "
            "return Split(images, labels)"
        )
    split.validate(shape, owner)
    return split


class Dataset(ABC):
    """A dataset plugin. Subclasses set ``name``, ``shape`` and ``description`` and implement ``load``.

    ``root`` is the folder the user named (``--data-root`` / ``GENBENCH_DATA_ROOT``) or genbench's
    default data folder; a plugin may also look in other well-known places. When the files are missing
    and cannot be downloaded, raise :class:`genbench.errors.DataNotFoundError` saying where it looked.
    """

    name: ClassVar[str]
    shape: ClassVar[DataShape]
    description: ClassVar[str] = ""

    def __init__(self, root: Path, download: bool = True) -> None:
        self.root = Path(root)
        self.download = download

    @abstractmethod
    def load(self, split: SplitName) -> Split:
        """Return the whole split as uint8 images and int64 labels."""

    @classmethod
    def configure(cls, argument: str) -> type[Dataset]:
        """The dataset ``NAME:argument`` (``--data NAME:ARGUMENT``) as a class of its own, with its own
        valid ``name`` and ``shape``: how a dataset takes a parameter such as a path (the built-in
        ``folder`` and ``npz`` do). Raise :class:`genbench.errors.UserError` for a bad argument.

        Default: the dataset takes no argument.
        """
        raise UserError(f"dataset '{cls.name}' takes no argument; got '{cls.name}:{argument}'")


@dataclass
class Hyperparameters:
    """Base of every model's hyperparameter dataclass. Every field needs a JSON-serialisable default."""

    batch_size: int = 64


@dataclass
class SamplingOptions:
    """Base of a model's sampling options (``Model.Sampling``): how :meth:`Model.sample` draws, not what
    training learns, such as a diffusion model's number of steps or a guidance scale. Declared and
    checked like ``Hparams`` (fields with JSON-serialisable defaults of type bool, int, float or str,
    rules in ``__post_init__``), but set with ``--sample-set MODEL.KEY=VALUE``, which changes only the
    evaluation: the same trained weights are scored under other options (``genbench eval``)."""


@dataclass(frozen=True)
class Bounds:
    """Where a number may lie, with genbench's one message for a value outside:
    ``<name> must be <what>, got <value>``, for an option (``--kimg``) and a hyperparameter
    (``dcgan.lr``) alike. NaN is never inside. A model checks its ``Hparams`` in ``__post_init__``::

        Bounds(low=0, low_open=True, finite=True).check("my-gan.lr", self.lr)

    Each end is included unless it is ``*_open``; ``finite`` refuses infinities where no end does.
    ``what`` is what the message says a value outside must be (e.g. ``"in [0, 1)"``); by default the
    end it crosses (``"at least 1"``, ``"above 0"``, ``"at most 1e+06"``, ``"finite"``)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    finite: bool = False
    what: str | None = None

    def problem(self, value: float) -> str | None:
        """What ``value`` must be instead (the message's ``<what>``); None when it lies inside."""
        if math.isnan(value):
            return "a number"
        crossed = self._crossed(value)
        return None if crossed is None else self.what or crossed

    def check(self, name: str, value: float) -> None:
        """Raise :class:`~genbench.errors.UserError` naming ``name`` when ``value`` lies outside."""
        problem = self.problem(value)
        if problem is not None:
            shown = f"{value:,}" if isinstance(value, int) else str(value)  # As given: 1e+300, -1.0.
            raise UserError(f"{name} must be {problem}, got {shown}")

    def _crossed(self, value: float) -> str | None:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return f"above {_bound(self.low)}" if self.low_open else f"at least {_bound(self.low)}"
        if self.high is not None and (value >= self.high if self.high_open else value > self.high):
            return f"below {_bound(self.high)}" if self.high_open else f"at most {_bound(self.high)}"
        if self.finite and math.isinf(value):
            return "finite"
        return None


def _bound(value: float) -> str:
    """A bound as messages write it: 1,000,000,000 (an int), 1e+06 (a float)."""
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


class Model(nn.Module, ABC):
    """A model plugin. Subclasses set ``name``, ``description``, ``conditional`` and ``Hparams``.

    Networks are submodules (so ``state_dict`` and ``.to`` cover them); optimizers go in
    ``self.optimizers`` by name so checkpoints include them. ``train_step`` returns scalar *tensors*,
    not floats: the runner reads them every few steps, so a step never waits for the device.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    conditional: ClassVar[bool] = False
    Hparams: ClassVar[type[Hyperparameters]] = Hyperparameters
    untrained_parameters: ClassVar[tuple[str, ...]] = ()
    """Names (``fnmatch`` patterns) of parameters whose gradient is zero by construction, such as a
    Wasserstein critic's output bias: the contract's per-parameter training check skips them."""
    # What the runner's fast path (genbench.running.fast_path) may do with this model; all off by
    # default, so a plugin gets exactly the float32 eager step it wrote unless it says otherwise.
    bf16_safe: ClassVar[bool] = False  # ``--precision auto`` trains it under bf16 autocast on CUDA and
    # on a CPU with bf16 hardware (AMX or AVX-512 BF16).
    channels_last: ClassVar[bool] = False  # Convolutional: weights and batches go channels-last on CUDA,
    # and on a CPU with bf16 hardware in a bf16 run.
    capturable: ClassVar[bool] = False  # ``train_step`` may be captured in a CUDA graph (no host syncs,
    # no data-dependent Python control flow, tensors created on the inputs' device); see step_period.
    packable: ClassVar[bool] = False  # Seeds may train in a pack (``--pack``): every training state is
    # in the instance, so seeds stepped in turn in one process train exactly as alone (check_packing).

    Sampling: ClassVar[type[SamplingOptions]] = SamplingOptions
    """The model's sampling options (a :class:`SamplingOptions` dataclass); none by default."""
    expensive_sampling: ClassVar[bool] = False
    """Whether drawing samples costs far more than a training step (many network evaluations each):
    after the first ``--eval-every`` evaluation the run says, once, what it took and what the rest
    will take (genbench.running.sampling_cost); the seconds are the evaluation phase, not training."""

    def __init__(self, shape: DataShape, hparams: Hyperparameters) -> None:
        super().__init__()
        self.shape = shape
        self.hparams = hparams
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        # The defaults; the runner sets the options of --sample-set after building, so read them in
        # sample(), never in __init__.
        self.sampling: SamplingOptions = type(self).resolve_sampling()

    @classmethod
    def resolve_hparams(cls, **overrides: Any) -> Hyperparameters:
        """The model's hyperparameters: its defaults with ``overrides`` applied, checked by name."""
        return _resolved(cls, cls.Hparams, "hyperparameter", overrides)  # type: ignore[return-value]

    @classmethod
    def resolve_sampling(cls, **overrides: Any) -> SamplingOptions:
        """The model's sampling options (``Sampling``): its defaults with ``overrides`` applied,
        checked by name, as :meth:`resolve_hparams` checks hyperparameters."""
        return _resolved(cls, cls.Sampling, "sampling option", overrides)  # type: ignore[return-value]

    @property
    def nfe(self) -> int:
        """Network evaluations per sample under :attr:`sampling` (the record states it): 1 for a
        one-pass generator, the default; an iterative sampler's count of network calls (a guided
        call that runs the network on twice the batch counts twice)."""
        return 1

    @classmethod
    def build(cls, shape: DataShape, **overrides: Any) -> Model:
        """Build the model for ``shape`` with its default hyperparameters updated by ``overrides``."""
        return cls(shape, cls.resolve_hparams(**overrides))

    @abstractmethod
    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """One optimisation step on ``images`` in [-1, 1] ``(B, C, H, W)``; returns scalar tensors."""

    @property
    def step_period(self) -> int:
        """After how many consecutive ``train_step`` calls, counted from the run's first step, the
        step's Python control flow repeats: 1 for most models, ``n_critic`` for a model that updates
        its generator every ``n_critic``-th call. A CUDA graph captures this many calls as one."""
        return 1

    @abstractmethod
    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None) -> torch.Tensor:
        """``n`` images in [-1, 1] ``(n, C, H, W)`` drawn with ``generator`` (on the model's device).

        Conditional models draw image ``i`` for class ``labels[i]``; unconditional ones ignore labels.
        A model with sampling options draws under ``self.sampling`` (an instance of ``Sampling``), which
        the runner sets before sampling: read it here, not when the model is built.

        How the runner calls it, in eval mode and without gradients: for the evaluation's
        ``--n-samples`` and each ``--eval-every`` evaluation's ``--n-eval``, in chunks of at most 500
        images (the runner chunks: ``n`` is never larger), one generator serving the chunks in turn,
        so one seed gives one sample set; the samples grid is the first 64 of the evaluation's; the
        progress strip calls it with 16 at each of its points. A conditional model always gets
        ``labels`` (balanced over the classes): ``labels=None`` reaches only unconditional models.
        """

    def latents(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` latent vectors ``(n, ...)`` from the model's prior, drawn with ``generator`` exactly as
        :meth:`sample` draws them: ``decode(latents(n, g1), labels)`` equals ``sample(n, g2, labels)``
        when ``g1`` and ``g2`` are seeded alike.

        Optional, like :meth:`decode` and :meth:`encode`: the default raises ``NotImplementedError``,
        and a model without a latent space simply gets no interpolation pictures in its report.
        """
        raise NotImplementedError(f"model '{self.name}' has no latent space")

    @property
    def latent_prior(self) -> str:
        """The distribution :meth:`latents` draws from: ``"normal"`` (N(0, I), the default) or
        ``"uniform"`` (a box such as U[0, 1)^d). It decides how the report interpolates between two
        latents: along the sphere for ``"normal"``, along a straight line for ``"uniform"``."""
        return "normal"

    def decode(self, latents: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [-1, 1] ``(n, C, H, W)`` for ``latents`` as :meth:`latents` returns them.

        Runs as :meth:`sample` does (no gradients, eval-mode batch norm and dropout) and leaves the
        model's mode as it was. Conditional models need ``labels``, one per latent; unconditional
        ones ignore them. Optional: see :meth:`latents`.
        """
        raise NotImplementedError(f"model '{self.name}' has no latent space")

    def encode(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Latents ``(n, ...)`` of images in [-1, 1] ``(n, C, H, W)``, in the form :meth:`decode`
        accepts: a VAE's posterior means. Runs like :meth:`decode`.

        Only models with an encoder implement it; the default raises ``NotImplementedError``, and the
        report then shows no interpolation between real images.
        """
        raise NotImplementedError(f"model '{self.name}' has no encoder")

    def estimate(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """The model's own estimates (losses, divergences) on held-out images, without training.

        Called under ``torch.no_grad()`` in eval mode on batches of the test split; the runner
        averages them over batches and logs them with a ``test/`` prefix. Default: none.
        """
        return {}

    def checkpoint_state(self) -> dict[str, Any]:
        """Everything needed to resume: network weights and optimizer states."""
        return {
            "networks": self.state_dict(),
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
        }

    def load_checkpoint_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`checkpoint_state` returned."""
        self.load_state_dict(state["networks"])
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])


def _resolved(
    model: type[Model], declared: type[Any], what: str, overrides: dict[str, Any]
) -> Hyperparameters | SamplingOptions:
    """``declared`` (a model's ``Hparams`` or ``Sampling``) with ``overrides`` applied, checked by name
    and by its own ``__post_init__``; a one-line :class:`UserError` naming the model otherwise."""
    known = {f.name for f in dataclasses.fields(declared)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        has = f"it has: {', '.join(sorted(known))}" if known else f"it has no {what}s"
        raise UserError(f"model '{model.name}' has no {what} {', '.join(unknown)}; {has}")
    try:
        resolved = declared(**overrides)
    except (ValueError, TypeError) as error:  # The dataclass's own validation, in __post_init__.
        given = ", ".join(f"{k}={v!r}" for k, v in overrides.items()) or "the defaults"
        refused = f"model '{model.name}' ({model.__module__}) refuses {given}: {one_line(error)}"
        raise UserError(refused) from error
    json.dumps(dataclasses.asdict(resolved))  # Records store them as JSON: fail now, not at the end.
    return resolved  # type: ignore[no-any-return]
