"""The run identity: a run is reused only when nothing that affects its result changed. Each option that
affects results, each weights file, the data and the model plugin's version change the run id in turn;
options that do not affect results leave it alone."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import torch
from typer.testing import CliRunner

from genbench.api import Split
from genbench.cli import app
from genbench.evaluation.inception import _EXPECTED_KEYS, resolve_inception_weights
from genbench.options.config import RunOptions
from genbench.options.declaration import declared
from genbench.options.identity import ResolvedRun, data_sha256, run_identity
from genbench.results.records import run_id, setup_hash
from genbench.running.sweep import Benchmark

OPTIONS = RunOptions(models=("m",), datasets=("d",), kimg=1.0, device="cpu", out=Path("results"))
RUN = ResolvedRun(
    dataset="d",
    shape={"channels": 1, "resolution": 8, "num_classes": 3},
    data_sha256="d" * 64,
    model="m",
    model_distribution="m-plugin",
    model_version="1.0",
    hparams={"lr": 0.05},
    seed=0,
    device="cpu",
    precision="fp32",
    classifier_sha256="c" * 64,
    inception_sha256=None,
)

# Another value for every option that affects results...
AFFECTING = {
    "kimg": 2.0,
    "steps": 100,
    "seconds": 60.0,
    "n_samples": 500,
    "metrics": ("fd_clf",),
    "reference_split": "train",
    "n_reference": 50,
    "divergence_steps": 10,
    "bootstrap": 0,
    "eval_every": 0.5,
    "n_eval": 100,
}
# ...or for what it resolves to in a run (option -> the run's field and another value)...
RESOLVED = {
    "models": ("model", "other-model"),
    "datasets": ("dataset", "other-data"),
    "seeds": ("seed", 1),
    "device": ("device", "cuda"),
    "overrides": ("hparams", {"lr": 0.01}),
    "sampling": ("sampling", {"sample_steps": 10}),
    "fid_weights": ("inception_sha256", "f" * 64),
    "precision": ("precision", "bf16"),
}
# ...and for every option that does not.
NOT_AFFECTING = {
    "out": Path("elsewhere"),
    "data_root": Path("other-data-root"),
    "log_every": 7,
    "checkpoint_every": 0.5,
    "restart": True,
    "quiet": True,
    "report": False,
    "dry_run": True,
    "track": ("tensorboard", "mlflow"),
    "description": "another description",
    "executor": "ray",
    "ray_address": "127.0.0.1:6379",
    "gpus_per_run": 0.5,
    "cpus_per_run": 2.0,
    "max_retries": 0,
    "pack": "4",
}
RAY_ONLY = ("ray_address", "gpus_per_run", "cpus_per_run")


def _id(options: RunOptions = OPTIONS, run: ResolvedRun = RUN) -> str:
    return run_id(run.dataset, run.model, run.seed, run_identity(options, run))


def test_every_declared_option_is_covered_here() -> None:
    # A new option must say here whether it changes results: the tests below then check it does.
    affecting = {spec.name for spec in declared(RunOptions) if spec.option.affects_results}
    assert affecting == set(AFFECTING) | set(RESOLVED)
    assert {spec.name for spec in declared(RunOptions)} - affecting == set(NOT_AFFECTING)
    for spec in declared(RunOptions):
        assert (spec.option.resolved_as is not None) == (spec.name in RESOLVED), spec.name


@pytest.mark.parametrize(("name", "value"), AFFECTING.items())
def test_an_option_that_affects_results_gives_another_run(name: str, value: Any) -> None:
    changed = dataclasses.replace(OPTIONS, **{name: value})
    assert _id(changed) != _id()
    assert setup_hash(run_identity(changed, RUN)) != setup_hash(run_identity(OPTIONS, RUN))


@pytest.mark.parametrize(("name", "field_and_value"), RESOLVED.items())
def test_what_an_option_resolves_to_gives_another_run(name: str, field_and_value: tuple[str, Any]) -> None:
    field, value = field_and_value
    spec = next(spec for spec in declared(RunOptions) if spec.name == name)
    changed = dataclasses.replace(RUN, **{field: value})
    assert _at(run_identity(OPTIONS, changed), spec.option.resolved_as) != _at(
        run_identity(OPTIONS, RUN), spec.option.resolved_as
    )
    assert _id(run=changed) != _id()


def _at(identity: dict[str, Any], key: str | None) -> Any:
    """The identity's value at ``key``, dotted for a group's (``evaluation.sampling``); None if absent."""
    for part in (key or "").split("."):
        identity = identity.get(part) if isinstance(identity, dict) else None  # type: ignore[assignment]
    return identity


def test_sampling_options_enter_the_evaluation_only_and_only_when_set() -> None:
    # A run without them keeps the identity it had before models had sampling options.
    assert "sampling" not in run_identity(OPTIONS, RUN)["evaluation"]
    at_ten = run_identity(OPTIONS, dataclasses.replace(RUN, sampling={"sample_steps": 10}))
    assert at_ten["evaluation"]["sampling"] == {"sample_steps": 10} and at_ten["hparams"] == RUN.hparams


@pytest.mark.parametrize(("name", "value"), NOT_AFFECTING.items())
def test_an_option_that_does_not_affect_results_keeps_the_run(name: str, value: Any) -> None:
    ray = {"executor": "ray"} if name in RAY_ONLY else {}  # Ray's options are refused without it.
    assert _id(dataclasses.replace(OPTIONS, **{name: value}, **ray)) == _id()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("model_version", "1.1"),  # The model plugin was upgraded.
        ("model_distribution", "a-fork-of-m-plugin"),
        ("classifier_sha256", "e" * 64),  # Another reference classifier.
        ("data_sha256", "0" * 64),
    ],
)
def test_code_weights_and_data_give_another_run(field: str, value: str) -> None:
    assert _id(run=dataclasses.replace(RUN, **{field: value})) != _id()


def test_only_the_seed_is_left_out_of_the_setup() -> None:
    other_seed = dataclasses.replace(RUN, seed=1)
    assert _id(run=other_seed) != _id()
    assert setup_hash(run_identity(OPTIONS, other_seed)) == setup_hash(run_identity(OPTIONS, RUN))


def test_other_data_files_hash_differently() -> None:
    images = torch.randint(0, 256, (20, 1, 8, 8), dtype=torch.uint8)
    labels = torch.arange(20) % 3
    train, test = Split(images, labels), Split(images[:10], labels[:10])
    one_pixel = images.clone()
    one_pixel[3, 0, 4, 4] ^= 1
    one_label = labels.clone()
    one_label[0] = 2
    base = data_sha256(train, test)
    assert data_sha256(Split(images.clone(), labels.clone()), test) == base  # Content, not identity.
    assert data_sha256(Split(one_pixel, labels), test) != base
    assert data_sha256(Split(images, one_label), test) != base
    assert data_sha256(test, train) != base  # Which split is which counts too.


def _inception_like(path: Path, value: float) -> None:
    """A file with the keys of torch-fidelity's Inception state dict (its content is all that counts)."""
    torch.save({key: torch.full((1,), value) for key in _EXPECTED_KEYS}, path)


