"""Which models of a dataset differ, metric by metric, over their seeds: the data behind
``genbench compare`` (:func:`compare_models`) and the report's significance matrix
(:func:`significance_matrix`), read from a leaderboard frame (genbench.results.leaderboard).

Only finished runs count, one value per seed. A model with runs of several setups (budgets,
hyperparameters) is one model per setup, named ``model [setup]`` as everywhere else
(genbench.results.leaderboard.variant_labels): seeds of different experiments are never pooled.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pandas as pd

from genbench.core.layout import FLOOR_MODEL
from genbench.core.metrics import column_spec, higher_is_better, is_ranked
from genbench.errors import UserError
from genbench.results.leaderboard import metric_columns, variant_labels
from genbench.results.statistics import (
    A_BETTER,
    B_BETTER,
    OTHER_CLASSIFIERS,
    Comparison,
    SeedSummary,
    compare_seeds,
    seed_summary,
    unranked,
)

FINISHED = "finished"
SETUP_SEPARATOR = "@"  # MODEL@SETUP names one setup of a model with several.
SETUP_SHOWN = 8  # How much of a setup hash a message gives to name it (the start is enough).
CLASSIFIER_COLUMN = "classifier_weights"  # The leaderboard's protocol column of the classifier's hash.


@dataclass(frozen=True)
class MetricComparison:
    """Model A against model B on one metric of one dataset: each side over its seeds, and the test."""

    dataset: str
    metric: str
    model_a: str  # As seed_runs names it: ``model`` or ``model [setup]``.
    model_b: str
    a: SeedSummary
    b: SeedSummary
    comparison: Comparison


def seed_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """The finished runs of ``frame`` (no floors), each named by its model (``model [setup]`` where a
    model has runs of several setups on a dataset) in column ``variant``, in seed order."""
    runs = frame[(frame["status"] == FINISHED) & (frame["model"] != FLOOR_MODEL)]
    return runs.assign(variant=variant_labels(runs)).sort_values(
        ["dataset", "variant", "seed"], kind="stable"
    )


def compared_metrics(frame: pd.DataFrame) -> list[str]:
    """The metrics a comparison covers by default: the metric table's values at the end of training
    (no spreads or diagnostics, nothing measured during training) that some run has."""
    columns = metric_columns(frame)
    return [c for c in columns if column_spec(c) is not None and is_ranked(c) and frame[c].notna().any()]


def resolve_model(runs: pd.DataFrame, dataset: str, name: str) -> str:
    """The variant ``name`` (``model``, or ``model@SETUP`` for one setup of several, SETUP the start of
    its setup hash as the leaderboard's ``setup`` column gives it) names among the finished ``runs`` of
    ``dataset``; a user error saying which exist where it names none or several."""
    model, _, setup = name.partition(SETUP_SEPARATOR)
    on_dataset = runs[runs["dataset"] == dataset]
    mine = on_dataset[on_dataset["model"] == model]
    if setup:
        mine = mine[mine["setup"].astype(str).str.startswith(setup)]
    variants = list(dict.fromkeys(mine["variant"].astype(str)))
    if len(variants) == 1:
        return variants[0]
    if variants:
        hashes = dict.fromkeys(mine["setup"].astype(str).str[:SETUP_SHOWN])
        setups = ", ".join(f"{model}{SETUP_SEPARATOR}{h}" for h in hashes)
        raise UserError(f"'{model}' has runs of several setups on {dataset}: name one of {setups}")
    known = ", ".join(dict.fromkeys(on_dataset["variant"].astype(str))) or "none"
    raise UserError(
        f"no finished runs of '{name}' on dataset '{dataset}'; models with finished runs: {known}"
    )


def compare_models(
    runs: pd.DataFrame, dataset: str, a: str, b: str, metrics: list[str]
) -> list[MetricComparison]:
    """Variant ``a`` against variant ``b`` (as :func:`seed_runs` names them) on each of ``metrics`` of
    ``dataset``, over their seeds."""
    compared = []
    for metric in metrics:
        values_a, values_b = (_values(runs, dataset, variant, metric) for variant in (a, b))
        comparison = _compared(runs, dataset, a, b, metric)
        compared.append(
            MetricComparison(
                dataset, metric, a, b, seed_summary(values_a), seed_summary(values_b), comparison
            )
        )
    return compared


def significance_matrix(runs: pd.DataFrame, dataset: str, metric: str) -> pd.DataFrame:
    """Every pair of ``dataset``'s models on ``metric``: a frame indexed by model A (rows) and model B
    (columns), models best first by their mean, each cell the :class:`Comparison` of A against B (None
    on the diagonal); empty when no model has a value."""
    on_dataset = runs[(runs["dataset"] == dataset) & runs[metric].notna()]
    means = on_dataset.groupby("variant")[metric].mean()
    order = list(means.sort_values(ascending=not higher_is_better(metric), kind="stable").index.astype(str))
    cells = [[None if a == b else _compared(runs, dataset, a, b, metric) for b in order] for a in order]
    return pd.DataFrame(
        cells, index=pd.Index(order, name="A"), columns=pd.Index(order, name="B"), dtype=object
    )


def _compared(runs: pd.DataFrame, dataset: str, a: str, b: str, metric: str) -> Comparison:
    """Variant ``a`` against ``b`` on ``metric`` over their seeds; no verdict where the metric reads the
    reference classifier's features and the two were scored with different classifiers."""
    values_a, values_b = (_values(runs, dataset, variant, metric) for variant in (a, b))
    comparison = compare_seeds(values_a, values_b, higher_is_better(metric))
    if _reads_classifier(metric) and _classifiers(runs, dataset, a) != _classifiers(runs, dataset, b):
        return unranked(comparison, OTHER_CLASSIFIERS)
    return comparison


def _classifiers(runs: pd.DataFrame, dataset: str, variant: str) -> set[str]:
    """The reference classifiers (their weights' hash prefixes) ``variant``'s runs were scored with."""
    if CLASSIFIER_COLUMN not in runs.columns:
        return set()
    rows = runs[(runs["dataset"] == dataset) & (runs["variant"] == variant)]
    return set(rows[CLASSIFIER_COLUMN].dropna().astype(str))


def _reads_classifier(metric: str) -> bool:
    """Whether the leaderboard column ``metric`` is measured in the reference classifier's features."""
    spec = column_spec(metric)
    return spec is not None and spec[0].extractor == "classifier"


def _values(runs: pd.DataFrame, dataset: str, variant: str, metric: str) -> list[float]:
    """One value per finished seed of ``variant`` on ``dataset`` (NaN where a seed has none)."""
    rows = runs[(runs["dataset"] == dataset) & (runs["variant"] == variant)]
    return rows[metric].astype(float).tolist() if metric in rows.columns else []


def side_by_side(summary: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """For each pair of models next to each other in a summary (genbench.results.leaderboard.summarise,
    a dataset's models best first), whether they differ on each metric over their seeds: one row per
    metric (first column, unnamed), one column per pair (``dataset: A vs B``); empty without pairs."""
    runs = seed_runs(frame)
    models = summary[summary["model"] != FLOOR_MODEL]
    labels = variant_labels(models)
    columns: dict[str, dict[str, str]] = {}
    for dataset, rows in labels.groupby(models["dataset"], sort=False):
        order = list(dict.fromkeys(rows.astype(str)))
        for a, b in itertools.pairwise(order):
            compared = compare_models(
                runs, str(dataset), a, b, compared_metrics(runs[runs["dataset"] == dataset])
            )
            columns[f"{dataset}: {a} vs {b}"] = {found.metric: _said(found) for found in compared}
    if not columns:
        return pd.DataFrame()
    return pd.DataFrame(columns).rename_axis("").reset_index()


def _said(found: MetricComparison) -> str:
    """A verdict in the models' names."""
    verdict = found.comparison.verdict
    return {A_BETTER: f"{found.model_a} better", B_BETTER: f"{found.model_b} better"}.get(verdict, verdict)
