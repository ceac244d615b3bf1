"""What the built-in models' hyperparameters may be: one rule per field name, the same in every model,
which each ``Hparams.__post_init__`` applies to its fields, so ``--set dcgan.batch_size=0`` or
``--set dcgan.lr=nan`` is one line naming the model and the field before anything runs, not a run that
diverges at 0 kimg or fails inside torch."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

from genbench.blocks.latent import PRIORS
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


# Field name -> its rule (a key of RULES): a field means the same in every built-in model.
FIELD_RULES: dict[str, str] = {
    **dict.fromkeys(("batch_size", "latent_dim", "base_channels", "width", "label_dim"), "count"),
    **dict.fromkeys(("n_critic", "d_steps"), "count"),
    **dict.fromkeys(("lr", "clip", "gp_weight"), "positive"),
    **dict.fromkeys(("beta1", "beta2"), "beta"),
    **dict.fromkeys(("dropout", "d_dropout"), "fraction"),
    **dict.fromkeys(("a", "b", "c"), "finite"),  # LSGAN's targets.
}


# Field name -> the words it may be: checked with the numbers, before anything runs (a model that
# checked its words when built failed as a run, after the sweep had started).
FIELD_CHOICES: dict[str, tuple[str, ...]] = {
    "recon": ("bce", "mse"),  # The VAE's reconstruction term.
    "prior": tuple(PRIORS),  # The MLP GANs' latent prior.
    "critic_norm": ("layer", "none"),  # WGAN-GP's critic normalisation.
}


def check_hparams(model: str, hparams: object) -> None:
    """Raise a :class:`UserError` naming ``model`` and the field for the first field of the dataclass
    ``hparams`` that breaks its rule (:data:`FIELD_RULES`) or is none of its words (:data:`FIELD_CHOICES`)."""
    for spec in dataclasses.fields(hparams):  # type: ignore[arg-type]
        value = getattr(hparams, spec.name)
        choices = FIELD_CHOICES.get(spec.name)
        if choices is not None and value not in choices:
            raise UserError(f"{model}.{spec.name} must be one of {', '.join(choices)}; got {value!r}")
        rule = FIELD_RULES.get(spec.name)
        if rule is None:
            continue
        test, must_be = RULES[rule]
        if not test(value):
            raise UserError(f"{model}.{spec.name} must be {must_be}, got {value!r}")