def test_another_inception_weights_file_gives_another_run(tmp_path: Path) -> None:
    first, second = tmp_path / "a.pth", tmp_path / "b.pth"
    _inception_like(first, 1.0)
    _inception_like(second, 2.0)
    hashes = [resolve_inception_weights(path, download=False).sha256 for path in (first, second)]
    runs = [dataclasses.replace(RUN, inception_sha256=sha) for sha in hashes]
    assert _id(run=runs[0]) != _id(run=runs[1])
    moved = tmp_path / "moved.pth"
    moved.write_bytes(first.read_bytes())  # The same file elsewhere is the same run.
    assert _id(
        run=dataclasses.replace(RUN, inception_sha256=resolve_inception_weights(moved, False).sha256)
    ) == (_id(run=runs[0]))


def test_the_sweep_names_runs_after_the_plugin_version_and_the_device_type(fake_registry) -> None:
    options = RunOptions(models=("pixel-gaussian",), datasets=("bars",), device="cpu")
    benchmark = Benchmark(options, fake_registry)
    benchmark.data_sha256["bars"] = "d" * 64
    (entry, hparams), dataset = benchmark.models[0], benchmark.datasets[0]
    classifier_sha256 = "c" * 64
    resolved = benchmark._resolved(dataset, classifier_sha256, entry, hparams, seed=0)
    config = run_identity(options, resolved)
    assert config["model_plugin"] == {"distribution": entry.distribution, "version": entry.version}
    assert config["device"] == "cpu" and config["precision"] == "fp32"
    assert benchmark._spec(resolved).run_id == run_id("bars", entry.name, 0, config)
    upgraded = dataclasses.replace(entry, version=entry.version + ".post1")
    upgraded_spec = benchmark._spec(benchmark._resolved(dataset, classifier_sha256, upgraded, hparams, 0))
    assert upgraded_spec.run_id != run_id("bars", entry.name, 0, config)


@pytest.mark.usefixtures("one_thread")
def test_a_rerun_reuses_a_run_only_when_nothing_that_affects_it_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("GENBENCH_PLUGINS", "fakes")
    out = tmp_path / "results"
    base = ["run", "--models", "pixel-gaussian", "--data", "bars", "--kimg", "0.5", "--n-samples", "100"]
    base += ["--metrics", "fd_clf", "--out", str(out), "--quiet"]

    def run(*extra: str) -> set[str]:
        result = CliRunner().invoke(app, [*base, *extra])
        assert result.exit_code == 0, result.output
        return {path.name for path in (out / "runs").iterdir()}

    (first,) = run()
    # Options that do not affect results: the finished run is reused.
    assert run("--log-every", "3", "--checkpoint-every", "0.1", "--no-quiet") == {first}
    # One that does: a new run, the old one kept.
    runs = run("--n-eval", "20")
    assert len(runs) == 2 and first in runs


def test_another_genbench_release_gives_another_run(monkeypatch: pytest.MonkeyPatch) -> None:
    # genbench's own evaluation code scores every run: its version is part of the identity.
    before = _id()
    monkeypatch.setattr("genbench.options.identity.genbench_version", lambda: "99.0.0")
    assert _id() != before
