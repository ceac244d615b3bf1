"""The options of a benchmark run, each declared once as a field of :class:`RunOptions`, validated
once, saved with every run record.

To add an option, add one field to ``RunOptions`` here (see genbench.options.declaration for what a
field declares): the command line, suite files, bounds checks and the run identity follow from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from genbench.api import SplitName
from genbench.core.run_spec import (
    DEFAULT_RESAMPLES,
    MAX_RESAMPLES,
    Budget,
    DivergenceSettings,
    IntervalSettings,
)
from genbench.errors import UserError
from genbench.options.declaration import (
    auto_or_count,
    count,
    declared,
    existing_file,
    folder,
    names,
    number,
    one_of,
    option,
)
from genbench.options.environment import (
    CACHE_DIR_ENV,
    DATA_ROOT_ENV,
    FID_WEIGHTS_ENV,
    NO_DOWNLOAD_ENV,
    capture_allowed,
    default_cache_dir,
    default_data_root,
    default_fid_weights,
)
from genbench.options.executor_options import check_executor_options
from genbench.options.lists import parse_list, parse_repeated_lists, parse_seeds
from genbench.options.overrides import parse_set_options

__all__ = [  # Also here for their many importers.
    "CACHE_DIR_ENV",
    "FID_WEIGHTS_ENV",
    "NO_DOWNLOAD_ENV",
    "RunOptions",
    "default_data_root",
    "parse_list",
    "parse_seeds",
    "resolve_options",
]
from genbench.core.metrics import DEFAULT_METRICS, METRIC_NAMES
from genbench.core.record import MAX_SEED
from genbench.options.flags import env_flag

DEFAULT_MODELS = ("dcgan", "vae")
DEFAULT_DATASETS = ("digits",)
DEFAULT_KIMG = 40.0  # Quick default: digits (1,437 train images) for ~28 epochs, minutes on 2 CPU cores.
DEFAULT_N_SAMPLES = 10_000
DEFAULT_N_EVAL = 1_000  # Samples of the cheap metric during training (fd_clf_1k).
EVAL_POINTS = 10  # Default --eval-every and --checkpoint-every: this many points of the budget.
# Metrics a run can compute, in the order of genbench.core.metrics.METRICS, which declares them and which
# of them a run computes by default (all but the opt-in ones).
KNOWN_METRICS = METRIC_NAMES
REFERENCE_SPLITS = ("train", "test")
# auto: bf16 autocast on CUDA for models that declare it safe, float32 otherwise (genbench.running.fast_path).
PRECISIONS = ("auto", "fp32", "bf16")
MIN_N_SAMPLES = 10  # KID subsets, 3-nearest-neighbour precision/recall and estimator halves need a few.
# Bounds of sense: beyond them a value is a typo, and would start work that fails late or never ends.
MAX_KIMG = 1e6  # A billion images.
MAX_STEPS = 10**9
MAX_SECONDS = 1e7  # About 116 days.
MAX_N_SAMPLES = 10**6  # Samples held in memory at once (3 GB of 32x32 colour images).
MAX_N_EVAL = 10**5
MAX_DIVERGENCE_STEPS = 10**6
EXECUTORS = ("local", "ray")  # Who does the runs: this process, one after another, or a Ray cluster.
MAX_RESOURCES_PER_RUN = 1024  # GPUs or CPUs one run may ask Ray for.
MAX_PACK = 64  # Seeds of one model trained together in one process (--pack).


def _a_tenth_of_the_budget(values: Mapping[str, Any]) -> float:
    """Checkpoints and the cheap metric come at EVAL_POINTS points of the budget unless told otherwise."""
    return values.get("kimg", DEFAULT_KIMG) / EVAL_POINTS


def _resamples(flag: str, value: int) -> None:
    """0 (no intervals) or from 2 resamples (a standard error needs two) to MAX_RESAMPLES."""
    count(0, MAX_RESAMPLES)(flag, value)
    IntervalSettings(resamples=value)  # Refuses 1, naming --bootstrap.


@dataclass(frozen=True)
class RunOptions:
    """Everything a ``genbench run`` was asked to do, after validation. Each field with ``option(...)``
    is an option, declared once: its flag, help, suite key, bounds and whether it affects results
    (genbench.options.declaration says how to add one). Built directly (tests, the Python API) or by
    :func:`resolve_options` from a suite and the command line."""

    description: str = option(
        "", help="What a suite compares", cli=False, suite="a string", affects_results=False
    )
    models: tuple[str, ...] = option(
        DEFAULT_MODELS,
        help="Comma-separated model names",
        shown_default=",".join(DEFAULT_MODELS),
        cli_type=str,
        parse=partial(parse_list, option="--models"),
        suite="a list of model names",
        check=names(),
        affects_results=True,
        resolved_as="model",
        metavar="NAME,...",
    )
    datasets: tuple[str, ...] = option(
        DEFAULT_DATASETS,
        help="Comma-separated dataset names",
        shown_default=",".join(DEFAULT_DATASETS),
        flag="--data",
        cli_type=str,
        parse=partial(parse_list, option="--data"),
        suite="a list of dataset names",
        check=names(),
        affects_results=True,
        resolved_as="dataset",
        metavar="NAME,...",
    )
    kimg: float = option(
        DEFAULT_KIMG,
        help="Budget: thousands of real images shown to each model",
        suite="a number",
        check=number(MAX_KIMG),
        group="budget",
        affects_results=True,
        panel="Budget",
        metavar="KIMG",
    )
    steps: int | None = option(
        None,
        help="Optional cap on optimisation steps",
        suite="an integer",
        check=count(1, MAX_STEPS),
        group="budget",
        affects_results=True,
        panel="Budget",
        metavar="STEPS",
    )
    seconds: float | None = option(
        None,
        help="Optional cap on training wall-clock seconds",
        suite="a number",
        check=number(MAX_SECONDS),
        group="budget",
        affects_results=True,
        panel="Budget",
        metavar="SECONDS",
    )
    seeds: tuple[int, ...] = option(
        (0,),
        help="Comma-separated seeds, one run each",
        shown_default="0",
        cli_type=str,
        parse=parse_seeds,
        suite="a list of non-negative integers",
        check=names(high=MAX_SEED),
        affects_results=True,
        resolved_as="seed",
        metavar="SEED,...",
    )
    device: str = option(
        "auto",
        help="auto (CUDA where available), cpu or cuda",
        suite="auto, cpu or cuda",
        check=one_of("auto", "cpu", "cuda"),
        affects_results=True,
        resolved_as="device",  # The device type: which GPU (cuda:0, cuda:1) does not matter.
        panel="Hardware",
        metavar="auto|cpu|cuda",
    )
    precision: str = option(
        "auto",
        help="Training precision: auto (bf16 autocast for models that declare it safe, on CUDA and on a CPU "
        "with bf16 hardware: AMX or AVX-512 BF16; else fp32), fp32 or bf16",
        suite="auto, fp32 or bf16",
        check=one_of(*PRECISIONS),
        affects_results=True,
        resolved_as="precision",  # What auto resolved to for the run's model and device.
        panel="Hardware",
        metavar="auto|fp32|bf16",
    )
    pack: str = option(
        "auto",
        help="Seeds of a model trained together in one process, each as alone: auto (on CUDA every seed "
        "of a model, as many as its free memory holds; on a CPU one at a time) or a number",
        suite="auto or a number of seeds, as a string",
        check=auto_or_count(MAX_PACK),
        affects_results=False,  # Each seed trains exactly as alone: the same run folder, the same numbers.
        panel="Hardware",
        metavar="auto|K",
    )
    out: Path = option(
        Path("results"),
        help="Output folder for run records and the leaderboard",
        check=folder,
        affects_results=False,
        panel="Output",
        metavar="FOLDER",
    )
    data_root: Path = option(
        default_factory=lambda: default_data_root(),
        help="Dataset folder",
        check=folder,
        shown_default=f"${DATA_ROOT_ENV} or ~/.cache/genbench/data",
        affects_results=False,  # The data's hash is in the run identity, not where it was found.
        metavar="FOLDER",
    )
    n_samples: int = option(
        DEFAULT_N_SAMPLES,
        help="Generated samples per model for the metrics",
        suite="an integer",
        check=count(MIN_N_SAMPLES, MAX_N_SAMPLES),
        affects_results=True,
        panel="Evaluation",
        metavar="N",
    )
    log_every: int = option(
        50,
        help="Read the training scalars every N steps",
        suite="an integer",
        check=count(1, MAX_STEPS),
        affects_results=False,
        panel="Output",
        metavar="STEPS",
    )
    metrics: tuple[str, ...] = option(
        DEFAULT_METRICS,
        help="Comma-separated metrics to compute",
        shown_default=f"all but the opt-in {','.join(m for m in KNOWN_METRICS if m not in DEFAULT_METRICS)}",
        cli_type=str,
        parse=partial(parse_list, option="--metrics"),
        suite=f"a list of metric names ({', '.join(KNOWN_METRICS)})",
        check=names(KNOWN_METRICS, "metric"),
        group="evaluation",
        affects_results=True,
        panel="Evaluation",
        metavar="NAME,...",
    )
    reference_split: SplitName = option(
        "test",
        help="The real split generated images are compared with: train or test",
        suite="train or test",
        check=one_of(*REFERENCE_SPLITS),
        group="evaluation",
        affects_results=True,
        panel="Evaluation",
        metavar="test|train",
    )
    n_reference: int | None = option(
        None,  # All of the split (at most its size: checked when the data is loaded).
        help="Compare with a fixed subset of this many reference images",
        shown_default="all",
        suite="an integer",
        check=count(MIN_N_SAMPLES, MAX_N_SAMPLES),
        group="evaluation",
        affects_results=True,
        panel="Evaluation",
        metavar="N",
    )
    fid_weights: Path | None = option(
        default_factory=lambda: default_fid_weights(),
        help="Inception weights file (torch-fidelity's format)",
        shown_default=f"${FID_WEIGHTS_ENV}, the torch hub cache, or a download",
        check=existing_file("Inception weights file", FID_WEIGHTS_ENV),
        affects_results=True,
        resolved_as="inception_weights_sha256",  # The file's hash, wherever it lies.
        panel="Evaluation",
        metavar="FILE",
    )
    divergence_steps: int = option(
        DivergenceSettings.steps,
        help="Training steps of each divergence estimator (jsd_clf, w1_critic)",
        suite="an integer",
        check=count(1, MAX_DIVERGENCE_STEPS),
        group="evaluation",
        affects_results=True,
        panel="Evaluation",
        metavar="STEPS",
    )
    bootstrap: int = option(
        DEFAULT_RESAMPLES,
        help="Resamples of the bootstrap behind every metric's 95% interval over the run's samples "
        "(columns <metric>_lo, <metric>_hi); 0: no intervals",
        suite="an integer (0: no intervals)",
        check=_resamples,
        group="evaluation",
        affects_results=True,
    )
    overrides: dict[str, dict[str, Any]] = option(  # model -> {hyperparameter: value}
        default_factory=dict,
        help="Set a model's hyperparameter, e.g. --set dcgan.lr=1e-4 (repeatable)",
        flag="--set",
        cli_type=list[str],
        parse=parse_set_options,
        suite="a table of per-model tables, e.g. [overrides.wgan]",
        affects_results=True,
        resolved_as="hparams",
        metavar="MODEL.KEY=VALUE",
    )
    sampling: dict[str, dict[str, Any]] = option(  # model -> {sampling option: value}
        default_factory=dict,
        help="Set a model's sampling option, e.g. --sample-set ddpm.sample_steps=10 (repeatable): changes "
        "only the evaluation, never the training",
        flag="--sample-set",
        cli_type=list[str],
        parse=partial(parse_set_options, flag="--sample-set"),
        suite="a table of per-model tables, e.g. [sampling.ddpm]",
        affects_results=True,
        resolved_as="evaluation.sampling",  # The run's model's options unlike its defaults, if any.
        panel="Evaluation",
        metavar="MODEL.KEY=VALUE",
    )
    eval_every: float | None = option(
        None,  # Off when built directly; resolve_options defaults it to a tenth of the budget.
        help="Evaluate the cheap metric (reference-classifier FD on --n-eval samples) every KIMG during "
        "training and keep the best checkpoint; 0: off",
        shown_default="a tenth of the budget",
        suite="a number of kimg (0: off)",
        check=number(MAX_KIMG, what="a positive number of kimg (0: off)"),
        zero_is_off=True,
        default_from=_a_tenth_of_the_budget,
        group="evaluation",
        affects_results=True,
        panel="Evaluation",
        metavar="KIMG",
    )
    n_eval: int = option(
        DEFAULT_N_EVAL,
        help="Samples of the cheap metric during training",
        suite="an integer",
        check=count(MIN_N_SAMPLES, MAX_N_EVAL),
        group="evaluation",
        affects_results=True,
        panel="Evaluation",
        metavar="N",
    )
    checkpoint_every: float | None = option(
        None,  # Off (only on signals) when built directly; resolve_options: a tenth of the budget.
        help="Save a resume checkpoint every KIMG (and on SIGINT/SIGTERM); 0: only on signals",
        shown_default="a tenth of the budget",
        suite="a number of kimg (0: off)",
        check=number(MAX_KIMG, what="a positive number of kimg (0: off)"),
        zero_is_off=True,
        default_from=_a_tenth_of_the_budget,
        affects_results=False,  # Resume is exact: where checkpoints were taken changes nothing.
        panel="Output",
        metavar="KIMG",
    )
    restart: bool = option(
        False,
        help="Start every run over: no reusing finished runs, no resuming unfinished ones",
        affects_results=False,
        panel="Output",
    )
    quiet: bool = option(
        False, help="No progress bars (for CI and logs)", affects_results=False, panel="Output"
    )
    report: bool = option(
        True,
        help="Write report.html, the comparison page, at the end (--no-report: records and leaderboard only)",
        affects_results=False,
        panel="Output",
    )
    dry_run: bool = option(
        False,
        help="List the runs that would be trained, reused or resumed, with their folders; do nothing else",
        affects_results=False,
        negatable=False,
    )
    track: tuple[str, ...] = option(
        (),
        help="Stream each run to these trackers while it trains, e.g. tensorboard (comma-separated or "
        "repeated; `genbench plugins` lists them)",
        shown_default="none",
        cli_type=list[str],
        parse=partial(parse_repeated_lists, option="--track"),
        suite="a list of tracker names",
        check=names(empty=True),
        affects_results=False,  # Watching a run never changes it: the same run folder, the same numbers.
        panel="Output",
        metavar="NAME,...",
    )
    # Where runs execute (genbench.running.executor): none of these changes a result.
    executor: str = option(
        "local",
        help="Who does the runs: local (this process, one after another) or ray (a Ray cluster, one task "
        "per run)",
        suite="local or ray",
        check=one_of(*EXECUTORS),
        affects_results=False,
        panel="Ray",
        metavar="local|ray",
    )
    ray_address: str | None = option(
        None,
        help="The Ray cluster to use with --executor ray",
        shown_default="$RAY_ADDRESS, else a Ray instance started for the sweep",
        suite="a Ray cluster address, e.g. 10.0.0.1:6379",
        affects_results=False,
        panel="Ray",
        metavar="HOST:PORT",
    )
    gpus_per_run: float | None = option(
        None,
        help="GPUs a run asks Ray for on CUDA (fractions share a GPU)",
        shown_default="1",
        suite="a positive number (fractions share a GPU)",
        check=number(MAX_RESOURCES_PER_RUN, what="a positive number (fractions allowed)"),
        affects_results=False,
        panel="Ray",
        metavar="GPUS",
    )
    cpus_per_run: float | None = option(
        None,
        help="CPUs a run asks Ray for on the CPU",
        shown_default="1",
        suite="a positive number",
        check=number(MAX_RESOURCES_PER_RUN, what="a positive number (fractions allowed)"),
        affects_results=False,
        panel="Ray",
        metavar="CPUS",
    )
    max_retries: int = option(
        2,
        help="Ray retries of a run whose worker process or node died (it resumes from its checkpoint)",
        suite="an integer",
        check=count(0, 100),
        affects_results=False,
        panel="Ray",
        metavar="N",
    )
    # Not options: set from the environment (see the README's Data and Caches).
    cache_dir: Path | None = field(default_factory=lambda: default_cache_dir())  # None: <out>/.cache
    download: bool = field(default_factory=lambda: not env_flag(NO_DOWNLOAD_ENV))

    def __post_init__(self) -> None:
        for spec in declared(RunOptions):
            value = getattr(self, spec.name)
            if value is not None and spec.option.check is not None:
                spec.option.check(spec.label, value)
        if not self.budget.images:
            raise UserError(f"--kimg must give at least one image (0.001 kimg), got {self.kimg}")
        for flag, every in (("--checkpoint-every", self.checkpoint_every), ("--eval-every", self.eval_every)):
            if every is not None and every > self.kimg:
                raise UserError(
                    f"{flag} must be at most the budget (--kimg {self.kimg:g}), got {every:g}; 0 turns it off"
                )
        if self.cache_dir is None:
            object.__setattr__(self, "cache_dir", self.out / ".cache")
        folder(f"the cache folder ({CACHE_DIR_ENV})", self.cache_dir)
        capture_allowed()  # Read where a run trains; a bad value is refused now, not as a failed run.
        check_executor_options(self)
        for what, tables in (("hyperparameters", self.overrides), ("sampling options", self.sampling)):
            for model in tables:
                if model not in self.models:
                    raise UserError(
                        f"{what} are set for '{model}', which is not among the models "
                        f"of this run ({', '.join(self.models)})"
                    )

    @property
    def budget(self) -> Budget:
        """The training budget every model of the run gets (the sweep puts it in each run's spec)."""
        return Budget(self.kimg, self.steps, self.seconds)

    @property
    def divergence(self) -> DivergenceSettings:
        """The divergence estimators' recipe (the sweep puts it in each run's spec)."""
        return DivergenceSettings(steps=self.divergence_steps)

    @property
    def intervals(self) -> IntervalSettings:
        """How every metric's interval over the run's samples is made."""
        return IntervalSettings(resamples=self.bootstrap)


def _per_model(
    key: str, what: str, suite: Mapping[str, Any], given: Mapping[str, Any], suite_name: str
) -> dict[str, dict[str, Any]]:
    """The per-model tables of ``key`` (``overrides``, ``sampling``): the suite's, merged per model and
    key with the command line's; the suite's for models the command line leaves out are dropped."""
    models = given.get("models", suite.get("models", DEFAULT_MODELS))
    tables: dict[str, dict[str, Any]] = {}
    for model, table in suite.get(key, {}).items():
        if model in models:
            tables[model] = dict(table)
        elif "models" not in given:
            raise UserError(
                f"{suite_name}: {what} are set for '{model}', which is not among its models "
                f"({', '.join(models)})"
            )
    for model, table in given.get(key, {}).items():
        tables.setdefault(model, {}).update(table)
    return tables


def resolve_options(
    suite: Mapping[str, Any], given: Mapping[str, Any], suite_name: str = "the suite"
) -> RunOptions:
    """Built-in defaults, updated by a suite's values, updated by the options given on the command line
    (None means not given). Hyperparameter overrides merge per model and key; when the command line
    names the models, the suite's overrides for other models are left out (they are not in this run)."""
    given = {key: value for key, value in given.items() if value is not None}
    merged = {**suite, **given}
    for key, what in (("overrides", "hyperparameters"), ("sampling", "sampling options")):
        merged[key] = _per_model(key, what, suite, given, suite_name)
    for spec in declared(RunOptions):
        if spec.name not in merged and spec.option.default_from is not None:
            merged[spec.name] = spec.option.default_from(merged)
        if spec.option.zero_is_off and merged.get(spec.name) == 0:
            merged[spec.name] = None
    return RunOptions(
        **{spec.name: merged[spec.name] for spec in declared(RunOptions) if spec.name in merged}
    )
