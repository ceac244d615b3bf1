"""``genbench sample`` and ``genbench score`` through the real commands: a tiny dcgan and acgan run on
digits, its samples exported and scored back reading the run's own numbers, the external rows in the
leaderboard, and every bad input one line with exit code 2."""

from __future__ import annotations

import json
import math
from pathlib import Path

import fakes
import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from tiny_runs import EVALUATION, N, run_dir, runner, tiny_env, tiny_results

from genbench.cli import app
from genbench.core.files import file_sha256
from genbench.core.progress import PlainProgress
from genbench.evaluation.evaluate import generate_counted


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | None]:
    return tiny_env(tmp_path_factory)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str | None], one_thread: None) -> Path:
    return tiny_results(tmp_path_factory, env, ["dcgan", "acgan"])


def _score(samples: Path, results: Path, env: dict[str, str | None], *more: str) -> dict:
    result = runner.invoke(
        app, ["score", str(samples), "--data", "digits", *EVALUATION, *more, "--out", str(results)], env=env
    )
    assert result.exit_code == 0, result.output
    record_line = next(line for line in result.stdout.splitlines() if line.startswith("record: "))
    path = Path(record_line.removeprefix("record: ").split(";")[0])
    return {"stdout": result.stdout, "path": path, "record": json.loads(path.read_text())}


def _same_numbers(run: dict, scored: dict) -> None:
    # Exactly, jsd_clf too: its estimator trains in one deterministic context and sees one memory
    # layout whatever the samples came in (an npz read back is channels-last; issue 25, tested across
    # processes and layouts in tests/evaluation/test_deterministic.py).
    assert set(run) == set(scored)
    for column, value in run.items():
        assert scored[column] == value, column


@pytest.mark.parametrize(("model", "out"), [("acgan", "acgan.npz"), ("dcgan", "dcgan_pngs")])
def test_exported_samples_scored_back_read_the_runs_own_numbers(
    model: str, out: str, results: Path, env: dict[str, str | None], tmp_path_factory: pytest.TempPathFactory
) -> None:
    samples = tmp_path_factory.mktemp("samples") / out
    exported = runner.invoke(app, ["sample", str(run_dir(results, model)), "--out", str(samples)], env=env)
    assert exported.exit_code == 0, exported.output
    assert f"wrote {N} samples (checkpoint.pt, seed 0)" in exported.stdout

    scored = _score(samples, results, env, "--name", f"{model}-back")
    record = scored["record"]
    run = json.loads((run_dir(results, model) / "metrics.json").read_text())
    _same_numbers(run["metrics"], record["metrics"])  # acc_clf for acgan's labels too.
    assert record["model"] == f"external:{model}-back" and record["seed"] is None
    external = record["external"]
    assert external["n_samples"] == N and external["labels"] == (model == "acgan")
    if samples.is_file():
        assert external["sha256"] == file_sha256(samples)
    assert record["protocol"][f"fd_clf_{N}"]["samples_sha256"] == external["sha256"]
    assert record["protocol"][f"fd_clf_{N}"]["n_generated"] == N

    again = _score(samples, results, env, "--name", f"{model}-back")  # The same file and options: reused.
    assert again["stdout"].startswith("reused the score of") and again["path"] == scored["path"]


def test_the_npz_holds_uint8_channels_last_images_and_balanced_labels(
    results: Path, env: dict[str, str | None], tmp_path: Path
) -> None:
    for model in ("acgan", "dcgan"):
        path = tmp_path / f"{model}.npz"
        result = runner.invoke(
            app, ["sample", str(run_dir(results, model)), "-n", "25", "--out", str(path)], env=env
        )
        assert result.exit_code == 0, result.output
        with np.load(path) as npz:
            assert npz["images"].shape == (25, 8, 8, 1) and npz["images"].dtype == np.uint8
            assert ("labels" in npz.files) == (model == "acgan")
            if model == "acgan":
                assert npz["labels"].tolist() == [i % 10 for i in range(25)]


