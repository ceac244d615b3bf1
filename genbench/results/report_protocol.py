"""How every number of the report was obtained: the protocol facts of a dataset's runs and what each
leaderboard column means.

Facts are read from the records and the runs' typed specs (``config.json``), never assumed: where runs
differ (another budget, other weights), every value is listed with the runs that used it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from genbench.core.metrics import LOWER, bound_of, column_spec, direction, metrics_of
from genbench.core.run_spec import Environment, RunSpec
from genbench.results.leaderboard import BEST_KIMG, BEST_PREFIX, FINAL_PREFIX

if TYPE_CHECKING:  # genbench.results.report renders through this module.
    from genbench.results.report_model import DatasetReport, Run

# What each run column of the leaderboard holds (metric columns are described by their protocol).
COLUMN_NOTES: dict[str, str] = {
    "model": "the model plugin; its runs are shown under Models",
    "seed": "seeds Python, NumPy and torch for training and for sampling",
    "status": "finished, or failed / diverged with the error; the floor row is real data, not a model",
    "kimg": "thousands of real training images shown before training stopped",
    "steps": "optimisation steps taken",
    "stopped_by": "the budget cap that stopped training first: kimg, steps or seconds",
    "train_seconds": "wall-clock seconds of training alone",
    "wall_seconds": "wall-clock seconds of the whole run: training, sampling and evaluation",
    "device": "the device the run trained and was evaluated on",
    "setup": "hash of everything but the seed that affects a run (budget, hyperparameters, evaluation; "
    "config.json in the run folder has it all): runs of one setup are seeds of one experiment",
    "budget_kimg": "the training budget in kimg the run was given",
    "reference_split": "the real split generated samples are compared with",
    "n_reference": "how many real reference images",
    "inception_weights": "SHA-256 prefix of the Inception-v3 weights",
    "classifier_weights": "SHA-256 prefix of the reference classifier's weights",
}


@dataclass(frozen=True)
class Fact:
    """One protocol setting: each distinct value with the ids of the runs that used it."""

    label: str
    note: str
    values: dict[str, list[str]]


def _entries(run: Run, key: str) -> list[dict[str, Any]]:
    """The run's metric protocols that record ``key``."""
    return [p for p in run.record.protocol.values() if isinstance(p, dict) and key in p]


def _first(run: Run, key: str) -> Any:
    entries = _entries(run, key)
    return entries[0][key] if entries else None


