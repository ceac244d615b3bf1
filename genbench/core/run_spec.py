"""The run spec: everything one run is asked to do, typed and frozen. The sweep resolves it once per
run from the options and what it resolved (device, precision, hyperparameters, data and weights);
the run and its training loop read it and nothing else, and it is the run folder's ``config.json``.

    RunSpec
      run_id, setup, dataset, model, seed, hparams, device
      training     TrainingSpec: budget (Budget), schedule (Schedule), precision
      evaluation   EvaluationSpec: metrics, n_samples, n_eval, reference_split, n_reference, divergence,
                   intervals (IntervalSettings), sampling (the model's sampling options)
      provenance   Provenance: the genbench release, the data's and weights' hashes, the model plugin
      environment  Environment: where the run trained (filled in by the run itself)

``config.json`` is :meth:`RunSpec.to_dict` with :data:`SCHEMA_VERSION`; :meth:`RunSpec.from_dict` reads
it back type-checked (genbench.core.typed_json): a damaged file is a :class:`SpecError`, one line. A
file without ``schema_version`` is an older genbench's (the run identity plus ``run_id``,
``device_name``, ``log_every`` and ``versions``) and is read into the same spec; so is one of schema 1,
written before metrics had intervals (read as made without them). It lives in ``core``
because the run writes it and the report reads it. The run id is the hash of the run identity
(genbench.options.identity), which the spec holds value for value.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from genbench.api import DataShape, SplitName
from genbench.core.typed_json import TypedJsonError, read_typed
from genbench.errors import UserError

SCHEMA_VERSION = 3  # Bump when a field changes meaning or is added; read older ones in from_dict.
# 2: evaluation.intervals (issue 20). 3: evaluation.sampling (issue 21).
Precision = Literal["fp32", "bf16"]  # What --precision resolved to for a run's model and device.
ESTIMATOR_ARCHITECTURE = "nnd-conv-v1"  # The divergence estimators' network (genbench.evaluation.divergence).
# Resamples of each interval's bootstrap by default: its standard error is then within about 5% of the
# one infinitely many resamples would give (relative error 1/sqrt(2 (B - 1))), and on a 2-core CPU the
# intervals of every offline metric add about a tenth to the evaluation of 10,000 samples at 28x28 (the
# README's Evaluation section has the measurement).
DEFAULT_RESAMPLES = 200
MAX_RESAMPLES = 100_000


class SpecError(ValueError):
    """A ``config.json`` that cannot be read: one line saying what is wrong."""


@dataclass(frozen=True)
class Budget:
    """The same training budget for every model of a run: thousands of real images shown (kimg),
    optionally capped by optimisation steps or wall-clock seconds, whichever comes first."""

    kimg: float
    steps: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        if not self.kimg > 0:
            raise UserError(f"--kimg must be positive, got {self.kimg}")
        if self.steps is not None and self.steps <= 0:
            raise UserError(f"--steps must be a positive integer, got {self.steps}")
        if self.seconds is not None and not self.seconds > 0:
            raise UserError(f"--seconds must be positive, got {self.seconds}")

    @property
    def images(self) -> int:
        """The number of real images to show."""
        return round(self.kimg * 1000)

    def stop_reason(self, images_seen: int, steps: int, seconds: float) -> str | None:
        """Why training must stop now (``kimg``, ``steps`` or ``seconds``), or None to go on."""
        if images_seen >= self.images:
            return "kimg"
        if self.steps is not None and steps >= self.steps:
            return "steps"
        if self.seconds is not None and seconds >= self.seconds:
            return "seconds"
        return None


@dataclass(frozen=True)
class Schedule:
    """How often the loop does what, besides stepping. Counted in steps (logs) and in images shown
    (kimg), so that a resumed run does each at the same points as one that never stopped."""

    log_every: int = 50  # Steps between reads of the scalar logs.
    checkpoint_every_kimg: float | None = None  # Resume checkpoints; None: only on signals.
    eval_every_kimg: float | None = None  # The cheap metric, keeping the best weights; None: off.


@dataclass(frozen=True)
class TrainingSpec:
    """What the training loop uses: how long, how often, in which precision."""

    budget: Budget
    schedule: Schedule = Schedule()
    precision: Precision = "fp32"


@dataclass(frozen=True)
class DivergenceSettings:
    """The divergence estimators' recipe (genbench.evaluation.divergence trains them), shared by every
    model's estimates and recorded in each metric's protocol; ``steps`` is ``--divergence-steps``."""

    steps: int = 300  # Optimisation steps of each estimator.
    batch_size: int = 64  # Real and generated images per step (each).
    width: int = 16  # Channels of the first conv layer; doubled twice.
    classifier_lr: float = 5e-4
    critic_lr: float = 5e-4
    gp_weight: float = 10.0
    max_per_half: int = 5000  # Cap on images per side and half: bounds the cost on large splits.
    seed: int = 0

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise UserError(f"--divergence-steps must be at least 1, got {self.steps}")
        if self.batch_size < 1 or self.width < 1 or self.max_per_half < 2:
            raise UserError("divergence batch_size and width must be positive and max_per_half at least 2")

    def protocol(self) -> dict[str, object]:
        """What an estimate records about how it was made."""
        return {"architecture": ESTIMATOR_ARCHITECTURE, **asdict(self)}


@dataclass(frozen=True)
class IntervalSettings:
    """The recipe of every metric's 95% interval over a run's samples (genbench.evaluation.bootstrap
    computes them), recorded in each metric's protocol; ``resamples`` is ``--bootstrap`` (0: none)."""

    resamples: int = DEFAULT_RESAMPLES  # 0: no intervals.
    seed: int = 0  # Of the resampling: the same samples give the same interval.
    confidence: float = 0.95

    def __post_init__(self) -> None:
        if not 0 <= self.resamples <= MAX_RESAMPLES:
            raise UserError(f"--bootstrap must be from 0 to {MAX_RESAMPLES:,}, got {self.resamples}")
        if self.resamples == 1:  # A standard error needs two resamples at least.
            raise UserError("--bootstrap must be 0 (no intervals) or at least 2, got 1")

    @property
    def enabled(self) -> bool:
        """Whether metrics get intervals at all."""
        return self.resamples > 0

    def protocol(self, method: str) -> dict[str, Any]:
        """What a metric's protocol records of its interval: ``method`` says what is resampled."""
        return {"method": method, **asdict(self)}


