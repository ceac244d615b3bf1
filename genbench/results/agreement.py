"""Whether a ranking holds across feature spaces: per dataset (and sample count), the models ranked by
their Fréchet distance in each space the runs were scored in (the reference classifier, the pixel PCA,
the random network, Inception), Kendall's τ between the rankings of each pair of spaces (scipy), and
the pairs of models whose order flips between two spaces.

A ranking that holds in one feature space only is a property of that space, not of the models:
Kynkäänniemi et al. 2023 ("The Role of ImageNet Classes in Fréchet Inception Distance") showed FID
rankings that follow what Inception's classes reward. Agreement between a trained network, pixels and
an untrained network is stronger evidence than any one of them. Each model is placed by its mean over
seeds of finished runs; the real-data floor is not a model and is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import pandas as pd
from scipy.stats import kendalltau

from genbench.core.layout import FLOOR_MODEL
from genbench.core.metrics import metric, stem_of

# The spaces, by the metric whose first column is FD in it: the reference classifier, the pixel PCA,
# the random network and Inception.
SPACES = ("fd_clf", "fd_pca", "fd_rand", "fid")


@dataclass(frozen=True)
class Flip:
    """Two models whose order differs between two spaces: ``better`` is ahead in ``space``, behind in
    ``other``."""

    better: str
    worse: str
    space: str
    other: str


@dataclass(frozen=True)
class Agreement:
    """The rankings of one dataset's models in several spaces (columns of one sample count)."""

    dataset: str
    columns: tuple[str, ...]  # The FD column of each space, e.g. fd_clf_10k, fd_pca_10k.
    models: tuple[str, ...]  # Best first in the first space.
    tau: dict[tuple[str, str], float]  # Kendall's τ between two spaces' rankings (1: the same order).
    flips: tuple[Flip, ...]

    @property
    def agrees(self) -> bool:
        """Whether every space orders the models alike."""
        return not self.flips


def feature_space_agreement(frame: pd.DataFrame) -> list[Agreement]:
    """Per dataset and sample count with two models or more scored in two spaces or more: how their
    order agrees across spaces. ``frame`` is the leaderboard (one row per run)."""
    finished = frame[(frame["status"] == "finished") & (frame["model"] != FLOOR_MODEL)]
    labels = {metric(name).columns[0].label for name in SPACES}
    found = []
    for dataset, runs in finished.groupby("dataset", sort=True):
        columns = [c for c in runs.columns if stem_of(c) in labels and runs[c].notna().any()]
        for count in sorted({c.removeprefix(stem_of(c)) for c in columns}):
            same_count = [c for c in columns if c.removeprefix(stem_of(c)) == count]
            means = runs.groupby("model")[same_count].mean().dropna()
            if len(same_count) >= 2 and len(means) >= 2:
                found.append(_agreement(str(dataset), means))
    return found


def _agreement(dataset: str, means: pd.DataFrame) -> Agreement:
    """The agreement of the models (rows) across the spaces (columns) of ``means``, lower better."""
    columns = tuple(means.columns)
    tau = {}
    for first, second in combinations(columns, 2):
        statistic = kendalltau(means[first], means[second]).statistic
        tau[(first, second)] = float(statistic) if pd.notna(statistic) else 1.0  # NaN: all tied.
    flips = tuple(
        _flip(means, a, b, space, other)
        for space, other in combinations(columns, 2)
        for a, b in combinations(means.index, 2)
        if (means.at[a, space] - means.at[b, space]) * (means.at[a, other] - means.at[b, other]) < 0
    )
    ranked = tuple(str(m) for m in means.sort_values(columns[0]).index)
    return Agreement(dataset, columns, ranked, tau, flips)


def _flip(means: pd.DataFrame, a: str, b: str, space: str, other: str) -> Flip:
    """The flip of models ``a`` and ``b`` between two spaces, named by who is ahead in ``space``."""
    return Flip(a, b, space, other) if means.at[a, space] < means.at[b, space] else Flip(b, a, space, other)


def agreement_lines(agreements: list[Agreement]) -> list[str]:
    """One line per dataset and sample count: τ between each pair of spaces, and the flipped pairs."""
    lines = []
    for found in agreements:
        taus = ", ".join(f"{a} vs {b} τ={t:+.2f}" for (a, b), t in found.tau.items())
        if found.agrees:
            verdict = "every space orders the models alike"
        else:
            flipped = (
                f"{f.better} ahead of {f.worse} in {f.space}, behind in {f.other}" for f in found.flips
            )
            verdict = f"order flips: {'; '.join(flipped)}"
        lines.append(f"{found.dataset}: feature spaces {taus}: {verdict}")
    return lines
