"""Sampling options on the command line: ``--sample-set ddpm.sample_steps=10`` (``[sampling.ddpm]`` in a
suite) sets a model's sampling option (its ``Sampling``, genbench.api.SamplingOptions), which changes
how the trained model is sampled, never how it trains.

Values are converted and checked as ``--set`` converts and checks hyperparameters
(genbench.options.overrides), before any run starts. A run keeps only the options that differ from the
model's defaults (:func:`sampling_given`): they enter the evaluation's part of its identity, and a run
that sets none keeps the identity it had before models had sampling options.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from genbench.api import Model, SamplingOptions
from genbench.options.overrides import refuse_nan, typed_overrides


def resolve_sampling(model_cls: type[Model], given: Mapping[str, Any]) -> SamplingOptions:
    """``model_cls``'s sampling options with ``given`` applied (``--sample-set`` strings or typed
    values): converted to each default's type, checked by name and by the model's own rules, then NaN;
    a refusal is a one-line :class:`~genbench.errors.UserError`."""
    typed = typed_overrides(model_cls, given, model_cls.Sampling)
    sampling = model_cls.resolve_sampling(**typed)
    refuse_nan(model_cls.name, typed)
    return sampling


def sampling_given(model_cls: type[Model], given: Mapping[str, Any]) -> dict[str, Any]:
    """The sampling options ``given`` resolves to that differ from the model's defaults, typed: what a
    run's spec and identity hold ({} where all are the defaults, however they were given)."""
    resolved = dataclasses.asdict(resolve_sampling(model_cls, given))
    defaults = dataclasses.asdict(model_cls.resolve_sampling())
    return {key: value for key, value in resolved.items() if value != defaults[key]}
