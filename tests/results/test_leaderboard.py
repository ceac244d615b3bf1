"""The leaderboard is rebuilt from the run records, never appended to."""

from __future__ import annotations

import io
import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from genbench.core.files import with_checksum
from genbench.core.layout import FLOOR_MODEL
from genbench.core.metrics import column_order, higher_is_better, stem_of
from genbench.core.record import RunRecord
from genbench.errors import UserError
from genbench.evaluation.floor import write_floor
from genbench.results.leaderboard import metric_columns, rebuild_leaderboard, sort_frame, summarise
from genbench.results.leaderboard_view import by_model, column_blocks, render, terminal_view
from genbench.results.records import RunFolder


def _record(out: Path, model: str, seed: int, fd: float, setup: str | None = None, kimg: int = 10) -> None:
    run = f"digits-{model}-seed{seed}-{setup or 'abc'}"
    RunFolder(out, run).write_metrics(
        RunRecord.from_dict(
            {
                "run_id": run,
                "dataset": "digits",
                "model": model,
                "seed": seed,
                "setup": setup,  # None: a record written before setups were recorded.
                "status": "finished",
                "budget_kimg": kimg,
                "kimg": 10.016,
                "steps": 160,
                "stopped_by": "kimg",
                "train_seconds": 3.0,
                "wall_seconds": 4.0,
                "device": "cpu",
                "metrics": {"fd_clf_10k": fd},
            }
        )
    )


def _rewrite(path: Path, record: dict[str, object]) -> None:
    """A record edited as a run that computed those values would have written it: with its checksum."""
    record.pop("checksum", None)
    path.write_text(json.dumps(with_checksum(record)))


def test_rebuild_reflects_exactly_the_records(tmp_path: Path) -> None:
    _record(tmp_path, "vae", 0, 20.0)
    _record(tmp_path, "dcgan", 0, 10.0)
    _record(tmp_path, "dcgan", 1, 14.0)
    frame = rebuild_leaderboard(tmp_path)
    # Sorted by the metric within a dataset, best first.
    assert list(frame["model"]) == ["dcgan", "dcgan", "vae"]
    assert list(frame["fd_clf_10k"]) == [10.0, 14.0, 20.0]
    on_disk = pd.read_csv(tmp_path / "leaderboard.csv")
    assert list(on_disk["run_id"]) == list(frame["run_id"])

    # Rebuilding again does not duplicate rows; deleting a record removes its row.
    rebuild_leaderboard(tmp_path)
    shutil.rmtree(tmp_path / "runs" / "digits-vae-seed0-abc")
    on_disk = pd.read_csv(tmp_path / "leaderboard.csv")
    assert len(on_disk) == 3
    assert list(rebuild_leaderboard(tmp_path)["model"]) == ["dcgan", "dcgan"]
    assert len(pd.read_csv(tmp_path / "leaderboard.csv")) == 2


def test_an_unreadable_record_is_skipped_and_listed(tmp_path: Path) -> None:
    _record(tmp_path, "vae", 0, 20.0)
    broken = tmp_path / "runs" / "digits-gan-seed0-xyz"
    broken.mkdir(parents=True)
    (broken / "metrics.json").write_text("{not json")
    unreadable: list[str] = []
    frame = rebuild_leaderboard(tmp_path, unreadable)
    assert list(frame["model"]) == ["vae"]
    assert len(unreadable) == 1 and "digits-gan-seed0-xyz/metrics.json: not valid JSON" in unreadable[0]


def test_summary_gives_the_mean_and_its_interval_over_seeds(tmp_path: Path) -> None:
    _record(tmp_path, "dcgan", 0, 10.0)
    _record(tmp_path, "dcgan", 1, 14.0)
    _record(tmp_path, "vae", 0, 20.0)
    summary = summarise(rebuild_leaderboard(tmp_path)).set_index("model")
    assert summary.loc["dcgan", "seeds"] == 2
    # Student t over (10, 14): standard error 2, t(0.975, 1 degree of freedom) = 12.71.
    assert summary.loc["dcgan", "fd_clf_10k"] == "12 ± 25 (2 seeds)"
    assert summary.loc["vae", "fd_clf_10k"] == "20 (one seed: no interval)"


