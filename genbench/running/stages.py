"""A run done stepwise: where its execution pauses, and driving it to the end.

A run (genbench.running.single_run) is a generator: it pauses after each training step (``STEPPED``)
and once when training is over, before it samples and evaluates (``TRAINED``), and returns its record.
Alone it is driven straight through (:func:`drive`); in a pack of seeds (genbench.running.packing) the
runs are stepped in turn, each under its own random generators, and scored one after another.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Literal, TypeVar

Stage = Literal["stepped", "trained"]
STEPPED: Stage = "stepped"
TRAINED: Stage = "trained"

T = TypeVar("T")


def drive(stages: Generator[Stage, None, T]) -> T:
    """Run ``stages`` to the end; returns what it returns."""
    while True:
        try:
            next(stages)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
