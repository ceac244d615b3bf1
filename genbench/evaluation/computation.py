"""A metric's computation, as the metric table (genbench.core.metrics) names it: what it is given (a
:class:`Request`), what it returns (a :class:`Computed` per metric), and the function a table entry's
``"module:function"`` names (:func:`compute_function`).

The table cannot hold the functions themselves: it sits in a layer below evaluation, which the results
layer reads without torch. So each :class:`~genbench.core.metrics.Metric` names its computation like an
entry point, and :func:`check_computations`, run when evaluation is imported, resolves every name: a
metric whose computation is missing fails on import, not in the middle of a benchmark.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import torch

from genbench.core.metrics import Metric
from genbench.evaluation.setup import EvaluationSetup


@dataclass(frozen=True)
class Request:
    """What a computation is given: uint8 samples, what they are compared with, the labels a
    conditional model drew them for (None: unconditional), the prefix of progress bar names and
    whether the columns that have one get their interval (``setup.intervals`` says how). ``floor``: the
    samples are the real-data floor's real images, not a model's (a computation that compares with the
    training split scores images no model trained on instead)."""

    samples: torch.Tensor
    setup: EvaluationSetup
    labels: torch.Tensor | None = None
    label: str = ""
    floor: bool = False
    intervals: bool = False  # The cheap metric during training goes without.

    @property
    def wants_intervals(self) -> bool:
        """Whether to compute intervals: asked for, and not turned off (``--bootstrap 0``)."""
        return self.intervals and self.setup.intervals.enabled


Interval = tuple[float, float]  # The lower and upper end of a 95% interval.


@dataclass(frozen=True)
class Computed:
    """One metric's values, in the order of its columns (None: could not be computed), what its
    protocol records beyond the fields every metric shares (EvaluationSetup.base_protocol), and, in
    the order of the columns too, each one's interval over the samples (None for a column without one,
    Column.interval; empty: none computed). ``details``: what the computation found that is no number
    of the record but an output of the run, by name (copying's gallery of the samples nearest to a
    training image, which the run draws: genbench.evaluation.generalisation)."""

    values: tuple[float | None, ...]
    protocol: Mapping[str, Any]
    intervals: tuple[Interval | None, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)


# Computes the given metrics (all of one computation and one extractor) for a request: name -> Computed.
Compute = Callable[[list[Metric], Request], dict[str, Computed]]


@cache
def resolve(reference: str) -> Callable[..., Any]:
    """The function a ``"module:function"`` reference names (a RuntimeError saying which part is
    missing where it does not resolve)."""
    module_name, _, name = reference.partition(":")
    try:
        found: object = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as error:
        raise RuntimeError(f"{reference!r} names no function: {error}") from error
    if not callable(found):
        raise RuntimeError(f"{reference!r} names {type(found).__name__}, not a function")
    return found


def compute_function(metric: Metric) -> Compute:
    """The function that computes ``metric`` (its table entry's computation)."""
    return resolve(metric.computation.function)


def check_computations(metrics: Collection[Metric]) -> None:
    """Raise where a metric's computation names no function, saying which metric: a metric added to
    the table without its computation fails on import, not in the middle of a benchmark."""
    for metric in metrics:
        try:
            for reference in metric.computation.references:
                resolve(reference)
        except RuntimeError as error:
            raise RuntimeError(f"metric {metric.name} of genbench.core.metrics.METRICS: {error}") from error
