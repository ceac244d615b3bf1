"""The run spec (genbench.core.run_spec): what a run is asked to do, resolved once by the sweep, read by
the run and its loop, written as ``config.json`` and read back type-checked; an older genbench's
``config.json`` reads into the same spec, a damaged one is one line naming what is wrong."""

from __future__ import annotations

import ast
import copy
import dataclasses
import json
import pickle
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from specs import SPEC, a_spec

from genbench.api import DataShape
from genbench.core.registry import Registry
from genbench.core.run_spec import SCHEMA_VERSION, Budget, IntervalSettings, RunSpec, Schedule, SpecError
from genbench.options.config import resolve_options
from genbench.options.identity import run_identity
from genbench.results.records import read_spec_file
from genbench.running.sweep import Benchmark

ROOT = Path(__file__).resolve().parents[1]

# What genbench wrote as config.json before the spec (no schema_version): the run identity with
# run_id, device_name, log_every and versions. Written by `genbench run --models pixel-gaussian
# --data bars --kimg 0.5 --steps 12 --n-samples 100 --metrics fd_clf,jsd_clf --divergence-steps 20
# --eval-every 0.25 --log-every 3` on the fake plugins.
SCHEMA_0 = {
    "budget": {"kimg": 0.5, "seconds": None, "steps": 12},
    "classifier_weights_sha256": "b159dc3171819b76b8127468a4a16173ee09812fe58e8e366e5b4fc4e4d52277",
    "data_sha256": "c02d5af2cc920d2d5ef06abb178bb9d54b3dfe07873409dbd8d44c08889fcc63",
    "dataset": "bars",
    "device": "cpu",
    "device_name": "cpu (x86_64, 2 threads)",
    "evaluation": {
        "divergence": {
            "batch_size": 64,
            "classifier_lr": 0.0005,
            "critic_lr": 0.0005,
            "gp_weight": 10.0,
            "max_per_half": 5000,
            "seed": 0,
            "steps": 20,
            "width": 16,
        },
        "divergence_steps": 20,
        "eval_every": 0.25,
        "metrics": ["fd_clf", "jsd_clf"],
        "n_eval": 1000,
        "n_reference": None,
        "reference_split": "test",
    },
    "genbench_version": "0.2.0",
    "hparams": {"batch_size": 32, "lr": 0.05},
    "inception_weights_sha256": None,
    "log_every": 3,
    "model": "pixel-gaussian",
    "model_plugin": {"distribution": "fakes", "version": ""},
    "n_samples": 100,
    "precision": "fp32",
    "run_id": "bars-pixel-gaussian-seed0-c85cbe1f19",
    "seed": 0,
    "shape": {"channels": 1, "num_classes": 3, "resolution": 8},
    "versions": {
        "cuda": "13.0",
        "genbench": "0.2.0",
        "platform": "Linux-6.18.44-fc-v1300-x86_64-with-glibc2.36",
        "plugins": {"fakes": ""},
        "python": "3.11.7",
        "torch": "2.14.1+cu130",
        "torch-fidelity": "0.4.0",
        "torchvision": "0.29.1",
    },
}


def _as_written(spec: RunSpec) -> dict[str, Any]:
    return json.loads(json.dumps(spec.to_dict()))


def test_a_spec_reads_back_as_written_and_travels_to_ray_tasks() -> None:
    written = _as_written(SPEC)
    assert written["schema_version"] == SCHEMA_VERSION and written["training"]["budget"]["kimg"] == 10
    assert RunSpec.from_dict(written) == SPEC
    assert pickle.loads(pickle.dumps(SPEC)) == SPEC  # Ray pickles a task's arguments.
    unset = a_spec(environment=None)  # As the sweep hands it to the run, before it trains anywhere.
    assert RunSpec.from_dict(_as_written(unset)) == unset