def _text(value: Any) -> str | None:
    """A setting as one line: ``key=value`` pairs for mappings, None where it is absent."""
    if value is None or value == {} or value == "":
        return None
    if isinstance(value, dict):
        return ", ".join(f"{k}={_text(v) or 'none'}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _from_spec(read: Callable[[RunSpec], Any]) -> Callable[[Run], str | None]:
    """A fact read from the run's spec: None for a run without one (a floor, a missing config.json)."""
    return lambda run: _text(read(run.spec)) if run.spec is not None else None


def _environment(run: Run) -> Environment | None:
    return run.spec.environment if run.spec is not None else None


def _budget(run: Run) -> str | None:
    budget = run.record.budget or (dataclasses.asdict(run.spec.training.budget) if run.spec else None)
    if budget is None and run.record.budget_kimg is not None:
        budget = {"kimg": run.record.budget_kimg}
    if not budget:
        return None
    caps = [f"{budget.get('kimg')} kimg"]
    caps += [f"{budget[k]} {k}" for k in ("steps", "seconds") if budget.get(k) is not None]
    return " or ".join(caps)


def _reference(run: Run) -> str | None:
    summary = run.record.protocol_summary
    if "reference_split" not in summary:
        return None
    return f"{summary['reference_split']} split, {summary.get('n_reference')} images"


def _classifier(run: Run) -> str | None:
    entries = _entries(run, "classifier_key")
    if not entries:
        return None
    entry = entries[0]
    accuracy = entry.get("classifier_test_accuracy")
    accuracy_text = f", test accuracy {accuracy:.4f}" if isinstance(accuracy, float) else ""
    return f"{entry.get('extractor')}, weights SHA-256 {entry.get('weights_sha256')}{accuracy_text}"


def _inception(run: Run) -> str | None:
    entries = [p for p in _entries(run, "extractor") if str(p["extractor"]).startswith("torch-fidelity/")]
    if not entries:
        return None
    entry = entries[0]
    if "unavailable" in entry:
        return f"{entry['extractor']}: unavailable ({entry['unavailable']}); its columns are empty"
    return (
        f"{entry['extractor']}, weights SHA-256 {entry.get('weights_sha256')} ({entry.get('weights_source')})"
    )


def _estimators(run: Run) -> str | None:
    estimator = _text(_first(run, "estimator"))
    if estimator is None:
        return None
    return f"{estimator}; {_first(run, 'images_per_half')} images per half"


def _versions(run: Run) -> str | None:
    versions = environment.versions if (environment := _environment(run)) else {}
    return "; ".join(f"{k} {v}" for k, v in versions.items() if v is not None) or None


def _plugins(run: Run) -> dict[str, str | None]:
    return environment.plugins if (environment := _environment(run)) else {}


def _plugin_facts(runs: list[Run]) -> list[tuple[str, str, Callable[[Run], str | None]]]:
    """One fact per plugin distribution: runs use different plugins, but one plugin should have one
    version."""
    names = sorted({name for run in runs for name in _plugins(run)})

    def version_of(name: str) -> Callable[[Run], str | None]:
        def read(run: Run) -> str | None:
            plugins = _plugins(run)
            return (plugins[name] or "(no version)") if name in plugins else None

        return read

    return [
        (f"Plugin {name}", "its distribution's version (config.json)", version_of(name)) for name in names
    ]


def _device(run: Run) -> str | None:
    environment = _environment(run)
    return _text(run.record.device or (environment.device_name if environment else None))


def _floor(run: Run) -> str | None:
    if not run.is_floor:
        return None
    return f"held-out real images of the {run.record.held_out_split} split, scored like samples"


FACTS: list[tuple[str, str, Callable[[Run], str | None]]] = [
    ("Training budget", "training stops at whichever cap comes first", _budget),
    (
        "Generated samples",
        "drawn after training with the run's seed; every metric of the run uses these images",
        lambda run: _text(run.spec.evaluation.n_samples if run.spec else _first(run, "n_generated")),
    ),
    ("Reference images", "the real images samples are compared with", _reference),
    (
        "Reference SHA-256",
        "of the reference images' pixels",
        lambda run: _text(_first(run, "reference_sha256")),
    ),
    (
        "Quantisation",
        "how samples become images before scoring",
        lambda run: _text(_first(run, "quantisation")),
    ),
    ("Reference classifier", "feature extractor of the *_clf metrics, trained once per dataset", _classifier),
    (
        "Inception-v3",
        f"feature extractor of {', '.join(m.name for m in metrics_of('inception'))}",
        _inception,
    ),
    ("Divergence estimators", "fresh networks trained on real vs generated halves", _estimators),
    ("Metrics asked for", "", _from_spec(lambda spec: spec.evaluation.metrics)),
    ("Real-data floor", "the floor row of the leaderboard", _floor),
    (
        "Log interval",
        "steps between rows of train.jsonl",
        _from_spec(lambda spec: spec.training.schedule.log_every),
    ),
    ("Device", "", _device),
    ("Versions", "the software of each run (config.json)", _versions),
]


def protocol_facts(dataset: DatasetReport) -> list[Fact]:
    """The protocol settings of a dataset's runs and floor, each with its distinct values."""
    facts = []
    for label, note, read in [*FACTS, *_plugin_facts(dataset.runs)]:
        values: dict[str, list[str]] = {}
        for run in dataset.runs:
            value = read(run)
            if value is not None:
                values.setdefault(value, []).append(run.run_id)
        if values:
            facts.append(Fact(label, note, values))
    return facts


def column_note(dataset: DatasetReport, column: str) -> str:
    """What a leaderboard column holds: a run column's note, or a metric's description and unit (from the
    metric table, genbench.core.metrics; from its recorded protocol for a column the table does not
    know), direction and the sample counts and settings as recorded."""
    if column in COLUMN_NOTES:
        return COLUMN_NOTES[column]
    if (bounded := bound_of(column)) is not None:
        end = "lower" if column.endswith(LOWER) else "upper"
        return f"the {end} end of the 95% interval of {bounded} over the run's samples (its note says how)"
    protocols = _protocols(dataset, column)
    better = direction(column)
    spec = column_spec(column)
    if not protocols and spec is None:
        return _during_training_note(column) or better
    if spec is not None:
        metric, spec_column = spec
        description = metric.glossary + (f"; this column: {spec_column.note}" if spec_column.note else "")
        unit = spec_column.unit
    else:
        description = str(protocols[0].get("metric", column))
        units = protocols[0].get("units")
        unit = str(units.get(column, "")) if isinstance(units, dict) else ""
    parts = [description, better, *sample_notes(dataset, column)]
    if unit:
        parts.append(f"units: {unit}")
    return "; ".join(parts)


def _protocols(dataset: DatasetReport, column: str) -> list[dict[str, Any]]:
    """The protocols the dataset's runs recorded for ``column``."""
    found = (run.record.protocol.get(column) for run in dataset.runs)
    return [p for p in found if isinstance(p, dict)]


def sample_notes(dataset: DatasetReport, column: str) -> list[str]:
    """How many images a metric column's value was computed from, as its runs' protocols record it:
    generated vs reference images, and KID's subsets."""
    protocols = _protocols(dataset, column)
    parts = []
    counts = sorted({json.dumps(p.get("n_generated")) for p in protocols if "n_generated" in p})
    if counts:
        parts.append(f"{' / '.join(counts)} generated vs {protocols[0].get('n_reference')} reference images")
    subsets = sorted({(p["kid_subsets"], p["kid_subset_size"]) for p in protocols if "kid_subset_size" in p})
    if subsets:
        parts.append(" / ".join(f"{count} subsets of {size} images a side" for count, size in subsets))
    intervals = sorted(
        {_interval_text(p["interval"]) for p in protocols if isinstance(p.get("interval"), dict)}
    )
    if intervals:
        parts.append("95% interval over the run's samples: " + " / ".join(intervals))
    return parts


def _interval_text(interval: dict[str, Any]) -> str:
    """A metric's interval method as its protocol records it (genbench.core.run_spec.IntervalSettings)."""
    return f"{interval.get('method')} ({interval.get('resamples')} resamples, seed {interval.get('seed')})"


def _during_training_note(column: str) -> str | None:
    """The note of a column made from a record's ``during_training`` (genbench.results.leaderboard)."""
    if column == BEST_KIMG:
        return "kimg at which the metric measured during training (--eval-every) was best"
    if column.startswith(FINAL_PREFIX):
        metric = column.removeprefix(FINAL_PREFIX)
        return (
            f"the last value of {metric} measured during training (--eval-every): on the final weights and "
            f"with the run's seed, so the same samples and value as the final {metric} where that exists"
        )
    if column.startswith(BEST_PREFIX):
        return f"the best value of {column.removeprefix(BEST_PREFIX)} measured during training (--eval-every)"
    return None
