"""Resolved options of a benchmark run, validated once, saved with every run record."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from genbench.api import SplitName
from genbench.errors import UserError

DEFAULT_MODELS = ("dcgan", "vae")
DEFAULT_DATASETS = ("digits",)
DEFAULT_KIMG = 40.0  # Quick default: digits (1,437 train images) for ~28 epochs, minutes on 2 CPU cores.
DEFAULT_N_SAMPLES = 10_000
DEFAULT_N_EVAL = 1_000  # Samples of the cheap metric during training (fd_clf_1k).
EVAL_POINTS = 10  # Default --eval-every and --checkpoint-every: this many points of the budget.
# Metrics a run computes (all by default; see genbench.metrics for the columns each fills): reference-
# classifier metrics, the independent divergence estimates, then the Inception metrics.
KNOWN_METRICS = (
    "fd_clf",
    "kid_clf",
    "prc_clf",
    "isc_clf",
    "acc_clf",
    "jsd_clf",
    "w1_critic",
    "fid",
    "kid",
    "isc",
    "prc",
)
REFERENCE_SPLITS = ("train", "test")
MIN_N_SAMPLES = 10  # KID subsets, 3-nearest-neighbour precision/recall and estimator halves need a few.
DATA_ROOT_ENV = "GENBENCH_DATA_ROOT"
CACHE_DIR_ENV = "GENBENCH_CACHE_DIR"
NO_DOWNLOAD_ENV = "GENBENCH_NO_DOWNLOAD"
FID_WEIGHTS_ENV = "GENBENCH_FID_WEIGHTS"
EXECUTORS = ("local", "ray")  # Who does the runs: this process, one after another, or a Ray cluster.


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


ESTIMATOR_ARCHITECTURE = "nnd-conv-v1"  # The divergence estimators' network (genbench.evaluation.divergence).


@dataclass(frozen=True)
class DivergenceSettings:
    """The recipe shared by every model's estimates; recorded in each metric's protocol."""

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
class RunOptions:
    """Everything a ``genbench run`` was asked to do, after validation."""

    models: tuple[str, ...] = DEFAULT_MODELS
    datasets: tuple[str, ...] = DEFAULT_DATASETS
    seeds: tuple[int, ...] = (0,)
    budget: Budget = field(default_factory=lambda: Budget(DEFAULT_KIMG))
    device: str = "auto"
    out: Path = Path("results")
    data_root: Path = field(default_factory=lambda: default_data_root())
    cache_dir: Path | None = field(default_factory=lambda: default_cache_dir())  # None: <out>/.cache
    n_samples: int = DEFAULT_N_SAMPLES
    log_every: int = 50
    download: bool = field(default_factory=lambda: not os.environ.get(NO_DOWNLOAD_ENV))
    restart: bool = False
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # model -> {hyperparameter: value}
    metrics: tuple[str, ...] = KNOWN_METRICS
    reference_split: SplitName = "test"  # What generated images are compared with...
    n_reference: int | None = None  # ...all of it, or a fixed seeded subset of this many images.
    fid_weights: Path | None = field(default_factory=lambda: default_fid_weights())
    divergence: DivergenceSettings = field(default_factory=DivergenceSettings)
    checkpoint_every: float | None = None  # kimg between resume checkpoints (also on SIGINT/SIGTERM).
    eval_every: float | None = None  # kimg between cheap-metric evaluations; None: never.
    n_eval: int = DEFAULT_N_EVAL
    # Where runs execute; none of these changes a run's result, so none is part of its identity.
    executor: str = "local"
    ray_address: str | None = None  # None: $RAY_ADDRESS, else a Ray instance started for the sweep.
    gpus_per_run: float | None = None  # None: one GPU per run on CUDA (fractions share a GPU).
    cpus_per_run: float | None = None  # None: one CPU per run.
    max_retries: int = 2  # Ray retries of a run whose worker process or node died.

    def __post_init__(self) -> None:
        for label, names in (
            ("--models", self.models),
            ("--data", self.datasets),
            ("--seeds", self.seeds),
            ("--metrics", self.metrics),
        ):
            if not names:
                raise UserError(f"{label} needs at least one value")
            if len(set(names)) != len(names):
                raise UserError(f"{label} lists a value twice: {','.join(map(str, names))}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise UserError(f"--device must be auto, cpu or cuda, got '{self.device}'")
        if self.n_samples < MIN_N_SAMPLES:
            raise UserError(f"--n-samples must be at least {MIN_N_SAMPLES}, got {self.n_samples}")
        if self.n_reference is not None and self.n_reference < MIN_N_SAMPLES:
            raise UserError(f"--n-reference must be at least {MIN_N_SAMPLES}, got {self.n_reference}")
        if self.reference_split not in REFERENCE_SPLITS:
            raise UserError(f"--reference-split must be train or test, got '{self.reference_split}'")
        unknown = [name for name in self.metrics if name not in KNOWN_METRICS]
        if unknown:
            raise UserError(f"unknown metric {', '.join(unknown)}; known: {', '.join(KNOWN_METRICS)}")
        if self.fid_weights is not None and not Path(self.fid_weights).is_file():
            raise UserError(
                f"Inception weights file {self.fid_weights} (--fid-weights or ${FID_WEIGHTS_ENV}) "
                "does not exist"
            )
        intervals = (("--checkpoint-every", self.checkpoint_every), ("--eval-every", self.eval_every))
        for label, every in intervals:
            if every is not None and not every > 0:
                raise UserError(f"{label} must be a positive number of kimg (0: off), got {every}")
        if self.n_eval < MIN_N_SAMPLES:
            raise UserError(f"--n-eval must be at least {MIN_N_SAMPLES}, got {self.n_eval}")
        if self.log_every < 1:
            raise UserError(f"--log-every must be at least 1, got {self.log_every}")
        self._check_executor()
        if self.cache_dir is None:
            object.__setattr__(self, "cache_dir", self.out / ".cache")
        for model in self.overrides:
            if model not in self.models:
                raise UserError(
                    f"hyperparameters are set for '{model}', which is not among the models "
                    f"of this run ({', '.join(self.models)})"
                )

    def _check_executor(self) -> None:
        if self.executor not in EXECUTORS:
            raise UserError(f"--executor must be {' or '.join(EXECUTORS)}, got '{self.executor}'")
        for label, amount in (("--gpus-per-run", self.gpus_per_run), ("--cpus-per-run", self.cpus_per_run)):
            if amount is not None and not amount > 0:
                raise UserError(f"{label} must be a positive number (fractions allowed), got {amount:g}")
        if self.max_retries < 0:
            raise UserError(f"--max-retries must be 0 or more, got {self.max_retries}")


_OPTION_KEYS = (
    "models",
    "datasets",
    "seeds",
    "device",
    "out",
    "data_root",
    "n_samples",
    "log_every",
    "restart",
    "metrics",
    "reference_split",
    "n_reference",
    "fid_weights",
    "n_eval",
    "executor",
    "ray_address",
    "gpus_per_run",
    "cpus_per_run",
    "max_retries",
)


def resolve_options(suite: Mapping[str, Any], given: Mapping[str, Any]) -> RunOptions:
    """Built-in defaults, updated by a suite's values, updated by the options given on the command line
    (None means not given). Hyperparameter overrides merge per model and key."""
    merged = {**suite, **{key: value for key, value in given.items() if value is not None}}
    overrides: dict[str, dict[str, Any]] = {
        model: dict(table) for model, table in suite.get("overrides", {}).items()
    }
    for model, table in (given.get("overrides") or {}).items():
        overrides.setdefault(model, {}).update(table)
    budget = Budget(merged.get("kimg", DEFAULT_KIMG), merged.get("steps"), merged.get("seconds"))
    steps = merged.get("divergence_steps")
    divergence = DivergenceSettings() if steps is None else DivergenceSettings(steps=steps)
    # Checkpoints and the cheap metric come at EVAL_POINTS points of the budget unless told otherwise;
    # 0 turns them off.
    every = {key: merged.get(key, budget.kimg / EVAL_POINTS) for key in ("checkpoint_every", "eval_every")}
    return RunOptions(
        budget=budget,
        **{key: None if value == 0 else value for key, value in every.items()},
        overrides=overrides,
        divergence=divergence,
        **{key: merged[key] for key in _OPTION_KEYS if key in merged},
    )


def default_cache_dir() -> Path | None:
    """``GENBENCH_CACHE_DIR`` if set (one cache shared by several output folders), else None."""
    env = os.environ.get(CACHE_DIR_ENV)
    return Path(env) if env else None


def default_fid_weights() -> Path | None:
    """``GENBENCH_FID_WEIGHTS`` if set: a local Inception weights file in torch-fidelity's format."""
    env = os.environ.get(FID_WEIGHTS_ENV)
    return Path(env) if env else None


def default_data_root() -> Path:
    """``GENBENCH_DATA_ROOT`` if set, else a per-user cache folder."""
    env = os.environ.get(DATA_ROOT_ENV)
    return Path(env) if env else Path.home() / ".cache" / "genbench" / "data"


def parse_list(text: str, option: str) -> tuple[str, ...]:
    """``"a,b, c"`` -> ``("a", "b", "c")``."""
    items = tuple(part.strip() for part in text.split(","))
    if not all(items):
        raise UserError(f"{option} takes a comma-separated list without empty items, got {text!r}")
    return items


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"0,1,2"`` -> ``(0, 1, 2)``; seeds are non-negative integers."""
    seeds = []
    for item in parse_list(text, "--seeds"):
        # isdigit() alone admits '¹' and other digits int() refuses.
        if not (item.isascii() and item.isdigit()):
            raise UserError(f"--seeds takes non-negative integers like 0,1,2, got {item!r}")
        seeds.append(int(item))
    return tuple(seeds)