def test_the_external_rows_are_on_the_leaderboard_and_in_the_report(
    results: Path, env: dict[str, str | None], tmp_path: Path
) -> None:
    samples = tmp_path / "mine.npz"
    runner.invoke(app, ["sample", str(run_dir(results, "dcgan")), "--out", str(samples)], env=env)
    _score(samples, results, env)  # Labelled by the file's name.
    shown = runner.invoke(app, ["leaderboard", "--out", str(results), "--format", "csv"], env=env)
    assert shown.exit_code == 0, shown.output
    board = pd.read_csv(pd.io.common.StringIO(shown.stdout))
    row = board[board["model"] == "external:mine"].iloc[0]
    assert pd.isna(row["seed"]) and row["status"] == "finished" and math.isfinite(row[f"fd_clf_{N}"])
    dcgan = board[board["model"] == "dcgan"].iloc[0]
    assert row[f"fd_clf_{N}"] == pytest.approx(dcgan[f"fd_clf_{N}"], rel=1e-6)
    summary = runner.invoke(app, ["leaderboard", "--out", str(results), "--summary"], env=env)
    assert summary.exit_code == 0 and "external:mine" in summary.stdout, summary.output
    report = runner.invoke(app, ["report", str(results), "--output", str(tmp_path / "page.html")], env=env)
    assert report.exit_code == 0 and "skipped" not in report.stderr, report.output
    assert "external:mine" in (tmp_path / "page.html").read_text()


def _npz(path: Path, images: np.ndarray, labels: np.ndarray | None = None) -> Path:
    arrays = {"images": images} if labels is None else {"images": images, "labels": labels}
    np.savez(path, **arrays)
    return path


def _digits_like(n: int = 20) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(n, 8, 8, 1), dtype=np.uint8)


BAD_SAMPLES = {
    "missing": (lambda d: d / "nothing.npz", [], "no such file or folder"),
    "not an npz": (lambda d: _text(d / "fake.npz"), [], "not an .npz file"),
    "neither": (lambda d: _text(d / "notes.txt"), [], "not an .npz file"),
    "empty folder": (lambda d: _folder(d / "empty"), [], "no images"),
    "float images": (lambda d: _npz(d / "f.npz", _digits_like().astype(np.float32)), [], "not uint8"),
    "channels": (lambda d: _npz(d / "c.npz", np.repeat(_digits_like(), 3, axis=-1)), [], "channel"),
    "resolution": (lambda d: _npz(d / "r.npz", np.zeros((20, 16, 16, 1), np.uint8)), [], "16x16"),
    "channels first": (lambda d: _npz(d / "t.npz", _digits_like().transpose(0, 3, 1, 2)), [], "(N, H, W, C)"),
    "labels length": (lambda d: _npz(d / "l.npz", _digits_like(), np.zeros(3, np.int64)), [], "3 labels"),
    "labels range": (lambda d: _npz(d / "k.npz", _digits_like(), np.full(20, 10)), [], "classes are 0 to 9"),
    "too few": (lambda d: _npz(d / "few.npz", _digits_like(5)), [], "at least 10"),
    "more than held": (lambda d: _npz(d / "m.npz", _digits_like()), ["--n-samples", "50"], "holds 20"),
    "unknown dataset": (lambda d: _npz(d / "u.npz", _digits_like()), ["--data", "digitz"], "digitz"),
    "bad name": (lambda d: _npz(d / "n.npz", _digits_like()), ["--name", "a b/c"], "--name"),
    "rgb pngs": (lambda d: _pngs(d / "rgb", "RGB", 8), [], "3 channel(s)"),
    "mixed pngs": (lambda d: _pngs(d / "mixed", "L", 8, odd=16), [], "every image must have the same size"),
    "broken png": (lambda d: _text(_folder(d / "broken") / "0.png").parent, [], "not an image"),
    "unknown metric": (lambda d: _npz(d / "x.npz", _digits_like()), ["--metrics", "fid,nope"], "nope"),
}


