"""The real-data floors in a leaderboard: one row per protocol (the sample count its columns are
named for, the held-out split scored against the reference split, the extractors' weights), labelled
by it, never averaged with another floor as if floors were seeds.

A floor row keeps model ``(real data floor)``; its ``setup`` column holds its protocol in words
(:func:`floor_protocol`), as a run's holds the hash of its setup.
"""

from __future__ import annotations

import pandas as pd

from genbench.core.layout import FLOOR_MODEL
from genbench.core.metrics import format_count, stem_of
from genbench.core.record import RunRecord


def floor_protocol(record: RunRecord) -> str:
    """A floor's protocol in a few words, e.g. ``10k, train vs test``: the sample count its columns
    are named for (as the models' beside it), the held-out split it scored and the reference split."""
    counts = [name.removeprefix(stem_of(name) + "_") for name in record.metrics if stem_of(name) != name]
    if not counts:  # Only estimates, whose columns carry no count: the images they were given.
        generated = [p.get("n_generated") for p in record.protocol.values() if isinstance(p, dict)]
        counts = [format_count(n) for n in generated if isinstance(n, int)]
    count = counts[0] if counts else "?"
    reference = record.protocol_summary.get("reference_split", "?")
    return f"{count}, {record.held_out_split or '?'} vs {reference}"


def is_floor(frame: pd.DataFrame) -> pd.Series:
    """Per row, whether it is a real-data floor."""
    return frame["model"] == FLOOR_MODEL


def several_floors(frame: pd.DataFrame) -> bool:
    """Whether some dataset has floors of more than one protocol in ``frame``."""
    floors = frame[is_floor(frame)]
    return bool(len(floors) > floors["dataset"].nunique())


def floor_labels(frame: pd.DataFrame, labels: pd.Series) -> pd.Series:
    """``labels`` (one per row), with each floor's protocol added where its dataset has several
    floors: ``(real data floor) [10k, train vs test]``."""
    if "setup" not in frame.columns:  # Left out of a view where no dataset has several floors.
        return labels
    floors = is_floor(frame)
    several = floors & floors.groupby(frame["dataset"]).transform("sum").gt(1)
    return labels.where(~several, FLOOR_MODEL + " [" + frame["setup"].astype(str) + "]")


def floor_groups(frame: pd.DataFrame) -> pd.Series:
    """A key that keeps every floor a group of its own (its run id) and leaves runs to their setup."""
    return frame["run_id"].astype(object).where(is_floor(frame), "")
