"""Whether the models' order agrees across feature spaces: Kendall's τ between each pair of spaces'
rankings and the pairs that flip, in the leaderboard command's closing lines and on the report page."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from genbench.cli import app
from genbench.core.layout import FLOOR_MODEL
from genbench.core.record import RunRecord
from genbench.results.agreement import agreement_lines, feature_space_agreement
from genbench.results.records import RunFolder
from genbench.results.report import write_report

# model -> per seed (fd_clf, fd_pca, fd_rand): the classifier and PCA agree, the random network swaps
# vae and dcgan.
SCORES = {
    "dcgan": [(10.0, 1.0, 0.30), (12.0, 1.2, 0.34)],
    "vae": [(20.0, 2.0, 0.20), (22.0, 2.2, 0.22)],
    "gan": [(40.0, 4.0, 0.90), (44.0, 4.4, 0.95)],
}


def _frame() -> pd.DataFrame:
    rows = [
        {
            "dataset": "digits",
            "model": model,
            "seed": seed,
            "status": "finished",
            "run_id": f"{model}{seed}",
            "fd_clf_1k": clf,
            "fd_pca_1k": pca,
            "fd_rand_1k": rand,
            "kid_clf_1k": 1.0,
        }
        for model, seeds in SCORES.items()
        for seed, (clf, pca, rand) in enumerate(seeds)
    ]
    floor = {"dataset": "digits", "model": FLOOR_MODEL, "seed": None, "status": "floor", "fd_clf_1k": 99.0}
    failed = {"dataset": "digits", "model": "wgan", "seed": 0, "status": "failed", "fd_clf_1k": None}
    return pd.DataFrame([*rows, floor, failed])


def test_tau_and_the_flipped_pairs_per_dataset() -> None:
    (found,) = feature_space_agreement(_frame())
    assert found.dataset == "digits" and found.columns == ("fd_clf_1k", "fd_pca_1k", "fd_rand_1k")
    assert found.models == ("dcgan", "vae", "gan")  # Best first in the first space; no floor, no failure.
    assert found.tau[("fd_clf_1k", "fd_pca_1k")] == 1.0
    assert round(found.tau[("fd_clf_1k", "fd_rand_1k")], 3) == round(1 / 3, 3)  # One discordant pair of 3.
    assert {(f.better, f.worse, f.space, f.other) for f in found.flips} == {
        ("dcgan", "vae", "fd_clf_1k", "fd_rand_1k"),
        ("dcgan", "vae", "fd_pca_1k", "fd_rand_1k"),
    }
    (line,) = agreement_lines([found])
    assert (
        "fd_clf_1k vs fd_pca_1k τ=+1.00" in line
        and "dcgan ahead of vae in fd_clf_1k, behind in fd_rand_1k" in line
    )


def test_one_space_or_one_model_gives_nothing_to_compare() -> None:
    frame = _frame()
    assert feature_space_agreement(frame.drop(columns=["fd_pca_1k", "fd_rand_1k"])) == []
    assert feature_space_agreement(frame[frame["model"].isin(["vae", FLOOR_MODEL])]) == []
    other_count = frame.drop(columns=["fd_pca_1k"]).rename(columns={"fd_rand_1k": "fd_rand_2k"})
    assert feature_space_agreement(other_count) == []  # Spaces are compared at one sample count.


def _records(out: Path) -> None:
    for model, seeds in SCORES.items():
        for seed, (clf, pca, rand) in enumerate(seeds):
            run = f"digits-{model}-seed{seed}-abc"
            metrics = {"fd_clf_1k": clf, "fd_pca_1k": pca, "fd_rand_1k": rand}
            record = {
                "run_id": run,
                "dataset": "digits",
                "model": model,
                "seed": seed,
                "status": "finished",
                "setup": "abc",
                "metrics": metrics,
            }
            RunFolder(out, run).write_metrics(RunRecord.from_dict(record))


def test_the_leaderboard_and_the_report_show_the_agreement(tmp_path: Path) -> None:
    _records(tmp_path)
    table = CliRunner().invoke(app, ["leaderboard", "--out", str(tmp_path)])
    assert table.exit_code == 0, table.output
    assert table.output.rstrip().splitlines()[-1].startswith("digits: feature spaces fd_clf_1k vs fd_pca_1k")
    assert "order flips: dcgan ahead of vae" in table.output
    csv = CliRunner().invoke(app, ["leaderboard", "--out", str(tmp_path), "--format", "csv"])
    assert "feature spaces" not in csv.output  # A csv stays one table.
    page = write_report(tmp_path).read_text()
    assert (
        "Feature-space agreement" in page and "dcgan ahead of vae in fd_clf_1k, behind in fd_rand_1k" in page
    )
