"""A run spec for tests that read or write ``config.json`` without running anything."""

from __future__ import annotations

import dataclasses
from typing import Any

from genbench.api import DataShape
from genbench.core.run_spec import (
    Budget,
    DivergenceSettings,
    Environment,
    EvaluationSpec,
    Provenance,
    RunSpec,
    Schedule,
    TrainingSpec,
)

SPEC = RunSpec(
    run_id="digits-dcgan-seed0-abc",
    setup="abc",
    dataset="digits",
    model="dcgan",
    seed=0,
    hparams={"lr": 0.0002, "batch_size": 64},
    device="cpu",
    training=TrainingSpec(Budget(10, seconds=60), Schedule(25, 1.0, 2.5), "fp32"),
    evaluation=EvaluationSpec(("fd_clf", "jsd_clf"), 10_000, 1000, "test", None, DivergenceSettings()),
    provenance=Provenance(
        genbench_version="0.2.0",
        data_sha256="d" * 64,
        data_shape=DataShape(1, 8, 10),
        model_distribution="genbench-builtin",
        model_version="0.1.0",
        classifier_sha256="f" * 64,
        inception_sha256=None,
    ),
    environment=Environment("cpu", {"python": "3.11.7", "torch": "2.14.1"}, {"genbench-builtin": "0.1.0"}),
)


def a_spec(**changes: Any) -> RunSpec:
    """:data:`SPEC` with ``changes`` to its top-level fields."""
    return dataclasses.replace(SPEC, **changes)
