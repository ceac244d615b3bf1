"""Suite files: parsed, validated, merged with command-line options."""

from __future__ import annotations

from pathlib import Path

import pytest

from genbench.core.registry import Registry
from genbench.errors import UserError
from genbench.options.config import RunOptions, resolve_options
from genbench.options.suite import load_suite
from genbench.running.sweep import Benchmark

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _suite(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "suite.toml"
    path.write_text(text)
    return path


def test_quick_suite_is_the_default_run() -> None:
    quick = resolve_options(load_suite(BENCHMARKS / "quick.toml"), {})
    default = RunOptions()
    assert (quick.models, quick.datasets, quick.seeds, quick.budget, quick.n_samples, quick.metrics) == (
        default.models,
        default.datasets,
        default.seeds,
        default.budget,
        default.n_samples,
        default.metrics,
    )


def test_command_line_options_win_over_the_suite(tmp_path: Path) -> None:
    suite = load_suite(
        _suite(
            tmp_path,
            """
        models = ["dcgan", "vae"]
        datasets = ["mnist"]
        seeds = [0, 1]
        kimg = 100
        steps = 50
        [overrides.dcgan]
        lr = 1e-4
        batch_size = 32
    """,
        )
    )
    options = resolve_options(suite, {"kimg": 5.0, "seeds": None, "overrides": {"dcgan": {"lr": "3e-4"}}})
    assert options.models == ("dcgan", "vae") and options.datasets == ("mnist",) and options.seeds == (0, 1)
    assert (options.budget.kimg, options.budget.steps) == (5.0, 50)
    assert options.overrides == {"dcgan": {"lr": "3e-4", "batch_size": 32}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('modles = ["dcgan"]', "unknown key 'modles'; known keys: description, models"),
        ('models = "dcgan"', "'models' must be a list of model names, got 'dcgan'"),
        ("kimg = true", "'kimg' must be a number"),
        ("seeds = [0, -1]", "'seeds' must list non-negative integers"),
        ('metrics = ["fid_50k"]', "unknown metric fid_50k; known: fd_clf"),
        ("overrides = 3", "'overrides' must be a table"),
        ("[overrides]\nwgan = 2", "[overrides.wgan] must be a table of hyperparameters"),
        ("kimg = ", "is not valid TOML"),
        ('models = ["dcgan"]\nmodels = ["vae"]', "is not valid TOML"),
    ],
)
def test_bad_suites_are_refused_naming_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError) as error:
        load_suite(_suite(tmp_path, text))
    assert message in str(error.value) and "\n" not in str(error.value)


def test_missing_suite_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        load_suite(tmp_path / "nope.toml")


@pytest.mark.parametrize("path", sorted(BENCHMARKS.glob("*.toml")), ids=lambda p: p.name)
def test_every_benchmark_suite_is_valid_against_the_installed_plugins(path: Path) -> None:
    # Building the benchmark checks every model, dataset and override without running anything.
    options = resolve_options(load_suite(path), {"device": "cpu"})
    benchmark = Benchmark(options, Registry.discover(autoload=True))
    assert [entry.name for entry, _ in benchmark.models] == list(options.models)
    for entry, hparams in benchmark.models:
        for key, value in options.overrides.get(entry.name, {}).items():
            assert getattr(hparams, key) == value


def test_the_report_suites_cover_the_reports() -> None:
    covered = set()
    for path in BENCHMARKS.glob("report-*.toml"):
        suite = load_suite(path)
        covered |= {(model, data) for model in suite["models"] for data in suite["datasets"]}
    assert {
        ("wgan-gp", "mnist"),
        ("acgan", "cifar10"),
        ("cgan", "mnist"),
        ("vae", "fashion-mnist"),
    } <= covered


def test_suites_set_the_evaluation_protocol(tmp_path: Path) -> None:
    text = 'reference_split = "train"\nn_reference = 100\ndivergence_steps = 20\n'
    options = resolve_options(load_suite(_suite(tmp_path, text)), {})
    assert (options.reference_split, options.n_reference, options.divergence.steps) == ("train", 100, 20)


def test_the_command_line_narrows_a_suite_to_some_of_its_models(tmp_path: Path) -> None:
    text = 'models = ["dcgan", "hinge-gan"]\n[overrides.hinge-gan]\nlr = 1e-4\n[overrides.dcgan]\nlr = 3e-4\n'
    suite = load_suite(_suite(tmp_path, text))
    options = resolve_options(suite, {"models": ("dcgan",)})
    assert options.models == ("dcgan",) and options.overrides == {"dcgan": {"lr": 3e-4}}
    # The command line's own --set for a model not in the run is still a mistake.
    with pytest.raises(UserError, match=r"^hyperparameters are set for 'wgan', which is not among"):
        resolve_options(suite, {"models": ("dcgan",), "overrides": {"wgan": {"n_critic": "2"}}})


@pytest.mark.parametrize(
    "text", ['models = ["dcgan"]\n[overrides.wgan]\nn_critic = 2\n', "[overrides.wgan]\nn_critic = 2\n"]
)
def test_overrides_for_a_model_the_suite_does_not_run_name_the_suite(tmp_path: Path, text: str) -> None:
    path = _suite(tmp_path, text)
    with pytest.raises(UserError) as error:
        resolve_options(load_suite(path), {}, suite_name=f"suite {path.name}")
    assert str(error.value).startswith("suite suite.toml: hyperparameters are set for 'wgan', which is not")
    # Naming the models on the command line makes such a suite usable as a table of overrides.
    assert resolve_options(load_suite(path), {"models": ("wgan",)}).overrides == {"wgan": {"n_critic": 2}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kimg = inf", "suite suite.toml: 'kimg' must be at most 1e+06, got inf"),
        ("n_samples = 1000000000000", "suite suite.toml: 'n_samples' must be at most 1,000,000, got "),
        ("seeds = [4294967296]", "suite suite.toml: 'seeds' values must be at most 4,294,967,295, got "),
        ('device = "tpu"', "suite suite.toml: 'device' must be auto, cpu or cuda, got 'tpu'"),
    ],
)
def test_suite_values_beyond_sense_name_the_suite_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError) as error:
        load_suite(_suite(tmp_path, text))
    assert str(error.value).startswith(message)
