"""The metric table: every metric a run can ask for, declared once as a :class:`Metric`: its name in
``--metrics`` and suites, the leaderboard columns it fills (which way each is better, which is a
spread, its unit), what it means, the feature extractor it reads, the models it applies to, and how it
is computed. Everything else reads it: the ``--metrics`` and suite validation
(``genbench.options.config.KNOWN_METRICS``), evaluation, which loops over it and calls each metric's
computation (``genbench.evaluation.evaluate``), the sweep's Inception warning, the leaderboard's columns,
their order, sort direction and spreads, and the report's column glossary. It imports nothing but the
standard library, so the results layer reads it without torch.

Column names carry the number of generated samples (``fid_10k``) except for the estimates whose
sample use is recorded in their protocol (``jsd_clf``, ``w1_critic``) and constants (``acc_clf_real``).

A computation is code of ``genbench.evaluation``, which this layer may not import: a :class:`Metric`
names it (``"module:function"``, like an entry point) and evaluation resolves the name, refusing to
import while one does not resolve. Adding a metric takes:

1. one :class:`Metric` in :data:`METRICS` below (where it sits is where its columns sit), naming its
   computation: torch-fidelity's own metric (:func:`torch_fidelity`), a fresh estimator trained on
   real vs generated halves (:func:`estimate`), or any function of ``genbench.evaluation`` with the
   signature of ``genbench.evaluation.computation.Compute``;
2. that one function, unless the metric reuses torch-fidelity's (its columns then name the result
   keys they show);
3. its test, and its row in the README's metric table, with the description as written here
   (tests/evaluation/test_metric_table.py checks the README's table against this one).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

# Where a metric's features come from: the dataset's reference classifier, torch-fidelity's
# Inception-v3 (weights may be unavailable), estimators trained afresh on real vs generated images, or
# the offline feature spaces: pixels through a PCA of the train split, a seeded random network.
EXTRACTORS = ("classifier", "inception", "estimator", "pixel_pca", "random_cnn")
MODELS = ("all", "conditional")  # Which models a metric applies to.
_COUNT_SUFFIX = re.compile(r"_(\d+(\.\d+)?k|\d+)$")
NO_BETTER_SIDE = "no better side: a diagnostic, read it against the floor"  # direction() of ranked=False.
LOWER, UPPER = "_lo", "_hi"  # Suffixes of the columns of an interval's ends (Column.interval).
_REFERENCE = re.compile(r"^genbench\.evaluation\.\w+(\.\w+)*:\w+$")  # "module:function" in evaluation.


@dataclass(frozen=True)
class Computation:
    """How a metric is computed: ``function`` names a function of ``genbench.evaluation`` as
    ``"module:function"`` (evaluation resolves it: this layer may not import it) and ``argument`` is
    what that function needs of this metric beyond the table (torch-fidelity's metric name, the
    estimator to train). Metrics with one function and one extractor are computed in one call, so they
    share its work: one torch-fidelity pass per extractor, one pair of halves for the estimates."""

    function: str
    argument: str = ""

    def __post_init__(self) -> None:
        if not _REFERENCE.match(self.function):
            raise ValueError(f"a computation is 'genbench.evaluation.MODULE:FUNCTION', got {self.function!r}")

    @property
    def references(self) -> tuple[str, ...]:
        """The functions this computation names: its own, and its argument where that names one too
        (an estimator): evaluation resolves them all when it is imported."""
        return (self.function, self.argument) if _REFERENCE.match(self.argument) else (self.function,)


def torch_fidelity(metric: str) -> Computation:
    """torch-fidelity's ``metric`` (``fid``, ``kid``, ``prc`` or ``isc``) in the metric's extractor:
    each of its columns shows the torch-fidelity result its ``key`` names."""
    return Computation("genbench.evaluation.fidelity_metrics:torch_fidelity", metric)


def estimate(estimator: str) -> Computation:
    """The held-out estimate of a fresh network trained on halves of the real and generated images:
    ``estimator`` names its function (``"module:function"``, given the halves, the settings and a
    progress sink, returning the estimate with its held-out terms: genbench.evaluation.divergence.HeldOut)."""
    return Computation("genbench.evaluation.estimates:estimates", estimator)


@dataclass(frozen=True)
class Column:
    """One leaderboard column of a metric: its stem (``"{n}"`` stands for the sample count), which
    way is better, what it holds beyond its metric's description (empty for the main value), whether
    it is a spread (a standard deviation: shown in tables, never ranked by default or plotted), its
    unit where it has one, for torch-fidelity's metrics the result key it shows, whether it gets a
    95% interval over the run's samples: two more columns beside it, ``<name>_lo`` and ``<name>_hi``,
    which its computation fills (genbench.evaluation.bootstrap), and whether models are ranked on it.

    ``ranked=False`` marks a diagnostic with no better side (the copying check: C_T near 0 is what
    real data reads, above 0 is underfitting, below copying; noise reads authentic): it is shown and
    can be sorted by, but never gets a verdict, a "best" mark or a better direction."""

    stem: str
    higher_is_better: bool = False
    note: str = ""
    spread: bool = False
    unit: str = ""
    key: str = ""
    interval: bool = False
    ranked: bool = True

    def __post_init__(self) -> None:
        if not self.ranked and self.higher_is_better:
            raise ValueError(f"column {self.stem}: a diagnostic (ranked=False) has no better side")

    def name(self, n: int) -> str:
        """The column's name for ``n`` generated samples."""
        return self.stem.format(n=format_count(n))

    def bounds(self, n: int) -> tuple[str, str]:
        """The names of the interval's lower and upper end for ``n`` generated samples."""
        return bounds_of(self.name(n))

    def names(self, n: int) -> tuple[str, ...]:
        """Every column this one fills for ``n`` generated samples: itself, then its interval's ends."""
        return (self.name(n), *self.bounds(n)) if self.interval else (self.name(n),)

    @property
    def label(self) -> str:
        """The column's name without its sample count: ``kid_std`` for ``kid_std_{n}``."""
        return self.stem.removesuffix("_{n}")