def test_the_numeric_summary_has_the_interval_median_and_every_seed(tmp_path: Path) -> None:
    for seed, fd in ((2, 30.0), (0, 10.0), (1, 14.0)):
        _record(tmp_path, "dcgan", seed, fd)
    _record(tmp_path, "vae", 0, 20.0)
    _floor(tmp_path, 1.0, 0.95)
    summary = summarise(rebuild_leaderboard(tmp_path), numeric=True).set_index("model")
    dcgan = summary.loc["dcgan"]
    assert (
        dcgan["fd_clf_10k"] == 18.0 and dcgan["fd_clf_10k_median"] == 14.0 and dcgan["fd_clf_10k_seeds"] == 3
    )
    assert dcgan["fd_clf_10k_values"] == "10;14;30"  # In seed order.
    assert dcgan["fd_clf_10k_lo"] == pytest.approx(18 - 4.302653 * math.sqrt(112 / 3), abs=1e-4)
    assert dcgan["fd_clf_10k_hi"] == pytest.approx(18 + 4.302653 * math.sqrt(112 / 3), abs=1e-4)
    vae = summary.loc["vae"]
    assert vae["fd_clf_10k"] == 20.0 and pd.isna(vae["fd_clf_10k_lo"]) and vae["fd_clf_10k_seeds"] == 1
    floor = summary.loc[FLOOR_MODEL]  # One measurement: its value, no seeds.
    assert floor["fd_clf_10k"] == 1.0 and pd.isna(floor["fd_clf_10k_seeds"])


def test_a_runs_interval_sits_beside_its_value_in_the_csv_and_off_the_terminal(tmp_path: Path) -> None:
    _record(tmp_path, "dcgan", 0, 10.0)
    path = tmp_path / "runs" / "digits-dcgan-seed0-abc" / "metrics.json"
    record = json.loads(path.read_text())
    record["metrics"].update({"fd_clf_10k_hi": 12.5, "fd_clf_10k_lo": 7.5, "kid_clf_10k": 3.0})
    _rewrite(path, record)
    frame = rebuild_leaderboard(tmp_path)
    on_disk = list(pd.read_csv(tmp_path / "leaderboard.csv").columns)
    assert on_disk[on_disk.index("fd_clf_10k") :][:4] == [
        "fd_clf_10k",
        "fd_clf_10k_lo",
        "fd_clf_10k_hi",
        "kid_clf_10k",
    ]
    assert metric_columns(frame) == ["fd_clf_10k", "kid_clf_10k"]  # Ends are not metrics to rank by.
    assert "fd_clf_10k_lo" not in terminal_view(frame).columns
    assert "fd_clf_10k_lo" not in summarise(frame).columns  # Over seeds, the interval is the seeds'.


def test_render_formats(tmp_path: Path) -> None:
    _record(tmp_path, "vae", 0, 20.0)
    frame = rebuild_leaderboard(tmp_path)
    assert render(frame, "csv").splitlines()[0].startswith("dataset,model,seed")
    markdown = render(frame, "markdown")
    assert markdown.splitlines()[0].startswith("| dataset") and "| vae " in markdown


def test_empty_results_give_an_empty_leaderboard(tmp_path: Path) -> None:
    frame = rebuild_leaderboard(tmp_path)
    assert frame.empty and "dataset" in frame.columns
    assert (tmp_path / "leaderboard.csv").read_text().startswith("dataset,model")


def _floor(out: Path, fd: float, precision: float) -> None:
    write_floor(
        out,
        RunRecord.from_dict(
            {
                "run_id": "digits-floor-abc",
                "dataset": "digits",
                "model": FLOOR_MODEL,
                "seed": None,
                "status": "floor",
                "metrics": {"fd_clf_10k": fd, "precision_clf_10k": precision, "fid_10k": None},
                "protocol_summary": {
                    "reference_split": "test",
                    "n_reference": 360,
                    "classifier_weights": "abc",
                },
            }
        ),
    )


