"""The report's data: what one page shows of each dataset and run, read from the records alone."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from genbench.core.layout import FLOOR_MODEL
from genbench.core.record import RunRecord
from genbench.core.run_spec import RunSpec
from genbench.results.leaderboard import variant_labels

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Picture:
    """A PNG to embed: its bytes, pixel size and caption, and the resolution it records (a figure drawn
    at a size in inches records its dots per inch; a grid of images records none)."""

    name: str
    caption: str
    data: bytes
    width: int
    height: int
    dpi: float | None = None


@dataclass
class Run:
    """One run (or floor) record with its spec (``config.json``) and pictures."""

    record: RunRecord
    spec: RunSpec | None = None  # None: a floor, or a run whose config.json is missing or unreadable.
    pictures: list[Picture] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        """The run's folder name (the floor's record id for a floor)."""
        return self.record.run_id

    @property
    def is_floor(self) -> bool:
        """Whether this is a real-data floor rather than a model's run."""
        return self.record.model == FLOOR_MODEL


@dataclass
class DatasetReport:
    """Everything the page shows about one dataset."""

    name: str
    frame: pd.DataFrame  # Its leaderboard rows, floor first, best first (genbench.results.leaderboard).
    runs: list[Run]  # In leaderboard order, floors included.
    plots: list[Picture]

    def labels(self) -> dict[str, str]:
        """Each run's model as the page names it (by run id): ``model [what differs]`` where the model
        has runs of several setups (genbench.results.leaderboard.variant_labels, read from the configs)."""
        configs = {run.run_id: run.spec.to_dict() for run in self.runs if run.spec is not None}
        labels = variant_labels(self.frame, configs)
        return dict(zip(self.frame["run_id"].astype(str), labels, strict=True))

    def models(self) -> dict[str, list[Run]]:
        """The runs of each model (no floors), models in leaderboard order, seeds in order; a model with
        runs of several setups is one entry per setup, named by what differs (:meth:`labels`)."""
        labels = self.labels()
        by_model: dict[str, list[Run]] = {}
        for run in self.runs:
            if not run.is_floor:
                label = labels.get(run.run_id, run.record.model)
                by_model.setdefault(label, []).append(run)
        for runs in by_model.values():
            runs.sort(key=lambda run: (run.record.seed is None, run.record.seed or 0))
        return by_model