@dataclass(frozen=True)
class Metric:
    """A metric as named in ``--metrics`` and suites, with the columns it fills, in order, and how it
    is computed."""

    name: str
    columns: tuple[Column, ...]
    description: str  # The README table's text (checked there); recorded in each column's protocol.
    extractor: str  # One of EXTRACTORS.
    computation: Computation
    models: str = "all"  # One of MODELS: "conditional" metrics need the labels samples were drawn for.
    details: str = ""  # What the report's column glossary adds (the README says it below its table).
    # Computed when --metrics is not given; False: asked for by name only (a cost most runs need not pay).
    default: bool = True

    @property
    def glossary(self) -> str:
        """The description with its details: what the report says of the metric's columns."""
        return f"{self.description}; {self.details}" if self.details else self.description

    def __post_init__(self) -> None:
        if self.extractor not in EXTRACTORS or self.models not in MODELS or not self.columns:
            raise ValueError(f"metric {self.name}: extractor, models or columns not valid")

    def applies_to(self, conditional: bool) -> bool:
        """Whether a model that is (or is not) conditional gets this metric."""
        return self.models == "all" or conditional


def _std(stem: str, over: str, key: str) -> Column:
    return Column(stem, note=f"the standard deviation over {over}", spread=True, key=key)


# torch-fidelity's result keys (torch_fidelity.metric_*.KEY_METRIC_*; a test checks them).
_FD = "frechet_inception_distance"
_KID, _KID_STD = "kernel_inception_distance_mean", "kernel_inception_distance_std"
_ISC, _ISC_STD = "inception_score_mean", "inception_score_std"
_CLF = "the reference classifier's features"
# What the estimates' details say of their floor (genbench.evaluation.estimates).
_FLOORED = (
    "floored at 0, so a 0 may stand for a negative raw value: a held-out value below 0 only measures "
    "the estimator's noise (real vs real reads around 0, either side); metrics.json records the raw "
    "value as raw_value in the column's protocol"
)
METRICS: tuple[Metric, ...] = (
    Metric(
        "fd_clf",
        (Column("fd_clf_{n}", key=_FD, interval=True),),
        "Fréchet distance in the features of the dataset's reference classifier",
        "classifier",
        torch_fidelity("fid"),
    ),
    Metric(
        "kid_clf",
        (Column("kid_clf_{n}", key=_KID, interval=True), _std("kid_std_clf_{n}", "KID subsets", _KID_STD)),
        f"kernel distance (KID, mean and std over subsets) in {_CLF}",
        "classifier",
        torch_fidelity("kid"),
        details="its kernel (x.y/d + 1)^3 on these features, which are not normalised, makes the numbers "
        "large (digits: about 1e4 at the real-data floor, 2.7e6 for uniform noise): compare them within "
        "a dataset only; unbiased, so at the floor it can be negative: noise, within about one "
        "kid_std_clf of 0",
    ),
    Metric(
        "prc_clf",
        (
            Column("precision_clf_{n}", True, key="precision", interval=True),
            Column("recall_clf_{n}", True, key="recall", interval=True),
        ),
        f"precision/recall (k=3) in {_CLF}",
        "classifier",
        torch_fidelity("prc"),
    ),
    Metric(
        "isc_clf",
        (Column("isc_clf_{n}", True, key=_ISC, interval=True), _std("isc_std_clf_{n}", "splits", _ISC_STD)),
        "classifier score: the Inception Score formula on the reference classifier's logits",
        "classifier",
        torch_fidelity("isc"),
    ),
    Metric(
        "acc_clf",
        (
            Column("acc_clf_{n}", True, interval=True),
            Column("acc_clf_real", True, "the classifier's accuracy on the real test split"),
        ),
        "conditional models: the classifier's accuracy on samples for their requested labels, beside its "
        "accuracy on the real test split (the ceiling)",
        "classifier",
        Computation("genbench.evaluation.accuracy:accuracy"),
        models="conditional",
    ),
    Metric(
        "jsd_clf",
        (Column("jsd_clf", unit=f"nats, in [0, log 2 = {math.log(2):.4f}]", interval=True),),
        "Jensen–Shannon estimate (nats, 0..log 2) of a fresh real-vs-generated classifier: "
        "log 2 − held-out BCE",
        "estimator",
        estimate("genbench.evaluation.divergence:jsd_held_out"),
        details=_FLOORED,
    ),
    Metric(
        "w1_critic",
        (Column("w1_critic", unit="[-1, 1] pixels, L2", interval=True),),
        "Earth-Mover (W1) estimate of a fresh WGAN-GP critic (gradient penalty 10): "
        "held-out E f(real) − E f(generated)",
        "estimator",
        estimate("genbench.evaluation.divergence:w1_held_out"),
        details=_FLOORED,
    ),
    Metric(
        "fid",
        (Column("fid_{n}", key=_FD, interval=True),),
        "Fréchet Inception distance (torch-fidelity, Inception-v3 2048-d features)",
        "inception",
        torch_fidelity("fid"),
    ),
    Metric(
        "kid",
        (Column("kid_{n}", key=_KID, interval=True), _std("kid_std_{n}", "KID subsets", _KID_STD)),
        "kernel Inception distance (KID, mean and std over subsets)",
        "inception",
        torch_fidelity("kid"),
    ),
    Metric(
        "isc",
        (Column("isc_{n}", True, key=_ISC, interval=True), _std("isc_std_{n}", "splits", _ISC_STD)),
        "Inception Score (torch-fidelity, mean and std over splits)",
        "inception",
        torch_fidelity("isc"),
    ),
    Metric(
        "prc",
        (
            Column("precision_{n}", True, key="precision", interval=True),
            Column("recall_{n}", True, key="recall", interval=True),
        ),
        "precision/recall (k=3) in Inception-v3 2048-d features",
        "inception",
        torch_fidelity("prc"),
    ),
    Metric(
        "copying_clf",
        (
            Column(
                "ct_clf_{n}",
                note="C_T: below 0, samples nearer the training set than held-out images",
                interval=True,
                ranked=False,
            ),
            Column(
                "auth_clf_{n}",
                note="the authentic fraction (copies are not authentic)",
                interval=True,
                ranked=False,
            ),
        ),
        f"copying of the train split in {_CLF}: the C_T statistic (Meehan et al. 2020; about 0 "
        "without copying, well below 0 with) and the authentic fraction (Alaa et al. 2022)",
        "classifier",
        Computation("genbench.evaluation.feature_metrics:feature_metrics", "copying"),
        details="both compare distances to the nearest training image with those of held-out test "
        "images; neither is a quality score (noise is far from the training set: it reads authentic); "
        "the floor row shows real images no model trained on",
    ),
    Metric(
        "fd_gap_clf",
        (
            Column("fd_train_clf_{n}", note="against a seeded subset of the train split", interval=True),
            Column("fd_test_clf_{n}", note="against the held-out half of the test split", interval=True),
        ),
        f"the train/test gap: Fréchet distance in {_CLF} to train images beside the distance to as "
        "many held-out test images",
        "classifier",
        Computation("genbench.evaluation.feature_metrics:feature_metrics", "gap"),
    ),
    Metric(
        "fd_inf_clf",
        (Column("fd_inf_clf", interval=True),),
        f"FD∞ (Chong & Forsyth 2020): Fréchet distance in {_CLF} at 15 sub-sample sizes, regressed on "
        "1/n and extrapolated to infinitely many samples",
        "classifier",
        Computation("genbench.evaluation.feature_metrics:feature_metrics", "fd_infinity"),
    ),
    Metric(
        "fd_pca",
        (Column("fd_pca_{n}", key=_FD, interval=True),),
        "Fréchet distance of pixels through a fixed 64-component PCA of the train split",
        "pixel_pca",
        torch_fidelity("fid"),
    ),
    Metric(
        "fd_rand",
        (Column("fd_rand_{n}", key=_FD, interval=True),),
        "Fréchet distance in the features of the reference classifier's architecture with random, "
        "seeded weights (never trained)",
        "random_cnn",
        torch_fidelity("fid"),
        default=False,  # 2.4 s of CPU a run at 28x28; fd_pca already gives an untrained second space.
    ),
)
METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in METRICS)
DEFAULT_METRICS: tuple[str, ...] = tuple(m.name for m in METRICS if m.default)  # Without --metrics.
_BY_NAME = {m.name: m for m in METRICS}
# Column stem without its count ("kid_std_clf") -> (metric, column): the leaderboard's names resolved.
_BY_STEM = {c.label: (m, c) for m in METRICS for c in m.columns}


