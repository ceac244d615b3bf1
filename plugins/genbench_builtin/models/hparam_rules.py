"""What the built-in models' hyperparameters may be: each ``Hparams.__post_init__`` checks its fields
against a rule, so ``--set dcgan.batch_size=0`` or ``--set dcgan.lr=nan`` is one line naming the model
and the field before anything runs, not a run that diverges at 0 kimg or fails inside torch."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from genbench.errors import UserError


def _finite(value: float) -> bool:
    return math.isfinite(value)


# Rule name -> (test, what the value must be).
RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "count": (lambda v: v >= 1, "at least 1"),  # Sizes, dimensions, steps per step.
    "positive": (lambda v: _finite(v) and v > 0, "a finite positive number"),  # Rates, weights.
    "beta": (lambda v: 0 <= v < 1, "in [0, 1)"),  # Adam's moment decays.
    "fraction": (lambda v: 0 <= v < 1, "in [0, 1)"),  # Dropout probabilities.
    "finite": (_finite, "a finite number"),  # Targets and other unbounded reals.
}


def check_hparams(model: str, hparams: object, rules: Mapping[str, str]) -> None:
    """Raise a :class:`UserError` naming ``model`` and the field for the first field of ``hparams``
    that breaks its rule (a key of :data:`RULES`)."""
    for field, rule in rules.items():
        value = getattr(hparams, field)
        test, must_be = RULES[rule]
        if not test(value):
            raise UserError(f"{model}.{field} must be {must_be}, got {value!r}")
