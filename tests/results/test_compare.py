"""``genbench compare`` and the significance matrix, on records this test writes: each verdict with its
numbers, and one-line errors (exit 2) for what does not exist."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
from rich.text import Text
from typer.testing import CliRunner

from genbench.cli import app
from genbench.cli.run_output import ONE_SEED_EACH, side_by_side_view
from genbench.core.record import RunRecord
from genbench.evaluation.floor import write_floor
from genbench.results.leaderboard import read_records, rebuild_leaderboard, records_frame, summarise
from genbench.results.records import RunFolder
from genbench.results.report import write_report
from genbench.results.significance import seed_runs, side_by_side, significance_matrix
from genbench.results.statistics import A_BETTER, B_BETTER, NEED_MORE_SEEDS, NO_DIFFERENCE

runner = CliRunner()


def _record(
    out: Path, model: str, seed: int, metrics: dict[str, float], setup: str = "s", status: str = "finished"
) -> None:
    run = f"digits-{model}-seed{seed}-{setup}"
    RunFolder(out, run).write_metrics(
        RunRecord.from_dict(
            {
                "run_id": run,
                "dataset": "digits",
                "model": model,
                "seed": seed,
                "setup": setup,
                "status": status,
                "budget_kimg": 10,
                "metrics": metrics if status == "finished" else {},
            }
        )
    )


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """dcgan's FD clearly below vae's over 3 seeds each; precision overlapping; gan has one seed."""
    for seed, (fd_dcgan, fd_vae) in enumerate(((10.0, 20.0), (11.0, 22.0), (12.0, 21.0))):
        _record(tmp_path, "dcgan", seed, {"fd_clf_10k": fd_dcgan, "precision_clf_10k": 0.5 + seed / 100})
        _record(tmp_path, "vae", seed, {"fd_clf_10k": fd_vae, "precision_clf_10k": 0.51 - seed / 100})
    _record(tmp_path, "gan", 0, {"fd_clf_10k": 15.0, "precision_clf_10k": 0.4})
    _record(tmp_path, "gan", 1, {}, status="failed")  # Not a seed: failed runs have no metrics.
    write_floor(
        tmp_path,
        RunRecord.from_dict(
            {
                "run_id": "digits-floor-x",
                "dataset": "digits",
                "model": "(real data floor)",
                "seed": None,
                "status": "floor",
                "metrics": {"fd_clf_10k": 1.0},
            }
        ),
    )
    return tmp_path


def _rows(output: str) -> dict[str, str]:
    """Each metric's lines of the printed table (a table wider than the terminal comes in blocks, each
    repeating the metric's name), joined."""
    rows: dict[str, str] = {}
    for line in output.splitlines():
        if line.count("│") > 2:
            name = line.split("│")[1].strip()
            rows[name] = rows.get(name, "") + line
    return rows


def test_a_clear_difference_names_the_better_model_with_its_numbers(out: Path) -> None:
    result = runner.invoke(app, ["compare", "dcgan", "vae", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "digits: A = dcgan, B = vae" in result.stdout
    fd = _rows(result.stdout)["fd_clf_10k"]
    # Means 11 and 21, both standard deviations 1: Welch's t = -12.2 on 4 degrees of freedom.
    assert "11 ± 2.5 (3 seeds)" in fd and "21 ± 2.5 (3 seeds)" in fd and "-10 [-12.27, -7.733]" in fd
    assert "0.00026" in fd and "1.00" in fd and A_BETTER in fd  # Lower FD is better: A.
    precision = _rows(result.stdout)["precision_clf_10k"]
    assert NO_DIFFERENCE in precision
    assert "Welch's t-test" in result.stdout and "rliable" in result.stdout
    flipped = runner.invoke(app, ["compare", "vae", "dcgan", "--out", str(out), "--metric", "fd_clf_10k"])
    assert flipped.exit_code == 0 and B_BETTER in flipped.stdout and "precision" not in flipped.stdout


def test_one_seed_needs_more_seeds_and_has_no_interval(out: Path) -> None:
    result = runner.invoke(app, ["compare", "gan", "dcgan", "--out", str(out), "--data", "digits"])
    assert result.exit_code == 0, result.output
    fd = _rows(result.stdout)["fd_clf_10k"]
    assert "15 (one seed: no interval)" in fd and NEED_MORE_SEEDS in fd and "[" not in fd.split("seeds)")[-1]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nope", "vae"], "error: no dataset in {out} has finished runs of both 'nope' and 'vae'"),
        (
            ["nope", "vae", "--data", "digits"],
            "error: no finished runs of 'nope' on dataset 'digits'; models ",
        ),
        (
            ["dcgan", "vae", "--metric", "fid_10k"],
            "error: unknown metric 'fid_10k' on digits; metrics: fd_clf_10k",
        ),
        (
            ["dcgan", "vae", "--data", "mnist"],
            "error: no finished runs on dataset 'mnist' in {out}; datasets ",
        ),
    ],
)
def test_what_does_not_exist_is_one_line_and_exit_2(out: Path, arguments: list[str], message: str) -> None:
    result = runner.invoke(app, ["compare", *arguments, "--out", str(out)])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert result.stderr.startswith(message.format(out=out))