NO_INTERVALS = {"resamples": 0, "seed": 0, "confidence": 0.95}  # What a config before schema 2 made.


@dataclass(frozen=True)
class EvaluationSpec:
    """How the run is scored: after training (``n_samples`` samples, every metric) and during it
    (the cheap metric on ``n_eval`` samples)."""

    metrics: tuple[str, ...]
    n_samples: int
    n_eval: int
    reference_split: SplitName
    n_reference: int | None  # None: the whole reference split.
    divergence: DivergenceSettings
    intervals: IntervalSettings = IntervalSettings()  # Each metric's, over the run's samples.
    # The model's sampling options (--sample-set) that differ from its defaults; {}: the defaults.
    sampling: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Provenance:
    """The exact code, data and weights the run's numbers come from (each is in its identity)."""

    genbench_version: str
    data_sha256: str  # Of the dataset's splits (genbench.options.identity.data_sha256).
    data_shape: DataShape
    model_distribution: str  # The model plugin's distribution and version.
    model_version: str
    classifier_sha256: str  # The reference classifier's weights.
    inception_sha256: str | None  # The Inception weights; None when not used or not available.


@dataclass(frozen=True)
class Environment:
    """Where the run trained: known only where it runs (a Ray task lands on any node)."""

    device_name: str  # E.g. the GPU's name.
    versions: dict[str, str | None]  # python, platform, torch, cuda, torchvision, torch-fidelity, genbench.
    plugins: dict[str, str | None]  # The dataset and model plugins' distributions and versions.


