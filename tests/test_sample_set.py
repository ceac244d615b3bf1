"""Sampling options (issue 21): ``--sample-set`` on ``genbench run`` and ``genbench eval``. A tiny ddpm
trained once on digits is scored again at other numbers of steps without retraining; the record states
the sampling options and the network evaluations per sample (NFE); the options enter the evaluation's
part of the run identity, never the training's; bad values are one line and exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tiny_runs import runner, tiny_env

from genbench.cli import app

# A tiny ddpm: 8 base channels, a 20-step chain, sampled in 2 steps by --sample-set; only the cheap
# FD metric, no intervals, no evaluation during training (its sampling would dominate the time).
RUN = ["run", "--models", "ddpm", "--data", "digits", "--kimg", "0.1", "--n-samples", "20", "--quiet"]
TINY = ["--set", "ddpm.base_channels=8", "--set", "ddpm.timesteps=20", "--eval-every", "0"]
CHEAP = ["--metrics", "fd_clf", "--bootstrap", "0", "--no-report", "--sample-set", "ddpm.sample_steps=2"]

pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | None]:
    return tiny_env(tmp_path_factory)


@pytest.fixture(scope="module")
def ddpm_run(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str | None], one_thread: None) -> Path:
    out = tmp_path_factory.mktemp("results")
    result = runner.invoke(app, [*RUN, *TINY, *CHEAP, "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    (run,) = (out / "runs").iterdir()
    return run


def _eval(env: dict[str, str | None], run: Path, *args: str) -> tuple[str, dict]:
    result = runner.invoke(app, ["eval", str(run), *args], env=env)
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip().rsplit("; record: ", 1)[1])
    return result.stdout, json.loads(path.read_text())


def test_the_run_records_its_sampling_options_and_nfe(ddpm_run: Path) -> None:
    record = json.loads((ddpm_run / "metrics.json").read_text())
    assert record["sampling"] == {"sample_steps": 2, "guidance_scale": 1.5, "sampler": "ddim"}
    assert record["nfe"] == 2
    config = json.loads((ddpm_run / "config.json").read_text())
    assert config["evaluation"]["sampling"] == {"sample_steps": 2}  # Only what differs from the defaults.
    assert "sample_steps" not in config["hparams"] and config["hparams"]["timesteps"] == 20


def test_eval_scores_the_same_weights_at_other_steps_without_retraining(
    ddpm_run: Path, env: dict[str, str | None]
) -> None:
    own = json.loads((ddpm_run / "metrics.json").read_text())
    trained = (ddpm_run / "checkpoint.pt").stat().st_mtime_ns
    _, as_run = _eval(env, ddpm_run)
    assert as_run["metrics"] == own["metrics"] and as_run["evaluation"]["label"] == "as run"

    line, at_five = _eval(env, ddpm_run, "--sample-set", "ddpm.sample_steps=5")
    assert at_five["evaluation"]["label"] == "sample_steps 5" and "(sample_steps 5)" in line
    assert at_five["sampling"]["sample_steps"] == 5 and at_five["nfe"] == 5
    assert at_five["evaluation"]["options"]["sampling"] == {"sample_steps": 5}
    assert at_five["metrics"]["fd_clf_20"] != own["metrics"]["fd_clf_20"]  # Other samples, other numbers.
    assert at_five["run_id"] != as_run["run_id"] and at_five["setup"] != as_run["setup"]

    again, reused = _eval(env, ddpm_run, "--sample-set", "ddpm.sample_steps=5")
    assert again.startswith("reused") and reused["run_id"] == at_five["run_id"]
    _, explicit = _eval(env, ddpm_run, "--sample-set", "ddpm.sample_steps=2")  # The run's own, given.
    assert explicit["run_id"] == as_run["run_id"]
    ancestral = ["--sample-set", "ddpm.sampler=ancestral"]
    _, default = _eval(env, ddpm_run, "--sample-set", "ddpm.sample_steps=50", *ancestral)
    assert default["evaluation"]["label"] == "sample_steps default, sampler ancestral"
    assert default["nfe"] == 20  # 50 steps of a 20-step chain: the whole chain.
    assert len(list(ddpm_run.parent.iterdir())) == 1  # Still the one run,
    assert (ddpm_run / "checkpoint.pt").stat().st_mtime_ns == trained  # trained once.


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--sample-set", "ddpm.sample_steps=0"], "ddpm.sample_steps must be at least 1, got 0"),
        (["--sample-set", "ddpm.sample_steps=x"], "ddpm.sample_steps takes an int (default 50), got 'x'"),
        (["--sample-set", "ddpm.sampler=euler"], "ddpm.sampler must be one of ddim, ancestral"),
        (["--sample-set", "ddpm.lr=1"], "model 'ddpm' has no sampling option lr; it has: guidance_scale,"),
        (["--sample-set", "ddpm.guidance_scale=nan"], "ddpm.guidance_scale must be"),
        (["--sample-set", "vae.steps=1"], "sampling options are set for 'vae', which is not among"),
        (["--sample-set", "dcgan.steps=1", "--models", "dcgan"], "model 'dcgan' has no sampling option"),
        (["--set", "ddpm.sample_steps=10"], "ddpm.sample_steps is a sampling option, not a hyperparameter: "
         "give it with --sample-set ddpm.sample_steps=VALUE"),
    ],
    ids=["zero", "a word", "unknown sampler", "a hyperparameter", "nan", "another model", "none", "--set"],
)
def test_bad_sampling_options_are_one_line_and_exit_2(
    args: list[str], says: str, env: dict[str, str | None], tmp_path: Path
) -> None:
    result = runner.invoke(app, [*RUN, *args, "--out", str(tmp_path / "out")], env=env)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and says in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--sample-set", "ddpm.sample_steps=0"], "ddpm.sample_steps must be at least 1, got 0"),
        (["--sample-set", "dcgan.sample_steps=3"], "--sample-set sets sampling options for 'dcgan', but no "
         "RUN_DIR is a run of it (they are runs of ddpm)"),
        (["--sample-set", "ddpm"], "--sample-set takes MODEL.KEY=VALUE"),
    ],
    ids=["zero", "another model", "no value"],
)
def test_eval_refuses_bad_sampling_options_before_any_work(
    args: list[str], says: str, ddpm_run: Path, env: dict[str, str | None], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["eval", str(ddpm_run), *args, "--out", str(out)], env=env)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and says in result.stderr, result.stderr
    assert not out.exists()