def test_the_floor_comes_first_and_each_metric_sorts_best_first(tmp_path: Path) -> None:
    for model, seed, fd, precision in (("vae", 0, 20.0, 0.9), ("dcgan", 0, 10.0, 0.5), ("gan", 0, 15.0, 0.7)):
        _record(tmp_path, model, seed, fd)
        path = tmp_path / "runs" / f"digits-{model}-seed{seed}-abc" / "metrics.json"
        record = json.loads(path.read_text())
        record["metrics"]["precision_clf_10k"] = precision
        _rewrite(path, record)
    _floor(tmp_path, 1.0, 0.95)
    frame = rebuild_leaderboard(tmp_path)
    assert list(frame["model"]) == [FLOOR_MODEL, "dcgan", "gan", "vae"]  # Default: FD, lowest first.
    assert list(sort_frame(frame, "precision_clf_10k")["model"]) == [FLOOR_MODEL, "vae", "gan", "dcgan"]
    assert frame.loc[0, "reference_split"] == "test" and pd.isna(frame.loc[0, "seed"])
    assert frame["fid_10k"].isna().all()  # A metric that could not be computed is empty, not an error.
    on_disk = pd.read_csv(tmp_path / "leaderboard.csv")
    assert len(on_disk) == 4 and on_disk["seed"].dropna().tolist() == [0, 0, 0]

    with pytest.raises(UserError, match=r"unknown metric 'fid' for --by; metric columns: fd_clf_10k, "):
        sort_frame(frame, "fid")


def test_summary_sorts_by_the_mean_and_keeps_the_floor_first(tmp_path: Path) -> None:
    _record(tmp_path, "dcgan", 0, 10.0)
    _record(tmp_path, "dcgan", 1, 30.0)  # Mean 20.
    _record(tmp_path, "vae", 0, 15.0)
    _floor(tmp_path, 1.0, 0.95)
    summary = summarise(rebuild_leaderboard(tmp_path), by="fd_clf_10k")
    assert list(summary["model"]) == [FLOOR_MODEL, "vae", "dcgan"]
    assert list(summary["seeds"]) == [0, 1, 2] and summary.loc[2, "fd_clf_10k"] == "20 ± 130 (2 seeds)"
    assert summary.loc[0, "fd_clf_10k"] == "1"  # The floor: its value, not a mean over seeds.


def test_metric_columns_keep_related_metrics_together() -> None:
    names = ["fid_10k", "w1_critic", "precision_clf_10k", "fd_clf_10k", "kid_std_clf_10k", "kid_clf_10k"]
    assert column_order(names) == [
        "fd_clf_10k",
        "kid_clf_10k",
        "kid_std_clf_10k",
        "precision_clf_10k",
        "w1_critic",
        "fid_10k",
    ]
    assert stem_of("kid_std_1.5k") == "kid_std" and stem_of("acc_clf_real") == "acc_clf_real"
    assert higher_is_better("recall_10k") and not higher_is_better("kid_std_clf_10k")


def test_only_the_tables_columns_are_metrics_and_its_spreads_are_not_ranked(tmp_path: Path) -> None:
    _record(tmp_path, "dcgan", 0, 10.0)
    path = tmp_path / "runs" / "digits-dcgan-seed0-abc" / "metrics.json"
    record = json.loads(path.read_text())
    record["metrics"].update({"kid_std_clf_10k": 0.5, "sharpness_10k": 3.0})  # sharpness: not in the table.
    record["during_training"] = {"metric": "fd_clf_1k", "final": 12.0, "best": 11.0, "best_kimg": 4.0}
    _rewrite(path, record)
    frame = rebuild_leaderboard(tmp_path)
    assert metric_columns(frame) == ["fd_clf_10k", "kid_std_clf_10k", "best_fd_clf_1k", "final_fd_clf_1k"]
    assert frame.loc[0, "sharpness_10k"] == 3.0 and frame.loc[0, "best_kimg"] == 4.0  # Shown all the same.
    for column in ("sharpness_10k", "best_kimg"):
        with pytest.raises(UserError, match=f"unknown metric '{column}' for --by"):
            sort_frame(frame, column)
    view = terminal_view(frame)
    assert "kid_std_clf_10k" not in view.columns and "sharpness_10k" in view.columns
    assert "kid_std_clf_10k" in terminal_view(frame, by="kid_std_clf_10k").columns


