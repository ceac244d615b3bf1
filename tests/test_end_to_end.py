"""dcgan, wgan-gp, vae and acgan on digits through the real command, with the built-in plugins found by
entry points; then the HTML report of that run."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path

import pandas as pd
import pytest
from caches import session_cache
from PIL import Image
from typer.testing import CliRunner

import genbench
from genbench.cli import app
from genbench.core.files import read_jsonl
from genbench.figures.pictures import grid_size
from genbench.results.records import read_spec_file


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("results")
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--models",
            "dcgan,wgan-gp,vae,acgan",
            "--data",
            "digits",
            "--kimg",
            "3",
            "--n-samples",
            "1000",
            "--log-every",
            "10",
            "--divergence-steps",  # Short: tests/evaluation/test_divergence.py checks the estimators.
            "50",
            "--out",
            str(out),
            "--quiet",
        ],
        # Module-scoped, so set up before the autouse per-test environment: give it explicitly.
        env={
            "COLUMNS": "200",
            "GENBENCH_DISABLE_PLUGIN_AUTOLOAD": None,
            "GENBENCH_NO_DOWNLOAD": "1",
            "GENBENCH_CACHE_DIR": str(session_cache(tmp_path_factory)),
        },
    )
    return out, result


def test_default_models_run_on_digits_and_fill_the_leaderboard(digits_run) -> None:
    out, result = digits_run
    assert result.exit_code == 0, result.output
    assert "dcgan" in result.stdout and "vae" in result.stdout and "fd_clf_1k" in result.stdout
    board = pd.read_csv(out / "leaderboard.csv")
    assert board.loc[0, "model"] == "(real data floor)"  # Real train vs test images, then the runs.
    floor, board = board.iloc[0], board.iloc[1:]
    assert sorted(board["model"]) == ["acgan", "dcgan", "vae", "wgan-gp"]
    assert (board["dataset"] == "digits").all() and (board["stopped_by"] == "kimg").all()
    assert board["fd_clf_1k"].map(math.isfinite).all() and (board["fd_clf_1k"] > floor["fd_clf_1k"]).all()
    assert (board["kimg"] >= 3).all()
    for column in ("kid_clf_1k", "precision_clf_1k", "recall_clf_1k", "isc_clf_1k", "jsd_clf", "w1_critic"):
        assert board[column].map(math.isfinite).all(), column


@pytest.mark.parametrize(
    ("model", "keys"),
    [
        ("dcgan", {"loss_d", "loss_g", "jsd", "test/jsd"}),
        ("vae", {"loss", "recon", "kl", "elbo", "test/elbo"}),
    ],
)
def test_each_run_has_finite_logs_and_a_sample_grid(digits_run, model: str, keys: set[str]) -> None:
    out, _ = digits_run
    (run,) = (out / "runs").glob(f"digits-{model}-seed0-*")
    rows = read_jsonl(run / "train.jsonl")
    logged = {k for row in rows for k in row}
    assert keys <= logged, logged
    assert all(math.isfinite(v) for row in rows for v in row.values())
    assert rows[-1]["kimg"] >= 3
    # 64 samples of 8x8, magnified to 32x32, in an 8x8 grid with 2-pixel padding: 8 * (32 + 2) + 2.
    grid = Image.open(run / "samples.png")
    assert grid.size == (274, 274)
    # The progress strip: one row of 16 fixed latents at the start, at 10 points and at the end.
    record = json.loads((run / "metrics.json").read_text())
    assert record["progress_kimg"][0] == 0 and record["progress_kimg"][-1] == record["kimg"]
    assert len(record["progress_kimg"]) in (11, 12)  # 12 when the last point is not the end.
    rows = len(record["progress_kimg"])
    width, height = Image.open(run / "progress.png").size  # The grid, with its row labels and title.
    grid_width, grid_height = grid_size(rows, 16, 8, 8)
    assert width > grid_width and height > grid_height
    spec = read_spec_file(run / "config.json")
    assert spec.model == model and spec.environment.plugins == {"genbench": genbench.__version__}


# Issue 5: every picture of every run, for the four kinds of model.
PICTURES = {
    "dcgan": {"interpolation.png"},
    "wgan-gp": {"interpolation.png"},
    "vae": {"interpolation.png", "interpolation_encoded.png"},
    "acgan": {"interpolation.png", "classes.png"},
}
EVERY_RUN = {
    "samples.png",
    "progress.png",
    "copying.png",
    "curves_losses.png",
    "curves_estimates.png",
    "curves_eval.png",
}


@pytest.mark.parametrize("model", sorted(PICTURES))
def test_each_run_has_its_pictures_and_a_best_checkpoint(digits_run, model: str) -> None:
    out, _ = digits_run
    (run,) = (out / "runs").glob(f"digits-{model}-seed0-*")
    assert EVERY_RUN | PICTURES[model] <= {p.name for p in run.glob("*.png")}
    record = json.loads((run / "metrics.json").read_text())
    during = record["during_training"]
    assert during["metric"] == "fd_clf_1k" and during["best"] <= during["final"]
    assert (run / during["best_checkpoint"]).stat().st_size > 0
    # The grid, with its title above it and its row labels left of it (genbench.figures.labels).
    if model == "acgan":  # One row per class (10 digits), 8 columns.
        assert _beside_labels(Image.open(run / "classes.png").size, grid_size(10, 8, 8, 8))
    assert _beside_labels(Image.open(run / "interpolation.png").size, grid_size(8, 10, 8, 8))


def _beside_labels(size: tuple[int, int], grid: tuple[int, int]) -> bool:
    """Whether a picture of ``size`` is a grid of ``grid`` pixels with room for labels left and above."""
    return grid[0] < size[0] < grid[0] + 200 and grid[1] < size[1] < grid[1] + 60


def test_the_report_of_the_run_shows_every_picture(digits_run) -> None:
    out, _ = digits_run
    result = CliRunner().invoke(app, ["report", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text()
    for run in (out / "runs").iterdir():
        for png in run.glob("*.png"):
            assert base64.b64encode(png.read_bytes()).decode() in page, png
    plots = sorted((out / "plots" / "digits").glob("*.png"))
    assert {"eval_vs_kimg.png", "eval_vs_seconds.png", "metric_fd_clf_1k.png"} <= {p.name for p in plots}
    assert all(base64.b64encode(p.read_bytes()).decode() in page for p in plots)
    board = pd.read_csv(out / "leaderboard.csv")
    assert {"best_fd_clf_1k", "final_fd_clf_1k", "best_kimg"} <= set(board.columns)


DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.skipif(
    not DEBIAN_FASHION_MNIST.is_dir(), reason="needs Debian's dataset-fashion-mnist (CI installs it)"
)
def test_report_suite_runs_on_the_real_fashion_mnist(tmp_path: Path) -> None:
    # The real 60,000 + 10,000 images, the real reference classifier; a short budget.
    suite = BENCHMARKS / "report-004-fashion-mnist.toml"
    args = ["run", str(suite), "--kimg", "2", "--seeds", "0", "--n-samples", "1000", "--quiet"]
    args += ["--divergence-steps", "50"]  # The estimators' default budget costs 20 s at 28x28 here.
    result = CliRunner().invoke(
        app, [*args, "--out", str(tmp_path)], env={"GENBENCH_DISABLE_PLUGIN_AUTOLOAD": None}
    )
    assert result.exit_code == 0, result.output
    (record,) = (json.loads(p.read_text()) for p in tmp_path.glob("runs/*/metrics.json"))
    assert (record["dataset"], record["model"], record["stopped_by"]) == ("fashion-mnist", "vae", "kimg")
    assert math.isfinite(record["metrics"]["fd_clf_1k"])
    protocol = record["protocol"]["fd_clf_1k"]
    assert protocol["n_reference"] == 10_000 and protocol["classifier_test_accuracy"] > 0.8
    config = json.loads(next(tmp_path.glob("runs/*/config.json")).read_text())
    assert config["hparams"]["recon"] == "mse" and config["hparams"]["latent_dim"] == 16
    # Issue 4's protocol on real data: every offline metric is there; Inception's absence is explained.
    metrics = record["metrics"]
    for column in ("kid_clf_1k", "precision_clf_1k", "recall_clf_1k", "isc_clf_1k", "jsd_clf", "w1_critic"):
        assert math.isfinite(metrics[column]), column
    assert metrics["fid_1k"] is None and "GENBENCH_NO_DOWNLOAD" in record["protocol"]["fid_1k"]["unavailable"]
