"""A model class under non-default hyperparameters, for the contract's checks: ``model_contract_tests(
MyModel, hparams={"latent_dim": 16})`` checks the model a user gets with ``--set my-model.latent_dim=16``.

The checks build models with ``model_cls.build(shape)``, which resolves the class's hyperparameters; a
subclass whose :meth:`~genbench.api.Model.resolve_hparams` starts from the overrides makes every check,
present and future, see them without a parameter of its own. Sampling options (``--sample-set``) are
given to the checks alike, through :meth:`~genbench.api.Model.resolve_sampling`, which a model calls when
it is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from genbench.api import Hyperparameters, Model, SamplingOptions
from genbench.errors import UserError
from genbench.options.overrides import resolve_overrides, typed_overrides
from genbench.options.sampling import resolve_sampling
from genbench.testing.failures import HPARAMS_ATTRIBUTE, ContractError


def with_hparams(
    model_cls: type[Model],
    hparams: Mapping[str, Any] | None,
    sampling: Mapping[str, Any] | None = None,
) -> type[Model]:
    """``model_cls`` whose hyperparameters default to ``hparams`` and whose sampling options default to
    ``sampling`` (values as ``--set`` / ``--sample-set`` or a suite gives them: strings or typed), or
    ``model_cls`` itself when there are none.

    Overrides the model refuses (an unknown name, a value of the wrong type, one its own checks refuse)
    raise :class:`ContractError` at once, with the message ``genbench run`` would give.
    """
    if not hparams and not sampling:
        return model_cls
    hparams, sampling = hparams or {}, sampling or {}
    name = getattr(model_cls, "name", model_cls.__qualname__)
    for what, flag, given_values, resolve in (
        ("hparams", "--set", hparams, resolve_overrides),
        ("sampling", "--sample-set", sampling, resolve_sampling),
    ):
        try:
            resolve(model_cls, given_values)  # Refused here, once, not in every check.
        except UserError as error:
            given = ", ".join(f"{key}={value!r}" for key, value in given_values.items())
            refused = f"model '{name}': {what} {given}, refused as {flag} would refuse them: {error}"
            raise ContractError(refused) from None
    typed = typed_overrides(model_cls, hparams)
    typed_sampling = typed_overrides(model_cls, sampling, model_cls.Sampling)

    def resolve_hparams(cls: Any, /, **overrides: Any) -> Hyperparameters:
        # The checks' own overrides (none today) win over the ones under test.
        parent: Any = super(overridden, cls)  # The class under test's own classmethod.
        return cast(Hyperparameters, parent.resolve_hparams(**{**typed, **overrides}))

    def resolve_sampling_options(cls: Any, /, **overrides: Any) -> SamplingOptions:
        parent: Any = super(overridden, cls)
        return cast(SamplingOptions, parent.resolve_sampling(**{**typed_sampling, **overrides}))

    overridden: type[Model] = type(
        model_cls.__name__,
        (model_cls,),
        {
            "__module__": model_cls.__module__,
            "__qualname__": model_cls.__qualname__,
            "__doc__": model_cls.__doc__,
            "resolve_hparams": classmethod(resolve_hparams),
            "resolve_sampling": classmethod(resolve_sampling_options),
            HPARAMS_ATTRIBUTE: {**typed, **typed_sampling},
        },
    )
    return overridden
