"""The real-data floor: held-out real images scored exactly like a model's samples.

Real images of the other split (train when the reference is the test split) go through the same
metrics against the same reference images as every model, in place of generated samples. No model
can be expected to beat it: it shows what each metric reads for "as good as real data" at this sample
count, e.g. FD(real train, real test) and the estimators' noise level.

One place holds it: ``<out>/floors/<dataset>-floor-<hash>.json``, one record per dataset and protocol,
which the leaderboard shows as a row with model ``(real data floor)``. A later run of the same
protocol reuses it where it has every metric asked for, and otherwise computes the missing ones and
adds them to it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from genbench.api import Split
from genbench.core.files import atomic_write_json, read_json
from genbench.core.layout import FLOOR_MODEL, FLOORS_DIR
from genbench.core.metrics import METRICS
from genbench.core.record import RecordError, RunRecord
from genbench.evaluation.evaluate import evaluate
from genbench.evaluation.setup import EvaluationSetup, reference_images

# Bump when the floor's computation changes: floors of an earlier version are then replaced. 2: KID
# subsets of at most half a side (genbench.evaluation.fidelity.kid_subset_size); 3: the W1 critic keeps
# its final weights, estimates record their raw value.
FLOOR_VERSION = 3
VERSION_KEY = "floor_version"  # In a floor's protocol_summary.


def floor_record(
    setup: EvaluationSetup,
    held_out: Split,
    held_out_split: str,
    n_samples: int,
    out: Path,
    warn: Callable[[str], None] = lambda message: None,
) -> RunRecord:
    """The floor record for ``setup``'s dataset and protocol, from ``<out>/floors/`` where it has every
    metric asked for; otherwise computed (the metrics it had are kept) and written there.

    Its columns are named for ``n_samples`` like the models' beside it; where the held-out split is
    smaller, all of it is used and its protocol's ``n_generated`` says so. A damaged record is
    reported through ``warn`` and computed again; floors of an earlier version of this computation
    are removed.
    """
    images = reference_images(held_out, n_samples)
    key_material = {
        "version": FLOOR_VERSION,
        "dataset": setup.dataset,
        "held_out_split": held_out_split,
        "n_samples": n_samples,
        "held_out_sha256": hashlib.sha256(images.contiguous().numpy().tobytes()).hexdigest(),
        "reference": setup.cache_name(""),
        "classifier": setup.classifier.key,
        "inception": setup.inception.sha256,
        "divergence": dataclasses.asdict(setup.divergence),
    }
    run_id = f"{setup.dataset}-floor-{_hash(key_material)}"
    earlier = _read(out / FLOORS_DIR / f"{run_id}.json", run_id, warn)
    if earlier is not None and _columns(setup.metrics, n_samples) <= set(earlier.metrics):
        return earlier
    evaluation = evaluate(images, setup, label=f"{setup.dataset}/floor/", named_for=n_samples)
    before = earlier or RunRecord(run_id, setup.dataset, FLOOR_MODEL, None, "floor")
    record = RunRecord(
        run_id=run_id,
        dataset=setup.dataset,
        model=FLOOR_MODEL,
        seed=None,
        status="floor",
        held_out_split=held_out_split,
        metrics={**before.metrics, **evaluation.metrics},
        protocol={**before.protocol, **evaluation.protocol},
        protocol_summary={**setup.summary(), VERSION_KEY: FLOOR_VERSION},
    )
    _remove_outdated(out, setup.dataset)
    write_floor(out, record)
    return record


def _columns(metrics: tuple[str, ...], n_samples: int) -> set[str]:
    """The columns a floor of these metrics has (those for conditional models do not apply)."""
    return {
        column.name(n_samples)
        for metric in METRICS
        if metric.name in metrics and metric.applies_to(conditional=False)
        for column in metric.columns
    }


def _read(path: Path, run_id: str, warn: Callable[[str], None]) -> RunRecord | None:
    """The floor record at ``path``; None where there is none, or (said through ``warn``) it is damaged."""
    if not path.exists():
        return None
    try:
        record = RunRecord.from_dict(read_json(path))
        if record.run_id == run_id and record.status == "floor":
            return record
        problem = "another floor's record"
    except (RecordError, ValueError, OSError) as error:  # ValueError: JSON and UnicodeDecode errors.
        problem = " ".join(str(error).split()) or type(error).__name__
    warn(f"floor {path} is damaged ({problem}); computing it again")
    return None


def _remove_outdated(out: Path, dataset: str) -> None:
    """Remove the floors of ``dataset`` an earlier version of the computation wrote: their numbers
    would stand beside this version's as another protocol's."""
    for path in (out / FLOORS_DIR).glob(f"{dataset}-floor-*.json"):
        try:
            version = read_json(path).get("protocol_summary", {}).get(VERSION_KEY, 0)
        except (ValueError, OSError, AttributeError):  # Damaged: not this version's either.
            version = 0
        if version != FLOOR_VERSION:
            path.unlink(missing_ok=True)


def _hash(material: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:10]


def write_floor(out: Path, record: RunRecord) -> None:
    """Put a floor record where the leaderboard finds it."""
    atomic_write_json(out / FLOORS_DIR / f"{record.run_id}.json", record.to_dict())
