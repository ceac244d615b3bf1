"""How a check reports a broken rule: :class:`ContractError`, whose message names the rule, what was
found and what to do, prefixed by the model and shape it concerns."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NoReturn

from genbench.api import DataShape, Model

LISTED = 6  # Offending names listed in one message; the rest are counted.
# The class attribute holding the hyperparameters a model class is checked under (testing.overrides).
HPARAMS_ATTRIBUTE = "contract_hparams"

ModelCheck = Callable[[type[Model], DataShape], None]


class ContractError(AssertionError):
    """A broken rule of the plugin contract. The message reads ``WHO: RULE: WHAT WAS FOUND; WHAT TO DO``."""


def fail(rule: str, found: str, fix: str) -> NoReturn:
    """Raise the contract error ``RULE: FOUND; FIX``."""
    raise ContractError(f"{rule}: {found}; {fix}")


def require(ok: object, rule: str, found: str, fix: str) -> None:
    """:func:`fail` unless ``ok``."""
    if not ok:
        fail(rule, found, fix)


def listed(names: list[str]) -> str:
    """The first few ``names``, the rest counted."""
    more = f" and {len(names) - LISTED} more" if len(names) > LISTED else ""
    return ", ".join(names[:LISTED]) + more


def model_label(model_cls: type[Model]) -> str:
    """``model 'NAME'``, with the hyperparameters it is checked under when they are not the defaults."""
    label = f"model '{getattr(model_cls, 'name', model_cls.__qualname__)}'"
    hparams = getattr(model_cls, HPARAMS_ATTRIBUTE, None)
    if hparams:
        label += " (" + ", ".join(f"{key}={value!r}" for key, value in hparams.items()) + ")"
    return label


def model_check(check: ModelCheck) -> ModelCheck:
    """Prefix the check's failures with the model and shape they concern."""

    @functools.wraps(check)
    def run(model_cls: type[Model], shape: DataShape) -> None:
        try:
            check(model_cls, shape)
        except ContractError as error:
            who = f"{model_label(model_cls)} at {shape.image_shape}"
            raise ContractError(f"{who}: {error}") from None

    return run
