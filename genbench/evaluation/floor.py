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
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from genbench.api import Split
from genbench.core.files import atomic_write_json, not_a_regular_file, read_json
from genbench.core.layout import FLOOR_MODEL, FLOORS_DIR
from genbench.core.record import RecordError, RunRecord
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
        "held_out_sha256": hashlib.sha256(images.contiguous().numpy().tobytes()).hexdigest(),
        "reference": setup.cache_name(""),
        "classifier": setup.classifier.key,
        "inception": setup.inception.sha256,
        "divergence": dataclasses.asdict(setup.divergence),
    }
    # One leaderboard row per protocol (a later run asking for more metrics replaces it); one cached
    # record per protocol and metric selection.
    protocol_key = _hash(key_material)
    record_key = _hash({**key_material, "metrics": sorted(setup.metrics)})
    cached = cache_dir / FLOORS_DIR / f"{setup.dataset}-{record_key}.json"
    run_id = f"{setup.dataset}-floor-{protocol_key}"
    if os.path.lexists(cached):  # A link to nothing is there too: damage to say.
        try:
            record = RunRecord.from_dict(read_json(cached))
            if record.run_id == run_id and record.status == "floor":
                return record
            problem = "another floor's record"
        except (RecordError, ValueError, OSError) as error:  # ValueError: JSON and UnicodeDecode errors.
            problem = not_a_regular_file(cached) or " ".join(str(error).split()) or type(error).__name__
        warn(f"cached floor {cached} is damaged ({problem}); computing it again")
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
    return record


def _hash(material: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:10]


def write_floor(out: Path, record: RunRecord) -> None:
    """Put a floor record where the leaderboard finds it."""
    atomic_write_json(out / FLOORS_DIR / f"{record.run_id}.json", record.to_dict())
