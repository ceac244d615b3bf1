"""The 95% intervals over a run's samples of the generalisation metrics (genbench.evaluation.generalisation):
C_T, the authentic fraction and the train/test gap, each a normal bootstrap interval
(genbench.evaluation.bootstrap) like every other metric's.

What is resampled is what varies from one evaluation to another of the same model: the generated
images, and the held-out images they are compared with. What every run shares stays fixed: the training
features, their k-means partition and nearest-neighbour indices; so each sample's cell and distance to
the training set are computed once and only their selection is resampled.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from genbench.core.run_spec import IntervalSettings
from genbench.evaluation.bootstrap import indices, mean_interval, normal_interval, standard_error
from genbench.evaluation.computation import Interval
from genbench.evaluation.copying import c_t_of

COPYING_METHOD = (
    "normal bootstrap interval: C_T ± 1.96 standard errors over resamples of the generated and of the "
    "held-out images, each side independently (their cells and distances to the training set held as "
    "computed); the authentic fraction ± 1.96 standard errors over resamples of the generated images"
)
GAP_METHOD = (
    "normal bootstrap interval: each FD ± 1.96 standard errors over resamples of the generated and of "
    "the train subset's or the held-out images' features, each side independently"
)
CellDistances = tuple[np.ndarray, np.ndarray]  # Each point's k-means cell and distance to the training set.


def c_t_interval(
    generated: CellDistances,
    held_out: CellDistances,
    cells: int,
    value: float | None,
    settings: IntervalSettings,
) -> Interval | None:
    """The interval of C_T ``value`` of the ``generated`` points against the ``held_out`` ones (None
    where there is no value, or a resample leaves no cell with enough generated points)."""
    if value is None:
        return None
    (gen_cells, gen_distances), (held_cells, held_distances) = generated, held_out

    def statistic(ig: np.ndarray, ih: np.ndarray, axis: int) -> np.ndarray:
        found = (
            c_t_of((gen_cells[i], gen_distances[i]), (held_cells[j], held_distances[j]), cells)[0]
            for i, j in zip(ig, ih, strict=True)
        )
        return np.array([math.nan if c_t is None else c_t for c_t in found])

    error = standard_error((indices(len(gen_cells)), indices(len(held_cells))), statistic, settings)
    return normal_interval(value, error, settings) if math.isfinite(error) else None


def authentic_interval(authentic: np.ndarray, settings: IntervalSettings) -> Interval:
    """The interval of the authentic fraction, the mean of each sample's ``authentic`` (bool)."""
    return mean_interval(torch.from_numpy(authentic.astype(np.float64)), settings, 0.0, 1.0)