@dataclass(frozen=True)
class RunSpec:
    """Everything one run is asked to do, resolved by the sweep (genbench.running.sweep)."""

    run_id: str  # The run folder's name: dataset, model, seed and the identity's hash.
    setup: str | None  # The identity's hash without the seed; None in a config.json before schema 1.
    dataset: str
    model: str
    seed: int
    hparams: dict[str, Any]  # The model's hyperparameters, resolved (defaults with --set applied).
    device: str  # The device type (cpu, cuda): which GPU does not change a result.
    training: TrainingSpec
    evaluation: EvaluationSpec
    provenance: Provenance
    environment: Environment | None = None  # None until the run fills it in.

    def to_dict(self) -> dict[str, Any]:
        """The JSON object written as ``config.json``: the fields by name, with ``schema_version``."""
        return {"schema_version": SCHEMA_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: Any) -> RunSpec:
        """Validate and read a ``config.json`` loaded from JSON; :class:`SpecError` when it cannot be."""
        if not isinstance(data, dict):
            raise SpecError("not a JSON object")
        version = data.get("schema_version", 0)
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise SpecError(f"schema_version is {version!r}, not a version number")
        if version > SCHEMA_VERSION:
            raise SpecError(
                f"written by a newer genbench (config schema {version}; this genbench reads up to "
                f"{SCHEMA_VERSION}): upgrade genbench to read it"
            )
        older = " (an older genbench's config)" if version < SCHEMA_VERSION else ""
        moved = _from_schema_0(data) if version == 0 else _from_schema_1(data) if version == 1 else data
        moved = _from_schema_2(moved) if version < 3 else moved
        try:
            return read_typed(cls, moved)
        except TypedJsonError as error:
            raise SpecError(f"{error}{older}") from None


_MISSING = object()  # A key a schema-0 config lacked.


def _from_schema_0(old: dict[str, Any]) -> dict[str, Any]:
    """A config.json before schema 1 (the run identity of genbench.options.identity with ``run_id``,
    ``device_name``, ``log_every`` and ``versions``), moved into schema 1's layout. It did not record
    the setup or the checkpoint interval (neither changes a result). A key it lacks stays missing, so
    the check names it."""
    evaluation, plugin = _object(old.get("evaluation")), _object(old.get("model_plugin"))
    versions = _object(old.get("versions"))
    moved = {
        **{
            key: old.get(key, _MISSING) for key in ("run_id", "dataset", "model", "seed", "hparams", "device")
        },
        "setup": None,
        "training": {
            "budget": old.get("budget", _MISSING),
            "schedule": {
                "log_every": old.get("log_every", _MISSING),
                "checkpoint_every_kimg": None,
                "eval_every_kimg": evaluation.get("eval_every", _MISSING),
            },
            "precision": old.get("precision", _MISSING),
        },
        "evaluation": {
            **{
                key: evaluation.get(key, _MISSING)
                for key in ("metrics", "n_eval", "reference_split", "n_reference")
            },
            "n_samples": old.get("n_samples", _MISSING),
            "divergence": evaluation.get("divergence", _MISSING),
            "intervals": evaluation.get("intervals", NO_INTERVALS),  # Recorded since issue 20.
        },
        "provenance": {
            "genbench_version": old.get("genbench_version", _MISSING),
            "data_sha256": old.get("data_sha256", _MISSING),
            "data_shape": old.get("shape", _MISSING),
            "model_distribution": plugin.get("distribution", _MISSING),
            "model_version": plugin.get("version", _MISSING),
            "classifier_sha256": old.get("classifier_weights_sha256", _MISSING),
            "inception_sha256": old.get("inception_weights_sha256", _MISSING),
        },
        "environment": {
            "device_name": old.get("device_name", _MISSING),
            "versions": {key: value for key, value in versions.items() if key != "plugins"},
            "plugins": versions.get("plugins", _MISSING),
        },
    }
    return _present(moved)


def _from_schema_1(old: dict[str, Any]) -> dict[str, Any]:
    """A config.json of schema 1: written before metrics had intervals, so its run made none."""
    evaluation = old.get("evaluation")
    if not isinstance(evaluation, dict) or "intervals" in evaluation:
        return old  # The check names what is wrong, or reads what is there.
    return {**old, "evaluation": {**evaluation, "intervals": NO_INTERVALS}}


def _from_schema_2(old: dict[str, Any]) -> dict[str, Any]:
    """A config.json before schema 3: written before models had sampling options, so its run sampled
    under its model's defaults."""
    evaluation = old.get("evaluation")
    if not isinstance(evaluation, dict) or "sampling" in evaluation:
        return old  # The check names what is wrong, or reads what is there.
    return {**old, "evaluation": {**evaluation, "sampling": {}}}


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _present(tree: dict[str, Any]) -> dict[str, Any]:
    """``tree`` without its missing keys, at every depth."""
    return {
        key: _present(value) if isinstance(value, dict) else value
        for key, value in tree.items()
        if value is not _MISSING
    }