def test_no_runs_is_one_line_and_exit_2(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["compare", "a", "b", "--out", str(tmp_path / "nothing")])
    assert missing.exit_code == 2 and missing.stderr.startswith("error: no results folder at ")
    empty = runner.invoke(app, ["compare", "a", "b", "--out", str(tmp_path)])
    assert empty.exit_code == 2 and empty.stderr.startswith("error: no finished runs in ")


def test_several_setups_of_a_model_are_named_one_by_one(out: Path) -> None:
    for seed in (0, 1):
        _record(out, "vae", seed, {"fd_clf_10k": 30.0 + seed}, setup="long")
    several = runner.invoke(app, ["compare", "dcgan", "vae", "--out", str(out)])
    assert several.exit_code == 2
    # Named by the start of the setup hash (the leaderboard's setup column); shown by what differs.
    said = "error: 'vae' has runs of several setups on digits: name one of vae@long, vae@s\n"
    assert several.stderr == said
    one = runner.invoke(app, ["compare", "dcgan", "vae@lo", "--out", str(out)])
    assert one.exit_code == 0, one.output
    assert "B = vae [setup long]" in one.stdout and "30.5 ± 6.4 (2 seeds)" in _rows(one.stdout)["fd_clf_10k"]


def test_the_significance_matrix_compares_every_pair_best_first(out: Path) -> None:
    runs = seed_runs(records_frame(read_records(out).records))
    matrix = significance_matrix(runs, "digits", "fd_clf_10k")
    assert list(matrix.index) == list(matrix.columns) == ["dcgan", "gan", "vae"]  # Lowest mean FD first.
    assert matrix.loc["dcgan", "dcgan"] is None
    assert matrix.loc["dcgan", "vae"].verdict == A_BETTER and matrix.loc["vae", "dcgan"].verdict == B_BETTER
    assert matrix.loc["dcgan", "gan"].verdict == NEED_MORE_SEEDS
    assert math.isclose(matrix.loc["dcgan", "vae"].difference, -10.0)


def test_the_report_shows_a_significance_matrix_per_dataset(out: Path) -> None:
    page = write_report(out).read_text()
    section = page.split('id="significance-digits"')[1].split("</section>")[0]
    assert "<summary>fd_clf_10k</summary>" in section and "<summary>precision_clf_10k</summary>" in section
    fd = section.split("<summary>fd_clf_10k</summary>")[1].split("</details>")[0]
    rows = {row.split("</th>")[0].removeprefix("<th>"): row for row in fd.split("<tr>")[2:]}
    assert list(rows) == ["A: dcgan", "A: gan", "A: vae"]  # Best first.
    # dcgan against gan (one seed), then vae: the numbers on hover.
    assert rows["A: dcgan"].count("need more seeds") == 1 and ">better</td>" in rows["A: dcgan"]
    assert 'title="A − B = -10 [-12.27, -7.733]; p = 0.00026; P(A better) = 1.00; 3 vs 3 seeds"' in fd
    assert ">worse</td>" in rows["A: vae"]


