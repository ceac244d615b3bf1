"""The metric table: every metric a run can ask for, declared once as a :class:`Metric` (its name in
``--metrics`` and suites, the leaderboard columns it fills and which way each is better, what it
means, the feature extractor it reads and the models it applies to). Everything else reads it: the
``--metrics`` and suite validation (``genbench.options.config.KNOWN_METRICS``), evaluation, which loops
over it (``genbench.evaluation.evaluate``), the leaderboard's column order and sort direction, and the
report's column glossary. It imports nothing but the standard library, so results code can read it
without torch-fidelity.

Column names carry the number of generated samples (``fid_10k``) except for the estimates whose
sample use is recorded in their protocol (``jsd_clf``, ``w1_critic``) and constants (``acc_clf_real``).

Adding a metric takes one entry here and one computation, and its row in the README:

1. one :class:`Metric` in :data:`METRICS` below (where it sits is where its columns sit);
2. one computation under its name in ``genbench.evaluation.computations.COMPUTATIONS``: a function
   that gets the chosen metrics of one extractor and the samples, and returns, per metric, its values
   in column order and what its protocol records beyond the shared fields (a metric torch-fidelity
   computes reuses the torch-fidelity one: a line in ``_TORCH_FIDELITY`` there);
3. its row in the README's metric table, with the description as written here.

Evaluation refuses to import while a metric of the table has no computation (or a computation no
metric), and tests/evaluation/test_metric_table.py checks the README's table against this one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Where a metric's features come from: the dataset's reference classifier, torch-fidelity's
# Inception-v3 (weights may be unavailable), or estimators trained afresh on real vs generated images.
EXTRACTORS = ("classifier", "inception", "estimator")
MODELS = ("all", "conditional")  # Which models a metric applies to.
_COUNT_SUFFIX = re.compile(r"_(\d+(\.\d+)?k|\d+)$")


@dataclass(frozen=True)
class Column:
    """One leaderboard column of a metric: its stem (``"{n}"`` stands for the sample count), which
    way is better, and what it holds beyond its metric's description (empty for the main value)."""

    stem: str
    higher_is_better: bool = False
    note: str = ""

    def name(self, n: int) -> str:
        """The column's name for ``n`` generated samples."""
        return self.stem.format(n=format_count(n))


@dataclass(frozen=True)
class Metric:
    """A metric as named in ``--metrics`` and suites, with the columns it fills, in order."""

    name: str
    columns: tuple[Column, ...]
    description: str  # The README table's text (checked there); recorded in each column's protocol.
    extractor: str  # One of EXTRACTORS.
    models: str = "all"  # One of MODELS: "conditional" metrics need the labels samples were drawn for.
    details: str = ""  # What the report's column glossary adds (the README says it below its table).

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


def _std(stem: str, over: str) -> Column:
    return Column(stem, note=f"the standard deviation over {over}")