def test_each_setup_of_a_model_is_its_own_row_and_name(tmp_path: Path) -> None:
    _record(tmp_path, "dcgan", 0, 10.0, setup="long", kimg=10)
    _record(tmp_path, "dcgan", 1, 14.0, setup="long", kimg=10)
    _record(tmp_path, "dcgan", 0, 40.0, setup="short", kimg=2)
    _record(tmp_path, "vae", 0, 20.0, setup="v")
    summary = summarise(rebuild_leaderboard(tmp_path)).set_index(["model", "setup"])
    assert summary.loc[("dcgan", "long"), "seeds"] == 2
    assert summary.loc[("dcgan", "long"), "fd_clf_10k"] == "12 ± 25 (2 seeds)"
    one_seed = [1, 2, "40 (one seed: no interval)"]
    assert summary.loc[("dcgan", "short"), ["seeds", "budget_kimg", "fd_clf_10k"]].tolist() == one_seed
    names = list(by_model(terminal_view(summary.reset_index())).columns[1:])
    # Named by what differs (the budget), not by the setup's hash; best first.
    assert names == ["digits/dcgan [kimg 10]", "digits/vae", "digits/dcgan [kimg 2]"]

    # A record from before setups were recorded is one more experiment, in the summary and its name;
    # where nothing the records show differs, the setup's hash is all there is to name it by.
    _record(tmp_path, "vae", 1, 30.0)
    summary = summarise(rebuild_leaderboard(tmp_path))
    assert sorted(by_model(terminal_view(summary)).columns[1:])[-2:] == [
        "digits/vae [setup v]",
        "digits/vae [unrecorded]",
    ]


def test_column_blocks_fit_the_width_next_to_the_key_columns() -> None:
    widths = {"model": 5, "seed": 4, "a": 10, "b": 10, "c": 30, "d": 2}
    # Keys cost 1 + (5 + 3) + (4 + 3) = 16; each column its width + 3.
    assert column_blocks(widths, ["model", "seed"], 45) == [["a", "b"], ["c"], ["d"]]
    assert column_blocks(widths, ["model", "seed"], 200) == [["a", "b", "c", "d"]]
    assert column_blocks(widths, ["model", "seed"], 10) == [["a"], ["b"], ["c"], ["d"]]  # One at least.
    assert column_blocks({"model": 5}, ["model"], 80) == [[]]  # Only keys: one table of them.


@pytest.mark.parametrize("width", [60, 100, 400])
def test_a_wide_leaderboard_prints_in_blocks_that_fit_the_terminal(tmp_path: Path, width: int) -> None:
    for seed, fd in enumerate([10.0, 14.0]):
        _record(tmp_path, "dcgan", seed, fd)
    frame = rebuild_leaderboard(tmp_path).assign(
        **{f"metric_number_{i}_clf_10k": 1000.0 + i for i in range(12)}
    )
    view = terminal_view(frame)
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(render(view, "table", width))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= width
    for column in view.columns:  # Every header whole on one line: nothing folded letter by letter.
        assert column in text, column
    blocks = text.count("┏")
    assert (blocks == 1) == (width == 400)  # One table where it fits, blocks where it does not.
    assert text.count("dcgan") == 2 * blocks  # Every block says which row is which.


def test_the_floor_shows_no_seed_count_in_the_terminal(tmp_path: Path) -> None:
    _record(tmp_path, "dcgan", 0, 10.0)
    _floor(tmp_path, 1.0, 0.9)
    view = terminal_view(summarise(rebuild_leaderboard(tmp_path))).set_index("model")
    assert view.loc["dcgan", "seeds"] == 1
    assert pd.isna(view.loc[FLOOR_MODEL, "seeds"])  # Blank, not a 0 that reads like a seed.
    table = by_model(view.reset_index())
    buffer = io.StringIO()
    Console(file=buffer, width=200).print(render(table, "table", 200))
    seeds_line = next(line for line in buffer.getvalue().splitlines() if "seeds" in line)
    assert "0" not in seeds_line and "1" in seeds_line
