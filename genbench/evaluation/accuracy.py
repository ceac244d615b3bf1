"""The metric table's ``acc_clf``: the reference classifier's accuracy on a conditional model's samples
for the labels they were drawn for, beside its accuracy on the real test split (the ceiling)."""

from __future__ import annotations

from genbench.core.images import balanced_labels
from genbench.core.metrics import Metric
from genbench.evaluation.bootstrap import mean_interval
from genbench.evaluation.classifier_features import sample_outputs
from genbench.evaluation.computation import Computed, Request

# How the labels were drawn, as the protocol records it: named from the function, so it cannot go stale.
_DRAWN_BY = f"{balanced_labels.__module__}.{balanced_labels.__name__}"
REQUESTED_LABELS = f"balanced: 0, 1, ..., K-1, 0, 1, ... ({_DRAWN_BY})"
INTERVAL_METHOD = (
    "normal bootstrap interval: the accuracy ± 1.96 standard errors over resamples of the generated "
    "images (each right or wrong)"
)


def accuracy(metrics: list[Metric], request: Request) -> dict[str, Computed]:
    """The reference classifier's accuracy on generated images for the labels they were asked for,
    beside its accuracy on the real test split (the ceiling). The samples' logits come from the pass
    the feature metrics read too (genbench.evaluation.classifier_features.sample_outputs)."""
    setup, labels = request.setup, request.labels
    assert labels is not None  # A metric for conditional models only (Metric.models).
    correct = sample_outputs(setup, request.samples).logits.argmax(dim=1) == labels.cpu()
    value = int(correct.sum()) / len(correct)
    protocol = {**setup.classifier.protocol(), "requested_labels": REQUESTED_LABELS}
    computed = {}
    for metric in metrics:  # Its columns: the accuracy on samples, then on the real test split (no interval).
        if not request.wants_intervals:
            computed[metric.name] = Computed((value, setup.classifier.test_accuracy), protocol)
            continue
        interval = mean_interval(correct, setup.intervals, 0.0, 1.0)
        with_interval = {**protocol, "interval": setup.intervals.protocol(INTERVAL_METHOD)}
        computed[metric.name] = Computed(
            (value, setup.classifier.test_accuracy), with_interval, (interval, None)
        )
    return computed
