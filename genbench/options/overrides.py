"""Hyperparameter overrides: ``--set wgan.n_critic=2`` on the command line, ``[overrides.wgan]`` in a suite.

Values are converted to the type of the hyperparameter's default (:func:`typed_overrides`), so a typo or
a wrong type is refused before any run starts, with the model, the key and what it takes; the model's
own ``Model.resolve_hparams`` then applies them, checked by name and by its ``Hparams``, and NaN is
refused whatever a plugin checks (:func:`refuse_nan`); :func:`resolve_overrides` does all three, for
the sweep and for ``genbench.testing``'s checks under non-default hyperparameters alike.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

from genbench.api import Hyperparameters, Model
from genbench.errors import UserError
from genbench.options.flags import FALSE_WORDS, TRUE_WORDS

Overrides = dict[str, dict[str, Any]]  # model name -> {hyperparameter: value}


def parse_set_options(items: Iterable[str], flag: str = "--set") -> Overrides:
    """``["wgan.n_critic=2", "vae.recon=mse"]`` -> ``{"wgan": {"n_critic": "2"}, "vae": {"recon": "mse"}}``.

    Values stay strings here; :func:`typed_overrides` converts them once the model class is known.
    ``flag`` names the option in messages (``--sample-set`` parses alike).
    """
    overrides: Overrides = {}
    for item in items:
        target, sep, value = item.partition("=")
        model, dot, key = target.strip().partition(".")
        if not (sep and dot and model and key):
            raise UserError(f"{flag} takes MODEL.KEY=VALUE, e.g. --set wgan.n_critic=2; got {item!r}")
        table, key = overrides.setdefault(model.strip(), {}), key.strip()
        if key in table:  # Last-wins would hide a typo or a forgotten flag from a long command line.
            twice = f"({table[key]!r}, then {value.strip()!r})"
            raise UserError(f"{flag} gives {model.strip()}.{key} twice {twice}; give it once")
        table[key] = value.strip()
    return overrides


def typed_overrides(
    model_cls: type[Model], overrides: Mapping[str, Any], declared: type[Any] | None = None
) -> dict[str, Any]:
    """``overrides`` (``--set`` strings, or a suite's values) converted to the type of each default of
    the model's hyperparameters (or of ``declared``, its ``Sampling``), for
    ``model_cls.resolve_hparams(**typed)``; names it does not have are passed as given, for it to refuse."""
    # The declared defaults, read without building the dataclass: its own checks (__post_init__) run
    # once, in Model.resolve_hparams, which turns a plugin's ValueError into one line naming it.
    fields = dataclasses.fields(declared or model_cls.Hparams)
    defaults = {f.name: declared_default(f) for f in fields}
    return {
        key: convert(model_cls.name, key, value, defaults[key]) if defaults.get(key) is not None else value
        for key, value in overrides.items()
    }


def resolve_overrides(model_cls: type[Model], overrides: Mapping[str, Any]) -> Hyperparameters:
    """``model_cls``'s hyperparameters with ``overrides`` applied as ``--set`` applies them: converted
    (:func:`typed_overrides`), checked by the model's own rules first (their messages), then NaN,
    never a setting; a refusal is a one-line :class:`UserError`."""
    moved = sorted(set(overrides) & {f.name for f in dataclasses.fields(model_cls.Sampling)})
    if moved:  # Once a hyperparameter (ddpm.sample_steps): say where it went.
        key = f"{model_cls.name}.{moved[0]}"
        raise UserError(
            f"{key} is a sampling option, not a hyperparameter: give it with --sample-set {key}=VALUE "
            "(it changes only the evaluation, never the training)"
        )
    typed = typed_overrides(model_cls, overrides)
    hparams = model_cls.resolve_hparams(**typed)
    refuse_nan(model_cls.name, typed)
    return hparams


def refuse_nan(model: str, typed: Mapping[str, Any]) -> None:
    """Refuse an override that is NaN: never a setting (a typo, or a lost computation), whatever a
    plugin checks. Called after ``Model.resolve_hparams``, so that a model's own rule for the field
    speaks first, with its message ("must be a finite positive number")."""
    for key, value in typed.items():
        if isinstance(value, float) and math.isnan(value):
            raise UserError(f"{model}.{key} must be a number, got nan")


def declared_default(spec: dataclasses.Field[Any]) -> Any:
    """A dataclass field's default (made by its factory if it has one); None when it has none."""
    if spec.default is not dataclasses.MISSING:
        return spec.default
    if spec.default_factory is not dataclasses.MISSING:
        return spec.default_factory()
    return None  # No default: the value is passed as given.


def convert(model: str, key: str, value: Any, default: Any) -> Any:
    """``value`` as the type of ``default`` (bool, int, float or str); suites may already give it typed."""
    kind = type(default)
    try:
        if kind is bool:
            return _to_bool(value)
        if isinstance(value, bool):  # Not a number, whatever Python says.
            raise ValueError(value)
        if kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return int(value)
        if kind is float:
            return float(value)  # NaN too: the model's own rules say what it must be (refuse_nan after).
        if default is None or isinstance(value, kind):
            return value
    except (ValueError, TypeError, OverflowError):  # "abc", None, or "1e999" for an int.
        pass
    article = "an" if kind.__name__[0] in "aeiou" else "a"
    raise UserError(f"{model}.{key} takes {article} {kind.__name__} (default {default!r}), got {value!r}")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in (TRUE_WORDS | FALSE_WORDS) - {""}:
        return text in TRUE_WORDS
    raise ValueError(value)
