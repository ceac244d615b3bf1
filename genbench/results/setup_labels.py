"""Names for the setups of one model: what differs between them (``kimg 40`` vs ``kimg 4``), never only
a hash.

A run's setup is the hash of its identity without the seed (genbench.results.records.setup_hash):
runs of one model with another setup are another experiment. A reader needs to know which is which,
so each setup is named by the settings whose values differ between the setups of its model on its
dataset. Settings come from the runs' specs (``config.json``, genbench.core.run_spec) where they are
given, else from what the leaderboard frame itself shows (the budget, the sample count in the metric
columns' names, the reference split), under the spec's dotted names. Where a model has runs scored
again by ``genbench eval``, the setups are named by their evaluation (``evaluation own`` vs
``evaluation n_samples 500``) and by the training settings the frame shows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from genbench.core.layout import CONFIG_FILE, FLOOR_MODEL, RUNS_DIR
from genbench.core.metrics import column_spec, format_count, stem_of
from genbench.core.run_spec import SpecError
from genbench.results.records import read_spec_file

UNRECORDED = "unrecorded"  # The setup of a record older than setups.
# Parts of the spec that are not part of the setup: the seed, the names and hash it gives, and what does
# not change a result (where the run trained, how often it logged).
NOT_SETUP = frozenset(
    {"schema_version", "seed", "run_id", "setup", "environment", "training.schedule.log_every"}
)
# The differing settings shown in a name before "+N more" (config.json in the run folder has them all).
MAX_SHOWN = 3
# Settings a reader compares first come first in a name; others follow by name.
FIRST = ("training.budget.", "evaluation.n_", "hparams.", "training.", "evaluation.")
_LONG_TEXT = 12  # Longer strings (hashes) are cut to their first 8 characters.
# A setting every setup has: which evaluation its rows are (a run's own, or one of `genbench eval`'s).
EVALUATION, OWN_EVALUATION = "evaluation", "own"


def run_configs(out: Path, run_ids: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """The readable spec (``config.json``, as its current schema writes it) of each run under ``out``,
    by run id (runs without one left out: the report says which configs it could not read)."""
    configs = {}
    for run_id in {str(run_id) for run_id in run_ids}:
        try:
            configs[run_id] = read_spec_file(out / RUNS_DIR / run_id / CONFIG_FILE).to_dict()
        except SpecError:
            continue
    return configs


def setup_names(frame: pd.DataFrame, configs: Mapping[str, Mapping[str, Any]] | None = None) -> pd.Series:
    """Per row of a leaderboard frame, what tells its setup from the other setups of its model on its
    dataset (``kimg 40, n_samples 1k``); empty where the model has one setup (and for floors)."""
    setups = setup_keys(frame)
    names = pd.Series("", index=frame.index, dtype=object)
    models = frame[frame["model"] != FLOOR_MODEL]
    for _, group in models.groupby(["dataset", "model"], sort=False, dropna=False):
        keys = setups[group.index]
        if keys.nunique() < 2:
            continue
        facts = {key: _facts(group[keys == key], configs or {}) for key in keys.unique()}
        named = differences(facts)
        names[group.index] = [named[key] for key in keys]
    return names


def setup_keys(frame: pd.DataFrame) -> pd.Series:
    """Each row's setup hash, ``unrecorded`` where the record is older than setups."""
    if "setup" not in frame.columns:
        return pd.Series(UNRECORDED, index=frame.index, dtype=object)
    return frame["setup"].astype(object).where(frame["setup"].notna(), UNRECORDED).astype(str)


