"""The metric catalogue: which metrics a run can ask for, the leaderboard columns each one fills, and
which direction is better. Column names carry the number of generated samples (``fid_10k``) except
for the estimates whose sample use is recorded in their protocol (``jsd_clf``, ``w1_critic``)."""

from __future__ import annotations

import re

# Metric (as named in --metrics and suites) -> column stems; "{n}" stands for the sample count.
COLUMNS: dict[str, tuple[str, ...]] = {
    "fd_clf": ("fd_clf_{n}",),
    "kid_clf": ("kid_clf_{n}", "kid_std_clf_{n}"),
    "prc_clf": ("precision_clf_{n}", "recall_clf_{n}"),
    "isc_clf": ("isc_clf_{n}", "isc_std_clf_{n}"),
    "acc_clf": ("acc_clf_{n}", "acc_clf_real"),
    "jsd_clf": ("jsd_clf",),
    "w1_critic": ("w1_critic",),
    "fid": ("fid_{n}",),
    "kid": ("kid_{n}", "kid_std_{n}"),
    "isc": ("isc_{n}", "isc_std_{n}"),
    "prc": ("precision_{n}", "recall_{n}"),
}
INCEPTION_METRICS = ("fid", "kid", "isc", "prc")
CLASSIFIER_METRICS = ("fd_clf", "kid_clf", "prc_clf", "isc_clf")
DIVERGENCE_METRICS = ("jsd_clf", "w1_critic")
# Column stems where a larger value is better; everything else (distances, divergences, stds) is
# better small.
_HIGHER_IS_BETTER = {"isc", "isc_clf", "precision", "precision_clf", "recall", "recall_clf", "acc_clf"}
_COUNT_SUFFIX = re.compile(r"_(\d+(\.\d+)?k|\d+)$")


def column(stem: str, n: int) -> str:
    """The column name of a stem for ``n`` generated samples: ``column("fid_{n}", 10000) == "fid_10k"``."""
    return stem.format(n=format_count(n))


def stem_of(name: str) -> str:
    """A column name without its sample count: ``fid_10k`` -> ``fid``, ``w1_critic`` -> ``w1_critic``."""
    return _COUNT_SUFFIX.sub("", name)


def higher_is_better(name: str) -> bool:
    """Whether a larger value of this column is better (precision, recall, scores, accuracy)."""
    return stem_of(name) in _HIGHER_IS_BETTER


def column_order(names: list[str]) -> list[str]:
    """Metric columns in catalogue order (classifier metrics, estimates, Inception metrics), then any
    others alphabetically, so related columns sit together whatever the sample count."""
    rank = {stem_of(s.format(n=1)): i for i, s in enumerate(s for stems in COLUMNS.values() for s in stems)}
    return sorted(names, key=lambda name: (rank.get(stem_of(name), len(rank)), name))


def format_count(n: int) -> str:
    """A sample count as used in metric names: 10000 -> '10k', 1500 -> '1.5k', 500 -> '500'."""
    if n >= 1000 and n % 100 == 0:
        return f"{n / 1000:g}k"
    return str(n)
