"""The command line, through typer's CliRunner: user mistakes exit 2 with one line, runs leave records."""

from __future__ import annotations

import errno
import io
import json
import os
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import genbench.core.files
from genbench.cli import app
from genbench.core.copying_gallery import read_gallery
from genbench.results.folder_readme import FOLDER_README
from genbench.results.records import read_spec_file
from genbench.results.report import write_report

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.


@pytest.fixture
def only_fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("GENBENCH_PLUGINS", "fakes")
    monkeypatch.setenv("COLUMNS", "200")  # Rich tables wide enough not to wrap names.


def _fake_run(out: Path, *extra: str) -> object:
    args = ["run", "--models", "pixel-gaussian", "--data", "bars", "--kimg", "2", "--n-samples", "300"]
    return runner.invoke(app, [*args, "--out", str(out), "--quiet", "--no-report", *extra])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--models", "nope"], "error: unknown model 'nope'; available: pixel-gaussian\n"),
        (
            ["run", "--models", "pixel-gaussian", "--data", "nope"],
            "error: unknown dataset 'nope'; available: bars\n",
        ),
        (  # An unknown name suggests the nearest one.
            ["run", "--models", "pixel-gausian", "--data", "bar"],
            "error: unknown model 'pixel-gausian' (did you mean pixel-gaussian?); available: "
            "pixel-gaussian\n",
        ),
        (["run", "--kimg", "-1"], "error: --kimg must be positive, got -1.0\n"),
        (["run", "--seeds", "a"], "error: --seeds takes non-negative integers like 0,1,2, got 'a'\n"),
        (["run", "--models", "a,,b"], "error: --models takes a comma-separated list without empty items"),
        (["run", "--device", "tpu"], "error: --device must be auto, cpu or cuda, got 'tpu'\n"),
        (["run", "--precision", "fp8"], "error: --precision must be auto, fp32 or bf16, got 'fp8'\n"),
        (["run", "--kimg", "abc"], "error: Invalid value for '--kimg'"),
        (["run", "--frobnicate"], "error: No such option: --frobnicate"),
        (
            ["leaderboard", "--format", "xml"],
            "error: --format must be table, csv, markdown or json, got 'xml'\n",
        ),
        (["run", "--metrics", "fd_clf,fid_50k"], "error: unknown metric fid_50k; known: fd_clf, kid_clf, "),
        (["run", "--reference-split", "val"], "error: --reference-split must be train or test, got 'val'\n"),
        (["run", "--n-samples", "5"], "error: --n-samples must be at least 10, got 5\n"),
        (["run", "--n-reference", "5"], "error: --n-reference must be at least 10, got 5\n"),
        (["run", "--divergence-steps", "0"], "error: --divergence-steps must be at least 1, got 0\n"),
        (["run", "--eval-every", "-1"], "error: --eval-every must be a positive number of kimg (0: off)"),
        (["run", "--checkpoint-every", "-2"], "error: --checkpoint-every must be a positive number of kimg"),
        (["run", "--n-eval", "3"], "error: --n-eval must be at least 10, got 3\n"),
        (
            ["run", "--fid-weights", "/nowhere/w.pth"],
            "error: Inception weights file /nowhere/w.pth (--fid-weights or $GENBENCH_FID_WEIGHTS) does not",
        ),
    ],
)
def test_user_mistakes_exit_2_with_one_line(
    only_fakes: None, tmp_path: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()  # Nothing written for a mistake.


@pytest.mark.parametrize(
    ("args", "message"),
    [  # Each was accepted once and ran until killed, failed late, or passed silently (issue 14).
        (["--kimg", "inf"], "--kimg must be at most 1e+06, got inf"),
        (["--kimg", "1e400"], "--kimg must be at most 1e+06, got inf"),
        (["--kimg", "1e300"], "--kimg must be at most 1e+06, got 1e+300"),
        (["--kimg", "nan"], "--kimg must be a number, got nan"),
        (["--kimg", "1e-9"], "--kimg must give at least one image (0.001 kimg), got 1e-09"),
        (["--steps", "99999999999999999999999"], "--steps must be at most 1,000,000,000, got 99,999,"),
        (["--seconds", "inf"], "--seconds must be at most 1e+07, got inf"),
        (["--n-samples", "1000000000000"], "--n-samples must be at most 1,000,000, got 1,000,000,000,000"),
        (["--log-every", "99999999999999999999"], "--log-every must be at most 1,000,000,000, got "),
        (["--checkpoint-every", "inf"], "--checkpoint-every must be at most 1e+06, got inf"),
        (["--eval-every", "inf"], "--eval-every must be at most 1e+06, got inf"),
        (
            ["--eval-every", "50"],
            "--eval-every must be at most the budget (--kimg 40), got 50; 0 turns it off",
        ),
        (["--divergence-steps", "100000000000000"], "--divergence-steps must be at most 1,000,000, got "),
        (["--n-eval", "10000000000"], "--n-eval must be at most 100,000, got 10,000,000,000"),
        (["--seeds", "0,99999999999"], "--seeds values must be at most 4,294,967,295, got 99,999,999,999"),
        (
            ["--n-reference", "100000"],  # Checked once the data is loaded: the bars test split has 90.
            "--n-reference must be at most the test split of 'bars' (90 images), got 100,000",
        ),
    ],
)
def test_values_beyond_sense_exit_2_before_anything_is_written(
    only_fakes: None, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["run", "--models", "pixel-gaussian", "--data", "bars", *args, "--out", str(out)]
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {message}"), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("name", ["a-file", "/dev/null", "a-file/results"])
def test_an_out_that_is_not_a_folder_is_one_line(only_fakes: None, tmp_path: Path, name: str) -> None:
    file = tmp_path / "a-file"
    file.write_text("not genbench's")
    out = tmp_path / name
    result = runner.invoke(app, ["run", "--models", "pixel-gaussian", "--data", "bars", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: --out {out}: ") and "is a file, not a folder" in result.stderr
    assert result.stderr.count("\n") == 1
    assert file.read_text() == "not genbench's" and list(tmp_path.iterdir()) == [file]


def test_report_of_a_missing_or_empty_folder_is_one_line(tmp_path: Path) -> None:
    nope = tmp_path / "nope"
    missing = runner.invoke(app, ["report", str(nope)])
    assert missing.exit_code == 2
    assert missing.stderr == f"error: no results folder at {nope}; run `genbench run --out {nope}` first\n"
    empty = runner.invoke(app, ["report", str(tmp_path)])
    assert empty.exit_code == 2 and empty.stderr.startswith(f"error: no run records in {tmp_path}")
    assert list(tmp_path.iterdir()) == []  # Nothing written.


@pytest.mark.parametrize("content", [[], ["photo.jpg", "notes/"]])
def test_leaderboard_of_an_empty_or_foreign_folder_is_one_line_and_writes_nothing(
    tmp_path: Path, content: list[str]
) -> None:
    for name in content:
        (tmp_path / name).mkdir() if name.endswith("/") else (tmp_path / name).write_text("x")
    before = sorted(tmp_path.rglob("*"))
    result = runner.invoke(app, ["leaderboard", "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    expected = f"error: no run records in {tmp_path}; run `genbench run --out {tmp_path}` first\n"
    assert result.stderr == expected
    assert sorted(tmp_path.rglob("*")) == before  # No leaderboard.csv, no lock file.


def test_report_output_naming_a_folder_is_one_line_and_writes_nothing(
    only_fakes: None, tmp_path: Path
) -> None:
    out = tmp_path / "results"
    assert _fake_run(out).exit_code == 0
    before = sorted(out.rglob("*"))
    result = runner.invoke(app, ["report", str(out), "--output", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: --output {tmp_path} is a folder; ")
    assert result.stderr.count("\n") == 1
    assert sorted(out.rglob("*")) == before


def test_fid_weights_that_are_not_weights_are_one_line_and_nothing_is_written(
    only_fakes: None, tmp_path: Path
) -> None:
    junk = tmp_path / "weights.pth"
    junk.write_text("<html>moved</html>")
    out = tmp_path / "results"
    result = _fake_run(out, "--fid-weights", str(junk), "--metrics", "fd_clf,fid")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: --fid-weights/$GENBENCH_FID_WEIGHTS {junk} is not an Inception")
    assert result.stderr.count("\n") == 1 and not out.exists()


def test_plugins_lists_names_kinds_and_sources(only_fakes: None) -> None:
    result = runner.invoke(app, ["plugins"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any("pixel-gaussian" in line and "model" in line and "fakes" in line for line in lines)
    assert any("bars" in line and "dataset" in line for line in lines)


def test_run_writes_records_and_leaderboard_and_reuses_finished_runs(
    only_fakes: None, tmp_path: Path
) -> None:
    out = tmp_path / "results"
    result = _fake_run(out, "--seeds", "0,1")
    assert result.exit_code == 0, result.output
    assert "pixel-gaussian" in result.stdout and "±" in result.stdout  # Mean ± std over two seeds.
    assert "seconds train" in result.stdout and "seconds eval" in result.stdout  # Where the time went.

    runs = sorted((out / "runs").iterdir())
    assert [r.name.split("-seed")[1][0] for r in runs] == ["0", "1"]
    for run in runs:
        # No interpolation pictures: the fake model has no latent space (the record says so).
        assert {p.name for p in run.iterdir()} == {  # No .lock left behind: nothing holds it.
            "config.json",
            "train.jsonl",
            "checkpoint.pt",
            "best.pt",
            "best.pt.sha256",  # Written before best.pt: a resumed run tells later best weights from damage.
            "samples.png",
            "progress.png",
            "copying.png",
            "copying.json",
            "curves_losses.png",
            "curves_eval.png",
            "metrics.json",
        }
        spec = read_spec_file(run / "config.json")  # The run's spec, type-checked.
        assert spec.run_id == run.name and spec.training.budget.kimg == 2 and spec.hparams["lr"] == 0.05
        assert {"python", "torch", "genbench"} <= set(spec.environment.versions) and spec.environment.plugins
        # --precision auto for a model that does not declare bf16_safe: part of the run's identity.
        assert spec.training.precision == "fp32"
        metrics = json.loads((run / "metrics.json").read_text())
        assert metrics["precision"] == "fp32"
        phases = metrics["phase_seconds"]
        assert {"prepare/data", "prepare/classifier", "prepare/floor", "train", "sample", "pictures"} <= set(
            phases
        )
        assert phases["eval_during_training"] > 0  # --eval-every's cheap metric: not training seconds.
        assert any(name.startswith("metric/") and "fd_clf" in name for name in phases)
        assert all(seconds >= 0 for seconds in phases.values())
        assert phases["train"] == metrics["train_seconds"]
        assert metrics["stopped_by"] == "kimg" and metrics["kimg"] >= 2
        assert metrics["protocol"]["fd_clf_300"]["n_generated"] == 300
        assert set(metrics["pictures_skipped"]) == {"interpolation.png", "interpolation_encoded.png"}
        gallery = read_gallery(run / "copying.json")  # The samples nearest to a training image.
        distances = [pair.distance for pair in gallery.pairs]
        assert 0 < len(distances) <= 8 and distances == sorted(distances) and gallery.n_samples == 300
        during = metrics["during_training"]
        assert during["metric"] == "fd_clf_1k" and during["every_kimg"] == pytest.approx(0.2)
        assert during["best"] <= during["final"] and 0 < during["best_kimg"] <= metrics["kimg"]
    # The folder explains itself, keeps its floors in one place and no lock file nothing holds.
    assert (out / "README.md").read_text() == FOLDER_README
    assert len(list((out / "floors").glob("*.json"))) == 1
    assert not (Path(os.environ["GENBENCH_CACHE_DIR"]) / "floors").exists()
    assert [p for p in out.rglob("*") if p.name.endswith(".lock")] == []
    board = pd.read_csv(out / "leaderboard.csv")
    assert list(board["model"]) == ["(real data floor)", "pixel-gaussian", "pixel-gaussian"]
    assert sorted(board["seed"].dropna()) == [0, 1] and board["seed"].isna().sum() == 1  # The floor's.
    assert board["fd_clf_300"].notna().all() and board["fid_300"].isna().all()  # No Inception weights.
    assert (board["reference_split"] == "test").all() and (board["n_reference"] == 90).all()
    assert board.loc[0, "fd_clf_300"] < board.loc[1:, "fd_clf_300"].min()  # Real data beats the model.

    # The same command again reuses the finished runs instead of training again.
    mtime = (runs[0] / "metrics.json").stat().st_mtime_ns
    again = _fake_run(out, "--seeds", "0,1")
    assert again.exit_code == 0 and "already finished" in again.stderr
    assert (runs[0] / "metrics.json").stat().st_mtime_ns == mtime
    page = write_report(out).read_text()  # Each run's copying gallery, beside its other pictures.
    assert page.count("<code>copying.png</code>: Copying gallery") == 2


def test_leaderboard_command_formats_and_filters(only_fakes: None, tmp_path: Path) -> None:
    out = tmp_path / "results"
    assert _fake_run(out).exit_code == 0
    csv = runner.invoke(app, ["leaderboard", "--out", str(out), "--format", "csv"])
    assert csv.exit_code == 0 and csv.stdout.startswith("dataset,model,seed")
    assert len(csv.stdout.strip().splitlines()) == 3  # Header, floor, run.
    markdown = runner.invoke(
        app, ["leaderboard", "--out", str(out), "--format", "markdown", "--data", "bars"]
    )
    assert markdown.exit_code == 0 and "| bars " in markdown.stdout
    missing = runner.invoke(app, ["leaderboard", "--out", str(out), "--data", "mnist"])
    assert missing.exit_code == 2 and "no runs on dataset 'mnist'" in missing.stderr
    nowhere = runner.invoke(app, ["leaderboard", "--out", str(tmp_path / "none")])
    assert nowhere.exit_code == 2 and "run `genbench run` first" in nowhere.stderr


def test_run_takes_a_suite_and_options_win_over_it(only_fakes: None, tmp_path: Path) -> None:
    suite = tmp_path / "suite.toml"
    suite.write_text(
        'models = ["pixel-gaussian"]\ndatasets = ["bars"]\nseeds = [3]\nkimg = 50\nn_samples = 300\n'
        "[overrides.pixel-gaussian]\nlr = 0.02\n"
    )
    out = tmp_path / "results"
    result = runner.invoke(app, ["run", str(suite), "--kimg", "1", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    (config,) = out.glob("runs/bars-pixel-gaussian-seed3-*/config.json")
    resolved = read_spec_file(config)
    assert resolved.training.budget.kimg == 1 and resolved.hparams["lr"] == 0.02

    suite.write_text('models = ["pixel-gaussian", "nope"]\ndatasets = ["bars"]\n')
    bad = runner.invoke(app, ["run", str(suite), "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and bad.stderr == "error: unknown model 'nope'; available: pixel-gaussian\n"


def test_the_command_line_narrows_a_suite_with_overrides_for_other_models(
    only_fakes: None, tmp_path: Path
) -> None:
    suite = tmp_path / "suite.toml"
    suite.write_text(
        'models = ["pixel-gaussian", "hinge-gan"]\ndatasets = ["bars"]\n'
        "[overrides.hinge-gan]\nlr = 0.1\n[overrides.pixel-gaussian]\nlr = 0.02\n"
    )
    out = tmp_path / "results"
    tiny = ["--kimg", "0.2", "--n-samples", "100", "--metrics", "fd_clf", "--quiet"]
    result = runner.invoke(app, ["run", str(suite), "--models", "pixel-gaussian", *tiny, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr  # No Inception metric asked for: no word of its weights.
    (config,) = out.glob("runs/bars-pixel-gaussian-seed0-*/config.json")
    assert json.loads(config.read_text())["hparams"]["lr"] == 0.02  # The suite's override still counts.

    # The suite's own inconsistency: the message names the suite.
    suite.write_text('models = ["pixel-gaussian"]\ndatasets = ["bars"]\n[overrides.hinge-gan]\nlr = 0.1\n')
    bad = runner.invoke(app, ["run", str(suite), *tiny, "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and bad.stderr == (
        "error: suite suite.toml: hyperparameters are set for 'hinge-gan', which is not among its models "
        "(pixel-gaussian)\n"
    )
    # A --set for a model not in the run is the command line's own mistake.
    wrong = runner.invoke(
        app, ["run", "--models", "pixel-gaussian", "--set", "hinge-gan.lr=1", "--out", str(out)]
    )
    assert wrong.exit_code == 2 and wrong.stderr.startswith("error: hyperparameters are set for 'hinge-gan'")


def test_leaderboard_sorts_by_a_metric_and_summarises_over_seeds(only_fakes: None, tmp_path: Path) -> None:
    out = tmp_path / "results"
    assert _fake_run(out, "--seeds", "0,1", "--metrics", "fd_clf,prc_clf,jsd_clf").exit_code == 0
    board = pd.read_csv(out / "leaderboard.csv")
    by_fd = runner.invoke(app, ["leaderboard", "--out", str(out), "--format", "csv", "--by", "jsd_clf"])
    assert by_fd.exit_code == 0, by_fd.output
    rows = [line.split(",") for line in by_fd.stdout.splitlines()[1:]]
    assert rows[0][1] == "(real data floor)"  # The floor first, then best (lowest) first.
    jsd = [float(row[list(board.columns).index("jsd_clf")]) for row in rows[1:]]
    assert jsd == sorted(jsd)

    summary = runner.invoke(app, ["leaderboard", "--out", str(out), "--summary", "--format", "markdown"])
    assert summary.exit_code == 0 and "±" in summary.stdout and "(real data floor)" in summary.stdout
    table = runner.invoke(app, ["leaderboard", "--out", str(out), "--summary", "--by", "recall_clf_300"])
    assert table.exit_code == 0 and "pixel-gaussian" in table.stdout

    unknown = runner.invoke(app, ["leaderboard", "--out", str(out), "--by", "fid_10k"])
    assert unknown.exit_code == 2 and unknown.stderr.count("\n") == 1
    assert unknown.stderr.startswith("error: unknown metric 'fid_10k' for --by; metric columns: fd_clf_300, ")


def test_runs_of_another_budget_are_another_experiment_not_more_seeds(
    only_fakes: None, tmp_path: Path
) -> None:
    out = tmp_path / "results"
    assert _fake_run(out, "--seeds", "0,1").exit_code == 0
    table = runner.invoke(app, ["leaderboard", "--out", str(out), "--summary"])
    assert "pixel-gaussian" in table.stdout and "setup" not in table.stdout  # One setup: no column.
    assert _fake_run(out, "--kimg", "1").exit_code == 0  # Same model and seed 0, half the budget.
    summary = runner.invoke(app, ["leaderboard", "--out", str(out), "--summary", "--format", "csv"])
    assert summary.exit_code == 0, summary.output
    rows = pd.read_csv(io.StringIO(summary.stdout))
    runs = rows[rows["model"] == "pixel-gaussian"].set_index("budget_kimg")
    assert runs.loc[2.0, "seeds"] == 2 and runs.loc[1.0, "seeds"] == 1  # Not 3 seeds of one model.
    assert runs["setup"].nunique() == 2

    # The terminal shows which is which, by what differs; the report gives each its own section.
    table = runner.invoke(app, ["leaderboard", "--out", str(out), "--summary"])
    for kimg in (2, 1):  # The summary table has a column per model and setup.
        assert f"bars/pixel-gaussian [kimg {kimg}]" in table.stdout, table.stdout
    assert runner.invoke(app, ["report", str(out)]).exit_code == 0
    page = (out / "report.html").read_text()
    for kimg in (2, 1):  # The budget first, then what follows from it (the default --eval-every).
        label = f"<strong>pixel-gaussian [kimg {kimg}"
        assert f"{label}]" in page or f"{label}," in page, page[page.index('id="models-') :][:2000]


def test_a_full_disk_is_one_line_for_every_command(
    only_fakes: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "results"
    assert _fake_run(out).exit_code == 0

    def disk_full(path: Path, write: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(genbench.core.files, "atomic_write", disk_full)
    result = runner.invoke(app, ["report", str(out)])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert result.stderr.startswith("error: no space left on device writing ")
    assert result.stderr.rstrip().endswith("free some space and run the same command again")
