"""Reading a run folder's TensorBoard event files back as TensorBoard does, for tests."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

AXES = ("step", "kimg", "seconds")


def events(folder: Path) -> EventAccumulator:
    """Every event of the folder, as TensorBoard reads them (later files purge what they say)."""
    accumulator = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    accumulator.Reload()
    return accumulator


def expected_series(rows: list[dict[str, Any]]) -> dict[str, list[tuple[int, float]]]:
    """train.jsonl's rows as TensorBoard's scalars: tag -> [(step, value)], values in float32."""
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for row in rows:
        for key, value in row.items():
            if key not in AXES:
                tag = key if "/" in key else f"train/{key}"
                series[tag].append((round(row["kimg"] * 1000), float(np.float32(value))))
    return dict(series)


def scalar_series(
    accumulator: EventAccumulator, prefix: tuple[str, ...]
) -> dict[str, list[tuple[int, float]]]:
    return {
        tag: [(event.step, event.value) for event in accumulator.Scalars(tag)]
        for tag in accumulator.Tags()["scalars"]
        if tag.startswith(prefix)
    }