_CLF = "the reference classifier's features"
METRICS: tuple[Metric, ...] = (
    Metric(
        "fd_clf",
        (Column("fd_clf_{n}"),),
        "Fréchet distance in the features of the dataset's reference classifier",
        "classifier",
    ),
    Metric(
        "kid_clf",
        (Column("kid_clf_{n}"), _std("kid_std_clf_{n}", "KID subsets")),
        f"kernel distance (KID, mean and std over subsets) in {_CLF}",
        "classifier",
        details="its kernel (x.y/d + 1)^3 on these features, which are not normalised, makes the numbers "
        "large (digits: about 1e4 at the real-data floor, 2.7e6 for uniform noise): compare them within "
        "a dataset only; unbiased, so at the floor it can be negative: noise, within about one "
        "kid_std_clf of 0",
    ),
    Metric(
        "prc_clf",
        (Column("precision_clf_{n}", True), Column("recall_clf_{n}", True)),
        f"precision/recall (k=3) in {_CLF}",
        "classifier",
    ),
    Metric(
        "isc_clf",
        (Column("isc_clf_{n}", True), _std("isc_std_clf_{n}", "splits")),
        "classifier score: the Inception Score formula on the reference classifier's logits",
        "classifier",
    ),
    Metric(
        "acc_clf",
        (
            Column("acc_clf_{n}", True),
            Column("acc_clf_real", True, "the classifier's accuracy on the real test split"),
        ),
        "conditional models: the classifier's accuracy on samples for their requested labels, beside its "
        "accuracy on the real test split (the ceiling)",
        "classifier",
        models="conditional",
    ),
    Metric(
        "jsd_clf",
        (Column("jsd_clf"),),
        "Jensen–Shannon estimate (nats, 0..log 2) of a fresh real-vs-generated classifier: "
        "log 2 − held-out BCE",
        "estimator",
    ),
    Metric(
        "w1_critic",
        (Column("w1_critic"),),
        "Earth-Mover (W1) estimate of a fresh WGAN-GP critic (gradient penalty 10): "
        "held-out E f(real) − E f(generated)",
        "estimator",
    ),
    Metric(
        "fid",
        (Column("fid_{n}"),),
        "Fréchet Inception distance (torch-fidelity, Inception-v3 2048-d features)",
        "inception",
    ),
    Metric(
        "kid",
        (Column("kid_{n}"), _std("kid_std_{n}", "KID subsets")),
        "kernel Inception distance (KID, mean and std over subsets)",
        "inception",
    ),
    Metric(
        "isc",
        (Column("isc_{n}", True), _std("isc_std_{n}", "splits")),
        "Inception Score (torch-fidelity, mean and std over splits)",
        "inception",
    ),
    Metric(
        "prc",
        (Column("precision_{n}", True), Column("recall_{n}", True)),
        "precision/recall (k=3) in Inception-v3 2048-d features",
        "inception",
    ),
)
METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in METRICS)
_BY_NAME = {m.name: m for m in METRICS}
# Column stem without its count ("kid_std_clf") -> (metric, column): the leaderboard's names resolved.
_BY_STEM = {c.stem.removesuffix("_{n}"): (m, c) for m in METRICS for c in m.columns}


def metric(name: str) -> Metric:
    """The metric called ``name`` (a KeyError naming it where there is none)."""
    return _BY_NAME[name]


def uses_extractor(names: Iterable[str], extractor: str) -> bool:
    """Whether any of the metrics ``names`` reads ``extractor`` (e.g. whether Inception is needed)."""
    return any(_BY_NAME[name].extractor == extractor for name in names if name in _BY_NAME)


def column_spec(name: str) -> tuple[Metric, Column] | None:
    """The metric and column a leaderboard column name belongs to, or None for other columns."""
    return _BY_STEM.get(stem_of(name))


def column(stem: str, n: int) -> str:
    """The column name of a stem for ``n`` generated samples: ``column("fid_{n}", 10000) == "fid_10k"``."""
    return stem.format(n=format_count(n))


def stem_of(name: str) -> str:
    """A column name without its sample count: ``fid_10k`` -> ``fid``, ``w1_critic`` -> ``w1_critic``."""
    return _COUNT_SUFFIX.sub("", name)


def higher_is_better(name: str) -> bool:
    """Whether a larger value of this column is better (precision, recall, scores, accuracy); columns
    outside the table (distances logged during training) are better small."""
    spec = column_spec(name)
    return spec is not None and spec[1].higher_is_better


def column_order(names: list[str]) -> list[str]:
    """Metric columns in table order (classifier metrics, estimates, Inception metrics), then any
    others alphabetically, so related columns sit together whatever the sample count."""
    rank = {stem: i for i, stem in enumerate(_BY_STEM)}
    return sorted(names, key=lambda name: (rank.get(stem_of(name), len(rank)), name))


def format_count(n: int) -> str:
    """A sample count as used in metric names: 10000 -> '10k', 1500 -> '1.5k', 500 -> '500'."""
    if n >= 1000 and n % 100 == 0:
        return f"{n / 1000:g}k"
    return str(n)