def test_an_older_genbench_config_reads_into_the_same_spec() -> None:
    spec = RunSpec.from_dict(copy.deepcopy(SCHEMA_0))
    assert (spec.run_id, spec.dataset, spec.model, spec.seed, spec.device) == (
        "bars-pixel-gaussian-seed0-c85cbe1f19",
        "bars",
        "pixel-gaussian",
        0,
        "cpu",
    )
    assert spec.setup is None  # Not recorded then (the record has it).
    assert spec.training.budget == Budget(0.5, steps=12)
    assert spec.training.schedule == Schedule(3, None, 0.25)  # Nor the checkpoint interval.
    assert spec.training.precision == "fp32" and spec.hparams == {"batch_size": 32, "lr": 0.05}
    evaluation = spec.evaluation
    assert (evaluation.metrics, evaluation.n_samples, evaluation.n_eval) == (("fd_clf", "jsd_clf"), 100, 1000)
    assert (evaluation.reference_split, evaluation.n_reference, evaluation.divergence.steps) == (
        "test",
        None,
        20,
    )
    assert spec.provenance.data_shape == DataShape(1, 8, 3) and spec.provenance.model_distribution == "fakes"
    assert spec.provenance.classifier_sha256.startswith("b159") and spec.provenance.inception_sha256 is None
    assert spec.environment is not None and spec.environment.plugins == {"fakes": ""}
    assert spec.environment.versions["torch"] == "2.14.1+cu130" and "plugins" not in spec.environment.versions
    assert spec.evaluation.intervals == IntervalSettings(resamples=0)  # Made no intervals then.


def test_a_schema_1_config_reads_as_a_run_without_intervals() -> None:
    # Schema 1 is schema 2 without evaluation.intervals (issue 20): its run made none.
    written = _as_written(SPEC)
    del written["evaluation"]["intervals"]
    written["schema_version"] = 1
    older = RunSpec.from_dict(written)
    assert older == dataclasses.replace(
        SPEC, evaluation=dataclasses.replace(SPEC.evaluation, intervals=IntervalSettings(resamples=0))
    )


def test_an_older_config_with_its_intervals_reads_them() -> None:
    # A config.json of issue 20's first version, before the spec: the identity with its intervals.
    old = copy.deepcopy(SCHEMA_0)
    old["evaluation"]["intervals"] = {"resamples": 50, "seed": 0, "confidence": 0.95}
    assert RunSpec.from_dict(old).evaluation.intervals == IntervalSettings(resamples=50)


def test_an_older_config_that_lacks_a_setting_names_it() -> None:
    old = copy.deepcopy(SCHEMA_0)
    del old["n_samples"], old["evaluation"]["eval_every"]
    with pytest.raises(
        SpecError, match=r"^no training\.schedule\.eval_every_kimg \(an older genbench's config\)$"
    ):
        RunSpec.from_dict(old)


