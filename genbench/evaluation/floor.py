"""The real-data floor: held-out real images scored exactly like a model's samples.

Real images of the other split (train when the reference is the test split) go through the same
metrics against the same reference images as every model, in place of generated samples. No model
can be expected to beat it: it shows what each metric reads for "as good as real data" at this sample
count, e.g. FD(real train, real test) and the estimators' noise level. It is computed once per dataset
and protocol, cached under the cache folder, and written to ``<out>/floors/`` where the leaderboard
shows it as a row with model ``(real data floor)``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

from genbench.api import Split
from genbench.core.checked_cache import Damaged, check_digest, load_checked, write_digest
from genbench.core.files import atomic_write_json, not_a_regular_file, read_json
from genbench.core.hashing import stable_hash, tensor_sha256
from genbench.core.layout import FLOOR_MODEL, FLOORS_DIR
from genbench.core.record import RunRecord
from genbench.evaluation.evaluate import evaluate
from genbench.evaluation.setup import EvaluationSetup, reference_images

# Bump when the floor's computation changes: cached floors are then recomputed. 2: KID subsets of at
# most half a side (genbench.evaluation.fidelity.kid_subset_size).
FLOOR_VERSION = 2


def floor_record(
    setup: EvaluationSetup,
    held_out: Split,
    held_out_split: str,
    n_samples: int,
    cache_dir: Path,
    warn: Callable[[str], None] = lambda message: None,
) -> RunRecord:
    """The floor record for ``setup``'s dataset and protocol: from ``cache_dir``, or computed and cached.

    Its columns are named for ``n_samples`` like the models' beside it; where the held-out split is
    smaller, all of it is used and its protocol's ``n_generated`` says so. A damaged cached record is
    reported through ``warn`` and computed again.
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
    }
    # One leaderboard row per protocol (a later run asking for more metrics replaces it); one cached
    # record per protocol and metric selection.
    protocol_key = stable_hash(key_material, 10)
    record_key = stable_hash({**key_material, "metrics": sorted(setup.metrics)}, 10)
    cached = cache_dir / FLOORS_DIR / f"{setup.dataset}-{record_key}.json"
    run_id = f"{setup.dataset}-floor-{protocol_key}"
    if os.path.lexists(cached):  # A link to nothing is there too: damage to say.
        load = partial(_cached, cached, run_id)
        if (found := load_checked(f"cached floor {cached}", load, warn, "computing it again")) is not None:
            return found
    evaluation = evaluate(images, setup, label=f"{setup.dataset}/floor/", named_for=n_samples)
    record = RunRecord(
        run_id=run_id,
        dataset=setup.dataset,
        model=FLOOR_MODEL,
        seed=None,
        status="floor",
        held_out_split=held_out_split,
        metrics=evaluation.metrics,
        protocol=evaluation.protocol,
        protocol_summary=setup.summary(),
    )
    atomic_write_json(cached, record.to_dict())
    write_digest(cached)
    return record


def _cached(path: Path, run_id: str) -> RunRecord:
    """The floor record cached at ``path``, checked against its recorded SHA-256 and its run id. A floor
    cached before genbench recorded its SHA-256 is checked by its content alone, then recorded. A
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


def write_floor(out: Path, record: RunRecord) -> None:
    """Put a floor record where the leaderboard finds it."""
    atomic_write_json(out / FLOORS_DIR / f"{record.run_id}.json", record.to_dict())
