"""The plugin contract as checks a plugin's own tests run: every rule a model or dataset must keep for
its benchmark numbers to mean something.

Each check builds what it tests itself and raises :class:`ContractError` (an ``AssertionError``) whose
message names the rule, the offending key, tensor or parameter, what was found and what to do, so any
test runner can call them. A plugin's test file needs two lines per class::

    from genbench.testing import dataset_contract_tests, model_contract_tests

    test_model_contract = model_contract_tests(MyModel)  # Every check at every shape of SHAPES.
    test_dataset_contract = dataset_contract_tests(MyDataset)

or calls :func:`check_model` / :func:`check_dataset` directly. Importing this module does not need
pytest; the two ``*_contract_tests`` helpers import it when called.

Diffusion and flow models are held to three rules more, each skipped where it does not apply: they
sample with their :class:`~genbench.blocks.EMA` (:func:`check_ema_sampling`), their networks use
their time input (:func:`check_time_input`), and guidance's unconditional branch sees no labels
(:func:`check_guidance`).

A metric checks itself with :func:`check_metric` (genbench.testing.metric_checks): on real images, it
must score best at the real-data floor, worsen with noise, blur and dropped classes, ignore the batch
size, tell precision from recall, and repeat itself exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from genbench.api import Dataset, DataShape, Model
from genbench.contract import class_problem
from genbench.errors import DataNotFoundError
from genbench.testing.dataset_checks import check_dataset
from genbench.testing.ema_checks import check_ema_sampling
from genbench.testing.failures import ContractError, ModelCheck, require
from genbench.testing.guidance_checks import check_guidance
from genbench.testing.inputs import SHAPES
from genbench.testing.metric_checks import CHECKS as METRIC_CHECKS
from genbench.testing.metric_checks import CheckResult, MetricUnderTest, check_metric, run_metric_checks
from genbench.testing.overrides import with_hparams
from genbench.testing.pack_checks import check_packing
from genbench.testing.sampling_checks import (
    check_encoding,
    check_estimates,
    check_labels,
    check_latents,
    check_sampling,
)
from genbench.testing.time_checks import check_time_input
from genbench.testing.training_checks import (
    check_builds_on_the_current_device,
    check_checkpoint,
    check_hyperparameters,
    check_resume,
    check_training_steps,
)

__all__ = [
    "METRIC_CHECKS",
    "MODEL_CHECKS",
    "SHAPES",
    "CheckResult",
    "ContractError",
    "MetricUnderTest",
    "check_builds_on_the_current_device",
    "check_checkpoint",
    "check_dataset",
    "check_ema_sampling",
    "check_encoding",
    "check_estimates",
    "check_guidance",
    "check_hyperparameters",
    "check_labels",
    "check_latents",
    "check_metric",
    "check_model",
    "check_packing",
    "check_resume",
    "check_sampling",
    "check_time_input",
    "check_training_steps",
    "dataset_contract_tests",
    "model_contract_tests",
    "run_metric_checks",
]

MODEL_CHECKS: tuple[ModelCheck, ...] = (
    check_builds_on_the_current_device,
    check_training_steps,
    check_sampling,
    check_labels,
    check_estimates,
    check_hyperparameters,
    check_checkpoint,
    check_resume,
    check_latents,
    check_encoding,
    check_ema_sampling,
    check_time_input,
    check_guidance,
    check_packing,
)
"""Every model check, each called as ``check(model_cls, shape)``."""


def check_model(
    model_cls: type[Model],
    shapes: Iterable[DataShape] = SHAPES,
    hparams: Mapping[str, Any] | None = None,
    sampling: Mapping[str, Any] | None = None,
) -> None:
    """Run every model check at every shape of ``shapes``, under ``hparams`` (overrides as ``--set``
    applies them; None: the defaults) and ``sampling`` (sampling options as ``--sample-set`` applies
    them); the first broken rule raises."""
    problem = class_problem("model", model_cls)
    require(problem is None, "registration", problem or "", "fix the class attributes")
    model_cls = with_hparams(model_cls, hparams, sampling)
    for shape in shapes:
        for check in MODEL_CHECKS:
            check(model_cls, shape)


def model_contract_tests(
    model_cls: type[Model],
    shapes: Iterable[DataShape] = SHAPES,
    hparams: Mapping[str, Any] | None = None,
    sampling: Mapping[str, Any] | None = None,
) -> Callable[..., None]:
    """A pytest test running every model check at every shape: ``test_contract =
    model_contract_tests(MyModel)``, or with ``shapes=(*SHAPES, MyDataset.shape)`` for your own,
    ``hparams={"latent_dim": 16}`` for the model a user gets with ``--set my-model.latent_dim=16``
    and ``sampling={"sample_steps": 4}`` for ``--sample-set my-model.sample_steps=4`` (overrides it
    refuses raise :class:`ContractError` at once, with the command line's message)."""
    import pytest

    shapes = tuple(shapes)
    model_cls = with_hparams(model_cls, hparams, sampling)

    @pytest.mark.parametrize(
        "check", MODEL_CHECKS, ids=[c.__name__.removeprefix("check_") for c in MODEL_CHECKS]
    )
    @pytest.mark.parametrize("shape", shapes, ids=["x".join(map(str, s.image_shape)) for s in shapes])
    def test_model_contract(shape: DataShape, check: ModelCheck) -> None:
        check(model_cls, shape)

    return test_model_contract


def dataset_contract_tests(
    dataset_cls: type[Dataset], root: Path | str | None = None, download: bool = False
) -> Callable[..., None]:
    """A pytest test running :func:`check_dataset`: ``test_data = dataset_contract_tests(MyDataset)``.
    ``root`` defaults to an empty temporary folder (for datasets that make their images); missing data
    (``DataNotFoundError``) skips the test with the dataset's message."""
    import pytest

    def test_dataset_contract(tmp_path: Path) -> None:
        try:
            check_dataset(dataset_cls, tmp_path if root is None else root, download)
        except DataNotFoundError as error:
            pytest.skip(f"dataset '{dataset_cls.name}': {error}")

    return test_dataset_contract
