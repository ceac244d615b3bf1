"""Records of samples scored outside a run's own evaluation (``genbench score``'s sample sets,
``genbench eval``'s finished runs scored again): what their identity holds, and their reuse.

Such a record is named by a hash of everything that affects its numbers: what was scored (the file's or
the weights' SHA-256, how many samples), and the evaluation setup, whose part is the same for both
commands (:func:`protocol_identity`: the data, the reference, its classifier and Inception weights,
the metrics with their recipes, the device type and genbench's version). Asked again with the same
inputs, a command finds the record under that name (:func:`earlier_record`) and reuses it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from genbench.core.checked_cache import Damaged, load_checked
from genbench.core.files import not_a_regular_file, read_json
from genbench.core.record import RunRecord
from genbench.options.config import RunOptions
from genbench.options.identity import genbench_version
from genbench.running.jobs import LoadedData


def protocol_identity(options: RunOptions, data: LoadedData, data_sha256: str) -> dict[str, Any]:
    """What of a score's evaluation setup affects its numbers: the data, the reference and its
    classifier and Inception weights, the metrics with their recipes, the device type, the code."""
    setup = data.setup
    return {
        "genbench_version": genbench_version(),
        "dataset": data.entry.name,
        "data_sha256": data_sha256,
        "reference": setup.cache_name(""),
        "classifier": setup.classifier.key,
        "inception": setup.inception.sha256,
        "metrics": list(options.metrics),
        "divergence": dataclasses.asdict(setup.divergence),
        "intervals": dataclasses.asdict(setup.intervals),
        "device": setup.device.type,
    }


def earlier_record(
    path: Path, run_id: str, is_kind: Callable[[RunRecord], bool], announce: Callable[[str], None]
) -> RunRecord | None:
    """The record at ``path`` if it is ``run_id``'s and of the kind ``is_kind`` accepts; None when there
    is none, or when it is damaged (said through ``announce``: it is then scored again)."""
    return load_checked(f"record {path}", lambda: _read(path, run_id, is_kind), announce, "scoring again")


def _read(path: Path, run_id: str, is_kind: Callable[[RunRecord], bool]) -> RunRecord | None:
    """The record at ``path``, None when there is none; :class:`Damaged` when it cannot be used."""
    if (problem := not_a_regular_file(path)) is not None:
        raise Damaged(problem)
    if not path.exists():
        return None
    record = RunRecord.from_dict(read_json(path))
    if record.run_id != run_id or not is_kind(record):
        raise Damaged("another record")
    return record