def differences(
    facts: Mapping[str, Mapping[str, Any]], unknown: Callable[[str], str] | None = None
) -> dict[str, str]:
    """Per setup, the settings (of those every setup has) whose values differ between the setups, as
    ``name value`` pairs; for a setup whose settings are not known to differ, ``unknown(setup)``
    (default ``setup <hash>``), added to the pairs where they alone do not tell setups apart."""
    unknown = unknown or _by_hash
    shared = set.intersection(*(set(settings) for settings in facts.values())) if facts else set()
    differing = [key for key in shared if len({_text(facts[s][key]) for s in facts}) > 1]
    differing.sort(key=_rank)
    short = _short_names(differing)
    names = {}
    for setup, settings in facts.items():
        pairs = [f"{short[key]} {_text(settings[key])}" for key in differing]
        if len(pairs) > MAX_SHOWN:
            pairs = [*pairs[: MAX_SHOWN - 1], f"+{len(pairs) - MAX_SHOWN + 1} more"]
        names[setup] = ", ".join(pairs) or unknown(setup)
    shared = [name for name in names.values() if list(names.values()).count(name) > 1]
    # Settings that differ elsewhere but not between these: only their hash tells them apart.
    return {s: f"{name}, {unknown(s)}" if name in shared else name for s, name in names.items()}


def _by_hash(setup: str) -> str:
    return UNRECORDED if setup == UNRECORDED else f"setup {setup[:8]}"


def _facts(rows: pd.DataFrame, configs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """One setup's settings: those the frame shows, overridden by its first run's config where known;
    a ``genbench eval`` setup's: its evaluation and the training settings the frame shows."""
    facts = frame_facts(rows)
    label = _evaluation_label(rows)
    if label is not None:  # Its evaluation settings are in the label, said once.
        return {**{k: v for k, v in facts.items() if not k.startswith("evaluation.")}, EVALUATION: label}
    run_ids = rows["run_id"].astype(str) if "run_id" in rows.columns else []  # A summary has none.
    for run_id in run_ids:
        if run_id in configs:
            settings = flatten({k: v for k, v in configs[run_id].items() if k not in NOT_SETUP})
            facts.update({k: v for k, v in settings.items() if k not in NOT_SETUP})
            break
    return {**facts, EVALUATION: OWN_EVALUATION}


def _evaluation_label(rows: pd.DataFrame) -> str | None:
    """The label of the ``genbench eval`` evaluation the rows are, None for runs' own evaluations."""
    if "evaluation" not in rows.columns or pd.isna(rows["evaluation"].iloc[0]):
        return None
    return str(rows["evaluation"].iloc[0])


def frame_facts(rows: pd.DataFrame) -> dict[str, Any]:
    """What rows of a leaderboard frame tell of their setup (or a floor's protocol), under the names a
    config.json gives them: the budget, the reference split and images, the sample count."""
    facts: dict[str, Any] = {}
    first = rows.iloc[0]
    if pd.notna(first.get("budget_kimg")):
        facts["training.budget.kimg"] = float(first["budget_kimg"])
    for column, name in (
        ("reference_split", "evaluation.reference_split"),
        ("n_reference", "evaluation.n_reference"),
    ):
        if column in rows.columns and pd.notna(first[column]):
            facts[name] = first[column]
    # The sample count is in the names of the metric columns the setup's runs filled (fd_clf_1k); a
    # summary's cells are text, empty where there is no value.
    counts = {
        column.removeprefix(stem_of(column) + "_")
        for column in rows.columns
        if column_spec(column) is not None
        and stem_of(column) != column
        and rows[column].replace("", None).notna().any()
    }
    if len(counts) == 1:
        facts["evaluation.n_samples"] = counts.pop()
    return facts


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one level of dotted keys: ``{"budget": {"kimg": 4}}`` -> ``{"budget.kimg": 4}``."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, Mapping) and value:
            flat |= flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _rank(key: str) -> tuple[int, str]:
    return next((i for i, start in enumerate(FIRST) if key.startswith(start)), len(FIRST)), key


def _short_names(keys: list[str]) -> dict[str, str]:
    """Each dotted key by its last part (``kimg``), or whole where two keys share their last part."""
    last = [key.rsplit(".", 1)[-1] for key in keys]
    return {key: part if last.count(part) == 1 else key for key, part in zip(keys, last, strict=True)}


def _text(value: Any) -> str:
    """A setting's value, short: 1000 -> 1k, 40.0 -> 40, a hash -> its first 8 characters."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, int):
        return format_count(value) if value >= 1000 else str(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ",".join(_text(v) for v in value)
    text = str(value)
    return text[:8] if len(text) > _LONG_TEXT and " " not in text else text  # Hashes have no spaces.