def test_the_summary_says_whether_models_shown_side_by_side_differ(out: Path) -> None:
    pairs = side_by_side(summarise(rebuild_leaderboard(out)), rebuild_leaderboard(out)).set_index("")
    assert list(pairs.columns) == ["digits: dcgan vs gan", "digits: gan vs vae"]  # Neighbours, best first.
    assert set(pairs.loc["fd_clf_10k"]) == {NEED_MORE_SEEDS}
    for run in ("digits-gan-seed0-s", "digits-gan-seed1-s"):
        shutil.rmtree(out / "runs" / run)
    pairs = side_by_side(summarise(rebuild_leaderboard(out)), rebuild_leaderboard(out)).set_index("")
    assert pairs["digits: dcgan vs vae"].to_dict() == {
        "fd_clf_10k": "dcgan better",
        "precision_clf_10k": NO_DIFFERENCE,
    }
    shown = runner.invoke(app, ["leaderboard", "--out", str(out), "--summary"])
    assert (
        shown.exit_code == 0 and "Side by side, over seeds (Welch's t-test, two-sided at 5%):" in shown.stdout
    )
    assert "dcgan better" in shown.stdout


def test_one_seed_a_model_is_one_line_not_a_table_of_need_more_seeds(tmp_path: Path) -> None:
    # Issue 20: where only one seed exists, say that no comparison across seeds is possible. The
    # README's default run (dcgan and vae, one seed) ended with a table of "need more seeds".
    for model, fd in (("dcgan", 10.0), ("vae", 20.0)):
        _record(tmp_path, model, 0, {"fd_clf_10k": fd})
    frame = rebuild_leaderboard(tmp_path)
    said = side_by_side_view(summarise(frame), frame, 80)
    assert isinstance(said, Text) and said.plain == f"Side by side: {ONE_SEED_EACH}"
    _record(tmp_path, "dcgan", 1, {"fd_clf_10k": 11.0})
    _record(tmp_path, "vae", 1, {"fd_clf_10k": 21.0})  # Two seeds a side: the table, with its verdicts.
    frame = rebuild_leaderboard(tmp_path)
    assert not isinstance(side_by_side_view(summarise(frame), frame, 80), Text)


def test_a_copying_diagnostic_gets_no_verdict(tmp_path: Path) -> None:
    # C_T has no better side: compare covers FD only, and naming C_T says why it is not compared.
    for seed in range(3):
        _record(tmp_path, "dcgan", seed, {"fd_clf_10k": 10.0 + seed, "ct_clf_10k": -5.0 - seed})
        _record(tmp_path, "vae", seed, {"fd_clf_10k": 20.0 + seed, "ct_clf_10k": 0.1 * seed})
    result = runner.invoke(app, ["compare", "dcgan", "vae", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "fd_clf_10k" in _rows(result.stdout) and "ct_clf_10k" not in _rows(result.stdout)
    named = runner.invoke(app, ["compare", "dcgan", "vae", "--out", str(tmp_path), "--metric", "ct_clf_10k"])
    assert named.exit_code == 2 and len(named.stderr.strip().splitlines()) == 1
    assert "'ct_clf_10k' is a diagnostic with no better side" in named.stderr
    frame = records_frame(read_records(tmp_path).records)
    assert side_by_side(summarise(frame), frame)[""].tolist() == ["fd_clf_10k"]


def test_models_scored_with_different_reference_classifiers_are_not_compared(tmp_path: Path) -> None:
    # Two results folders merged, each with its own classifier: two rulers, so no verdict on fd_clf.
    for seed in range(3):
        for model, fd, weights in (("dcgan", 10.0, "aaaaaaaaaaaa"), ("vae", 20.0, "bbbbbbbbbbbb")):
            run = f"digits-{model}-seed{seed}-s"
            record = {
                "run_id": run,
                "dataset": "digits",
                "model": model,
                "seed": seed,
                "setup": "s",
                "status": "finished",
                "budget_kimg": 10,
                "protocol_summary": {"classifier_weights": weights},
                "metrics": {"fd_clf_10k": fd + seed},
            }
            RunFolder(tmp_path, run).write_metrics(RunRecord.from_dict(record))
    result = runner.invoke(app, ["compare", "dcgan", "vae", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "not comparable" in _rows(result.stdout)["fd_clf_10k"]
    assert "dcgan better" not in result.stdout
    page = write_report(tmp_path).read_text()
    assert ">other classifier<" in page and ">better<" not in page
