"""``genbench eval`` through the real command: tiny dcgan and acgan runs on digits scored again, with
their own options (the run's numbers, exactly), with another sample count (a row of its own in the
leaderboard, never pooled with the run's), again (reused), with --best, and every bad input one line
with exit code 2 before any work."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from tiny_runs import N, run_dir, runner, tiny_env, tiny_results

from genbench.cli import app

CHEAP = ["--metrics", "fd_clf,kid_clf", "--bootstrap", "0"]  # A quick evaluation for the other tests.


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | None]:
    return tiny_env(tmp_path_factory)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str | None], one_thread: None) -> Path:
    return tiny_results(tmp_path_factory, env, ["dcgan", "acgan"])


def _eval(env: dict[str, str | None], *args: str) -> tuple[list[str], list[dict]]:
    """Run genbench eval; its stdout lines and the record each names."""
    result = runner.invoke(app, ["eval", *args], env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    paths = [Path(line.rsplit("; record: ", 1)[1]) for line in lines]
    return lines, [{"path": path, **json.loads(path.read_text())} for path in paths]


def _board(results: Path, env: dict[str, str | None], *more: str) -> pd.DataFrame:
    shown = runner.invoke(app, ["leaderboard", "--out", str(results), "--format", "csv", *more], env=env)
    assert shown.exit_code == 0, shown.output
    return pd.read_csv(io.StringIO(shown.stdout))


def test_the_runs_own_options_reproduce_its_metrics_exactly(
    results: Path, env: dict[str, str | None]
) -> None:
    runs = [run_dir(results, model) for model in ("dcgan", "acgan")]
    lines, records = _eval(env, *map(str, runs))
    assert len(lines) == 2  # One line a run.
    for run, line, record in zip(runs, lines, records, strict=True):
        own = json.loads((run / "metrics.json").read_text())
        assert record["metrics"] == own["metrics"]  # Every value and interval end, to the last digit.
        assert line.startswith(f"evaluated {run.name} (as run): ")
        assert record["model"] == own["model"] and record["seed"] == own["seed"] == 0
        assert record["run_id"].startswith(f"{run.name}-eval-") and record["setup"] != own["setup"]
        assert record["evaluation"]["run_id"] == run.name and record["evaluation"]["label"] == "as run"
        assert record["path"].parent == results / "evals"
        assert record["protocol"][f"fd_clf_{N}"]["weights"] == "checkpoint.pt"


def test_another_sample_count_is_that_runs_evaluation_never_pooled_with_its_own(
    results: Path, env: dict[str, str | None]
) -> None:
    run = run_dir(results, "dcgan")
    lines, (record,) = _eval(env, str(run), "--n-samples", "100", *CHEAP)
    assert set(record["metrics"]) >= {"fd_clf_100", "kid_clf_100"} and f"fd_clf_{N}" not in record["metrics"]
    label = "n_samples 100, metrics fd_clf,kid_clf, bootstrap 0"
    assert record["evaluation"]["label"] == label and f"({label})" in lines[0]

    board = _board(results, env)
    mine = board[(board["model"] == "dcgan") & (board["seed"] == 0)]
    assert label in set(mine["evaluation"]) and mine["evaluation"].isna().sum() == 1  # The run's own.
    row = mine[mine["evaluation"] == label].iloc[0]
    assert row["fd_clf_100"] == pytest.approx(record["metrics"]["fd_clf_100"]) and pd.isna(row[f"fd_clf_{N}"])
    assert row["budget_kimg"] == mine[mine["evaluation"].isna()].iloc[0]["budget_kimg"]  # The run's training.

    summary = _board(results, env, "--summary")
    dcgan = summary[summary["model"] == "dcgan"]
    assert (dcgan["seeds"] == 1).all() and len(dcgan) == len(set(mine["setup"]))  # Apart, never 2 seeds.
    table = runner.invoke(app, ["leaderboard", "--out", str(results), "--summary"], env=env)
    assert table.exit_code == 0 and "dcgan [evaluation own]" in table.stdout, table.output


def test_asking_again_reuses_the_record(results: Path, env: dict[str, str | None]) -> None:
    run = str(run_dir(results, "dcgan"))
    _, (first,) = _eval(env, run, "--n-samples", "50", *CHEAP)
    written = first["path"].stat().st_mtime_ns
    lines, (again,) = _eval(env, run, "--n-samples", "50", *CHEAP)
    assert lines[0].startswith(f"reused the evaluation of {Path(run).name}")
    assert again["path"] == first["path"] and again["path"].stat().st_mtime_ns == written


def test_the_best_weights_read_the_best_cheap_metric(results: Path, env: dict[str, str | None]) -> None:
    """best.pt with --n-eval samples and the run's seed is what the cheap metric scored at its best."""
    run = run_dir(results, "dcgan")
    during = json.loads((run / "metrics.json").read_text())["during_training"]
    best = ["--best", "--n-samples", "1000", "--metrics", "fd_clf", "--bootstrap", "0"]
    _, (record,) = _eval(env, str(run), *best)
    assert record["evaluation"]["weights"] == "best.pt"
    assert record["evaluation"]["label"].startswith("best.pt, ")
    assert during["metric"] == "fd_clf_1k"
    assert record["metrics"]["fd_clf_1k"] == pytest.approx(during["best"], rel=1e-6)


def _unfinished(d: Path, results: Path) -> Path:
    (d / "run").mkdir()
    (d / "run" / "config.json").write_text("{}")
    return d / "run"


def _damaged_weights(d: Path, results: Path) -> Path:
    copy = d / "runs" / run_dir(results, "dcgan").name
    shutil.copytree(run_dir(results, "dcgan"), copy)
    (copy / "checkpoint.pt").write_bytes(b"not weights")
    return copy


def _good(d: Path, results: Path) -> Path:
    return run_dir(results, "dcgan")


BAD = {
    "missing": (lambda d, r: d / "nothing", [], "no such folder"),
    "not a run": (lambda d, r: d, [], "not a run folder"),
    "unfinished": (_unfinished, [], "unfinished"),
    "damaged weights": (_damaged_weights, [], "the run's weights are lost"),
    "unknown metric": (_good, ["--metrics", "fd_clf,nope"], "nope"),
    "n-samples": (_good, ["--n-samples", "0"], "--n-samples"),
    "bootstrap": (_good, ["--bootstrap", "1"], "--bootstrap"),
    "reference split": (_good, ["--reference-split", "val"], "--reference-split"),
    "a good run then a bad one": (_good, ["MISSING"], "no such folder"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_and_exit_2_before_any_work(
    case: str, tmp_path: Path, results: Path, env: dict[str, str | None]
) -> None:
    make, options, expected = BAD[case]
    options = [str(tmp_path / "missing") if option == "MISSING" else option for option in options]
    out = tmp_path / "out"
    result = runner.invoke(app, ["eval", str(make(tmp_path, results)), *options, "--out", str(out)], env=env)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and expected in result.stderr, result.stderr
    assert "Traceback" not in result.output and not out.exists()
