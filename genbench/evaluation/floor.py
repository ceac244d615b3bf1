"""The real-data floor: held-out real images scored exactly like a model's samples.

Real images of the other split (train when the reference is the test split) go through the same
metrics against the same reference images as every model, in place of generated samples. No model
can be expected to beat it: it shows what each metric reads for "as good as real data" at this sample
count, e.g. FD(real train, real test) and the estimators' noise level.

One place holds it: ``<out>/floors/<dataset>-floor-<hash>.json`` (its SHA-256 beside it, checked when
read: genbench.core.checked_cache), one record per dataset and protocol, which the leaderboard shows
as a row with model ``(real data floor)``. A later run of the same
protocol reuses it where it has every metric asked for, and otherwise computes the missing ones and
adds them to it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

from genbench.api import Split
from genbench.core.checked_cache import Damaged, check_digest, load_checked, remove, write_digest
from genbench.core.files import atomic_write_json, not_a_regular_file, read_json
from genbench.core.hashing import stable_hash, tensor_sha256
from genbench.core.layout import FLOOR_MODEL, FLOORS_DIR
from genbench.core.metrics import METRICS
from genbench.core.record import RunRecord
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
        "held_out_sha256": tensor_sha256(images),
        "reference": setup.cache_name(""),
        "classifier": setup.classifier.key,
        "inception": setup.inception.sha256,
        "divergence": dataclasses.asdict(setup.divergence),
        "intervals": dataclasses.asdict(setup.intervals),
    }
    run_id = f"{setup.dataset}-floor-{stable_hash(key_material, 10)}"
    path = out / FLOORS_DIR / f"{run_id}.json"
    load = partial(_checked, path, run_id)
    there = os.path.lexists(path)  # A link to nothing is there too: damage to say.
    earlier = load_checked(f"floor {path}", load, warn, "computing it again") if there else None
    if earlier is not None and _columns(setup.metrics, n_samples) <= set(earlier.metrics):
        return earlier
    evaluation = evaluate(images, setup, label=f"{setup.dataset}/floor/", named_for=n_samples, floor=True)
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
    """The columns a floor of these metrics has (those for conditional models do not apply), the ends
    of their intervals included: a floor from before a column had one is completed."""
    return {
        name
        for metric in METRICS
        if metric.name in metrics and metric.applies_to(conditional=False)
        for column in metric.columns
        for name in column.names(n_samples)
    }


def _checked(path: Path, run_id: str) -> RunRecord:
    """The floor record at ``path``, checked against its recorded SHA-256 and its run id. A floor
    written before genbench recorded its SHA-256 is checked by its content alone, then recorded. A
    folder or a link to nothing in its place is damage too."""
    if (problem := not_a_regular_file(path)) is not None:
        raise Damaged(problem)
    checked = check_digest(path)
    record = RunRecord.from_dict(read_json(path))
    if record.run_id != run_id or record.status != "floor":
        raise Damaged("another floor's record")
    if not checked:
        write_digest(path)
    return record


def _remove_outdated(out: Path, dataset: str) -> None:
    """Remove the floors of ``dataset`` an earlier version of the computation wrote: their numbers
    would stand beside this version's as another protocol's."""
    for path in (out / FLOORS_DIR).glob(f"{dataset}-floor-*.json"):
        try:
            version = read_json(path).get("protocol_summary", {}).get(VERSION_KEY, 0)
        except (ValueError, OSError, AttributeError):  # Damaged: not this version's either.
            version = 0
        if version != FLOOR_VERSION:
            remove(path)


def write_floor(out: Path, record: RunRecord) -> None:
    """Put a floor record where the leaderboard finds it, its SHA-256 recorded beside it."""
    path = out / FLOORS_DIR / f"{record.run_id}.json"
    atomic_write_json(path, record.to_dict())
    write_digest(path)