def _text(path: Path) -> Path:
    path.write_text("not numbers\n")
    return path


def _pngs(folder: Path, mode: str, size: int, odd: int | None = None) -> Path:
    folder.mkdir()
    for index in range(12):
        side = odd if odd is not None and index == 5 else size
        Image.new(mode, (side, side)).save(folder / f"{index:02d}.png")
    return folder


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


@pytest.mark.parametrize("case", sorted(BAD_SAMPLES))
def test_bad_samples_are_one_line_and_exit_2(case: str, tmp_path: Path, env: dict[str, str | None]) -> None:
    make, options, expected = BAD_SAMPLES[case]
    data = [] if "--data" in options else ["--data", "digits"]
    result = runner.invoke(
        app, ["score", str(make(tmp_path)), *data, *options, "--out", str(tmp_path / "out")], env=env
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and expected in result.stderr, result.stderr
    assert "Traceback" not in result.output and not (tmp_path / "out" / "scores").exists()


def _unfinished(d: Path) -> Path:
    (d / "run").mkdir()
    (d / "run" / "config.json").write_text("{}")
    return d / "run"


BAD_RUNS = {
    "missing": (lambda d, r: d / "nothing", ["--out", "x.npz"], "no such folder"),
    "not a run": (lambda d, r: d, ["--out", "x.npz"], "not a run folder"),
    "unfinished": (lambda d, r: _unfinished(d), ["--out", "x.npz"], "unfinished"),
    "png out": (lambda d, r: run_dir(r, "dcgan"), ["--out", "x.png"], "FILE.npz or a folder"),
    "n": (lambda d, r: run_dir(r, "dcgan"), ["--out", "x.npz", "-n", "0"], "-n must be"),
}


@pytest.mark.parametrize("case", sorted(BAD_RUNS))
def test_sampling_what_is_not_a_finished_run_is_one_line_and_exit_2(
    case: str, tmp_path: Path, results: Path, env: dict[str, str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    make, options, expected = BAD_RUNS[case]
    result = runner.invoke(app, ["sample", str(make(tmp_path, results)), *options], env=env)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and expected in result.stderr, result.stderr
    assert not (tmp_path / "x.npz").exists() and not (tmp_path / "x.png").exists()


def test_the_best_weights_exported_read_the_best_cheap_metric(
    results: Path, env: dict[str, str | None], tmp_path: Path
) -> None:
    """best.pt sampled with --n-eval samples and the run's seed is what the cheap metric scored."""
    run = run_dir(results, "dcgan")
    during = json.loads((run / "metrics.json").read_text())["during_training"]
    samples = tmp_path / "best.npz"
    result = runner.invoke(app, ["sample", str(run), "--best", "-n", "1000", "--out", str(samples)], env=env)
    assert result.exit_code == 0 and "best.pt" in result.stdout, result.output
    command = ["score", str(samples), "--data", "digits", "--metrics", "fd_clf", "--bootstrap", "0"]
    scored = runner.invoke(app, [*command, "--out", str(tmp_path / "out")], env=env)
    assert scored.exit_code == 0, scored.output
    (path,) = (tmp_path / "out" / "scores").glob("*.json")
    value = json.loads(path.read_text())["metrics"]["fd_clf_1k"]
    assert during["metric"] == "fd_clf_1k" and value == pytest.approx(during["best"], rel=1e-6)


def test_sampling_shows_its_progress(tmp_path: Path) -> None:
    # A diffusion model's 10k samples take minutes: `sample` says how far it is (issue 21).
    lines: list[str] = []
    model = fakes.PixelGaussian.build(fakes.Bars.shape)
    generate_counted(model, 1200, 0, torch.device("cpu"), PlainProgress(lines.append), "bars/sample")
    assert lines and all(line.startswith("bars/sample") for line in lines)
    assert "1,200" in lines[-1] or "1200" in lines[-1], lines