def metric(name: str) -> Metric:
    """The metric called ``name`` (a KeyError naming it where there is none)."""
    return _BY_NAME[name]


def metrics_of(extractor: str) -> tuple[Metric, ...]:
    """The metrics that read ``extractor``, in table order."""
    return tuple(m for m in METRICS if m.extractor == extractor)


def uses_extractor(names: Iterable[str], extractor: str) -> bool:
    """Whether any of the metrics ``names`` reads ``extractor`` (e.g. whether Inception is needed)."""
    return any(_BY_NAME[name].extractor == extractor for name in names if name in _BY_NAME)


def column_spec(name: str) -> tuple[Metric, Column] | None:
    """The metric and column a leaderboard column name belongs to, or None for other columns (an
    interval's ends included: :func:`bound_of`)."""
    return _BY_STEM.get(stem_of(name))


def bounds_of(name: str) -> tuple[str, str]:
    """The names of the lower and upper end of column ``name``'s interval: ``fid_10k_lo``, ``fid_10k_hi``."""
    return f"{name}{LOWER}", f"{name}{UPPER}"


def bound_of(name: str) -> str | None:
    """The column whose interval ``name`` ends (``fid_10k`` for ``fid_10k_lo``), None where ``name`` is
    not an end of the interval of a column that has one."""
    for suffix in (LOWER, UPPER):
        if name.endswith(suffix):
            spec = column_spec(name.removesuffix(suffix))
            if spec is not None and spec[1].interval:
                return name.removesuffix(suffix)
    return None


