"""Run ids are the names of finished runs on disk: the same inputs must give the same id in every
genbench that reads those folders, or a rerun trains everything again. These ids were taken from the
sweep before the run got its typed spec (house plan 2), through its identity dict; a change here
renames every existing run.

Issue 20 renamed them once, on purpose: every metric's interval over the run's samples (``--bootstrap``,
``evaluation.intervals`` of the identity) changes what a run records, so runs made without intervals are
not reused as runs made with them. The default metrics changed them once more (the first and last
case): the default list gained copying, the train/test gap, FD-infinity and the pixel-PCA space, and
those runs would not have them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from genbench.api import DataShape
from genbench.core.registry import Registry
from genbench.options.config import resolve_options
from genbench.running.sweep import Benchmark

RUN = {"models": ("pixel-gaussian",), "datasets": ("bars",), "device": "cpu"}
PINNED = [
    ({}, "bars-pixel-gaussian-seed0-163533c286"),
    (
        {  # An integer kimg, as a suite gives it, hashes as an integer.
            "kimg": 50,
            "steps": 7,
            "n_samples": 300,
            "metrics": ("fd_clf", "jsd_clf"),
            "divergence_steps": 20,
            "reference_split": "train",
            "n_reference": 40,
            "overrides": {"pixel-gaussian": {"lr": "0.01"}},
            "log_every": 3,
            "seeds": (3,),
        },
        "bars-pixel-gaussian-seed3-56e9b981cc",
    ),
    ({"kimg": 2.5, "eval_every": 0, "seconds": 9.5, "n_eval": 100}, "bars-pixel-gaussian-seed0-5374f4e99f"),
]


@pytest.mark.parametrize(("given", "expected"), PINNED)
def test_the_sweep_names_runs_as_it_always_did(
    given: dict[str, Any], expected: str, fake_registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("genbench.options.identity.genbench_version", lambda: "0.0.0")
    options = resolve_options({}, {**RUN, **given})
    benchmark = Benchmark(options, fake_registry)
    benchmark.data_sha256["bars"] = "d" * 64
    (entry, hparams), dataset = benchmark.models[0], benchmark.datasets[0]
    data = SimpleNamespace(
        entry=dataset, shape=DataShape(1, 8, 3), classifier=SimpleNamespace(weights_sha256="c" * 64)
    )
    job = benchmark._job(data, entry, hparams, options.seeds[0])
    assert job.spec.run_id == job.folder.run_id == expected