def _set(path: str, value: Any) -> Any:
    def damage(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for key in parents:
            data = data[key]
        if value is _DELETE:
            del data[last]
        else:
            data[last] = value

    return damage


_DELETE = object()

DAMAGES = [
    (_set("training.budget.kimg", "ten"), "training.budget.kimg is a string, not a number"),
    (_set("seed", True), "seed is a boolean, not an integer"),
    (_set("training.precision", "fp16"), "training.precision is 'fp16', not 'fp32' or 'bf16'"),
    (_set("evaluation.reference_split", "val"), "evaluation.reference_split is 'val', not 'train' or 'test'"),
    (_set("evaluation.metrics", "fd_clf"), "evaluation.metrics is a string, not a list"),
    (_set("evaluation.metrics", ["fd_clf", 3]), r"evaluation.metrics\[1\] is a number, not a string"),
    (_set("evaluation.divergence", None), "evaluation.divergence is null, not an object"),
    (_set("evaluation.intervals.resamples", 1), "evaluation.intervals: --bootstrap must be 0 .* at least 2"),
    (_set("provenance.data_sha256", _DELETE), "no provenance.data_sha256"),
    (_set("environment.versions", {"torch": 2}), "environment.versions.torch is a number, not a string"),
    (_set("training.budget.kimg", -1), "training.budget: --kimg must be positive, got -1"),
    (
        _set("schema_version", 99),
        rf"written by a newer genbench \(config schema 99; this genbench reads up to {SCHEMA_VERSION}\)",
    ),
    (_set("schema_version", "1"), "schema_version is '1', not a version number"),
]


@pytest.mark.parametrize(("damage", "message"), DAMAGES)
def test_a_damaged_spec_is_one_line_naming_what_is_wrong(damage: Any, message: str) -> None:
    data = _as_written(SPEC)
    damage(data)
    with pytest.raises(SpecError, match=message) as raised:
        RunSpec.from_dict(data)
    assert "\n" not in str(raised.value)


def test_a_damaged_config_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    for text, problem in (
        ("[]", "not a JSON object"),
        ('{"run_id": ', "not valid JSON"),
        (b"\xff\xfe", "not text"),
    ):
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        with pytest.raises(SpecError, match=f"^{path}: {problem}"):
            read_spec_file(path)


def test_the_sweep_resolves_each_run_spec_from_the_options_once(fake_registry: Registry) -> None:
    given = {"models": ("pixel-gaussian",), "datasets": ("bars",), "device": "cpu", "kimg": 2, "steps": 9}
    options = resolve_options({}, {**given, "n_samples": 300, "log_every": 4, "seeds": (0, 5)})
    benchmark = Benchmark(options, fake_registry)
    benchmark.data_sha256["bars"] = "d" * 64
    (entry, hparams), dataset = benchmark.models[0], benchmark.datasets[0]
    data = SimpleNamespace(
        entry=dataset, shape=DataShape(1, 8, 3), classifier=SimpleNamespace(weights_sha256="c" * 64)
    )
    first, second = (benchmark._job(data, entry, hparams, seed).spec for seed in options.seeds)
    assert first.training.budget == Budget(2, steps=9) and first.training.budget is second.training.budget
    assert first.training.schedule == Schedule(4, 0.2, 0.2) and first.training.precision == "fp32"
    assert first.evaluation is second.evaluation and first.evaluation.n_samples == 300
    assert (first.seed, second.seed, first.setup) == (0, 5, second.setup)  # Seeds of one experiment.
    assert first.provenance.model_distribution == entry.distribution and first.environment is None


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list | tuple):
        return [value if all(not isinstance(v, dict | list) for v in value) else _leaves(list(value))]
    return [value]


def test_the_spec_holds_every_value_the_run_id_hashes(fake_registry: Registry) -> None:
    # config.json "has it all": each value of the run identity (genbench.options.identity) is in the
    # spec, wherever the spec keeps it. Values unlike any default, so that none is found by chance.
    given = {"kimg": 2.5, "steps": 17, "seconds": 33.5, "n_samples": 321, "n_eval": 123, "n_reference": 45}
    given |= {"metrics": ("fd_clf", "jsd_clf"), "reference_split": "train", "divergence_steps": 19}
    options = resolve_options(
        {}, {"models": ("pixel-gaussian",), "datasets": ("bars",), "device": "cpu", **given}
    )
    benchmark = Benchmark(options, fake_registry)
    benchmark.data_sha256["bars"] = "d" * 64
    (entry, hparams), dataset = benchmark.models[0], benchmark.datasets[0]
    resolved = benchmark._resolved(dataset, "c" * 64, entry, hparams, 0)
    spec_leaves = _leaves(json.loads(json.dumps(benchmark._spec(resolved).to_dict())))
    identity = json.loads(json.dumps(run_identity(options, resolved)))
    missing = [leaf for leaf in _leaves(identity) if leaf not in spec_leaves]
    assert not missing


@pytest.mark.parametrize("module", ["single_run", "training", "jobs", "ray_task"])
def test_a_run_reads_its_spec_not_the_options(module: str) -> None:
    tree = ast.parse((ROOT / "genbench" / "running" / f"{module}.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in imported if name and name.startswith("genbench.options")}