def stem_of(name: str) -> str:
    """A column name without its sample count: ``fid_10k`` -> ``fid``, ``w1_critic`` -> ``w1_critic``."""
    return _COUNT_SUFFIX.sub("", name)


def higher_is_better(name: str) -> bool:
    """Whether a larger value of this column is better (precision, recall, scores, accuracy); columns
    outside the table (distances logged during training) are better small."""
    spec = column_spec(name)
    return spec is not None and spec[1].higher_is_better


def is_ranked(name: str) -> bool:
    """Whether models are ranked on this column: False for the table's diagnostics (``ranked=False``:
    no verdicts, no "best") and its spreads; columns outside the table are ranked, smaller better."""
    spec = column_spec(name)
    return spec is None or (spec[1].ranked and not spec[1].spread)


def direction(name: str) -> str:
    """Which way this column is better, in words: ``higher is better``, ``lower is better``, or
    :data:`NO_BETTER_SIDE` for a diagnostic."""
    spec = column_spec(name)
    if spec is not None and not spec[1].ranked:
        return NO_BETTER_SIDE
    return "higher is better" if higher_is_better(name) else "lower is better"


def arrow(name: str) -> str:
    """The short form of :func:`direction`: ↑, ↓, or ◇ for a diagnostic."""
    return {NO_BETTER_SIDE: "◇", "higher is better": "↑"}.get(direction(name), "↓")


def is_spread(name: str) -> bool:
    """Whether this column is a spread of the table (a standard deviation over subsets or splits)."""
    spec = column_spec(name)
    return spec is not None and spec[1].spread


def column_order(names: list[str]) -> list[str]:
    """Metric columns in table order (classifier metrics, estimates, Inception metrics), each followed by
    its interval's ends, then any others alphabetically, so related columns sit together whatever the
    sample count."""
    rank = {stem: i for i, stem in enumerate(_BY_STEM)}
    ends = {LOWER: 1, UPPER: 2}

    def key(name: str) -> tuple[int, str, int]:
        column = bound_of(name)
        end = ends[name.removeprefix(column)] if column else 0
        column = column or name
        return rank.get(stem_of(column), len(rank)), column, end

    return sorted(names, key=key)


def format_count(n: int) -> str:
    """A sample count as used in metric names: 10000 -> '10k', 1500 -> '1.5k', 500 -> '500'."""
    if n >= 1000 and n % 100 == 0:
        return f"{n / 1000:g}k"
    return str(n)
