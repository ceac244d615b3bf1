"""The metric table's metrics that genbench computes itself from the reference classifier's features
(``computation=Computation("genbench.evaluation.feature_metrics:feature_metrics", NAME)``): copying and
the train/test gap (genbench.evaluation.generalisation) and FD∞ (genbench.evaluation.fd_infinity).

Evaluation computes the metrics of one computation function together, so the classifier reads the
samples once for all of them (at 28x28, 10,000 samples, about 2 s of CPU time saved per metric), and
for ``acc_clf`` too, whose logits come from the same pass (genbench.evaluation.classifier_features).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from genbench.core.metrics import Metric
from genbench.evaluation.classifier_features import sample_outputs
from genbench.evaluation.computation import Computed, Request
from genbench.evaluation.fd_infinity import fd_infinity
from genbench.evaluation.generalisation import copying, gap

# A metric's computation argument -> what computes it from the request and the samples' features.
COMPUTATIONS: dict[str, Callable[[Request, np.ndarray], Computed]] = {
    "copying": copying,
    "gap": gap,
    "fd_infinity": fd_infinity,
}


def feature_metrics(metrics: list[Metric], request: Request) -> dict[str, Computed]:
    """The ``metrics`` (each named by its computation argument) of the request's samples, from one pass
    of the reference classifier over them (shared with ``acc_clf``: genbench.evaluation.accuracy)."""
    features = sample_outputs(request.setup, request.samples).features
    return {m.name: COMPUTATIONS[m.computation.argument](request, features) for m in metrics}
