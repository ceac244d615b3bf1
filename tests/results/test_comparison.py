"""Comparison plots over all runs of an output folder: a chart per metric (a dot per seed, the mean and
its interval, the floor), eval curves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from PIL import Image

from genbench.core.layout import FLOOR_MODEL, PLOTS_DIR, TRAIN_LOG_FILE
from genbench.core.record import RunRecord
from genbench.evaluation.floor import write_floor
from genbench.figures.curves import DPI, FIGURE_INCHES
from genbench.figures.palette import MIXES, PALETTE, model_colour
from genbench.results.comparison import chart_rows, finished_runs, write_comparison_plots
from genbench.results.leaderboard import read_records, records_frame
from genbench.results.metric_chart import CHART_INCHES, uses_log_axis
from genbench.results.records import RunFolder

PIXELS = (round(FIGURE_INCHES[0] * DPI), round(FIGURE_INCHES[1] * DPI))


def _run(
    out: Path,
    model: str,
    seed: int,
    metrics: dict[str, Any],
    status: str = "finished",
    dataset: str = "digits",
    evaluate: bool = False,
) -> Path:
    """A run record, with a short train.jsonl (eval/ points on every other row when ``evaluate``)."""
    run_id = f"{dataset}-{model}-seed{seed}-abc"
    folder = RunFolder(out, run_id)
    for i in range(1, 7):
        row: dict[str, Any] = {"step": 10 * i, "kimg": 0.64 * i, "seconds": (1.0 + seed) * i, "loss_d": 1.0}
        if evaluate and i % 2 == 0:
            row["eval/fd_clf_1k"] = 50.0 / i + seed
        folder.append_log(row)
    record = {"run_id": run_id, "dataset": dataset, "model": model, "seed": seed, "status": status}
    folder.write_metrics(
        RunRecord.from_dict({**record, "kimg": 3.84, "train_seconds": 6.0, "metrics": metrics})
    )
    return folder.file(TRAIN_LOG_FILE)


def _floor(out: Path, metrics: dict[str, Any], dataset: str = "digits") -> None:
    record = {"run_id": f"{dataset}-floor-abc", "dataset": dataset, "model": FLOOR_MODEL, "seed": None}
    write_floor(out, RunRecord.from_dict({**record, "status": "floor", "metrics": metrics}))


def _assert_png(path: Path) -> None:
    assert path.stat().st_size > 0
    with Image.open(path) as image:
        assert image.format == "PNG"
        if path.name.startswith("metric_"):  # Compact: a third of the page wide, a row per model.
            assert image.size[0] == round(CHART_INCHES * DPI) and image.size[1] < image.size[0]
        else:
            assert image.size == PIXELS
        assert image.info["dpi"] == pytest.approx((DPI, DPI), abs=0.1)  # The report shows it at its size.


def _frame(rows: list[tuple[str, float | None]], column: str = "fd_clf_10k") -> pd.DataFrame:
    models = [m for m, _ in rows]
    return pd.DataFrame({"model": models, "label": models, column: [v for _, v in rows]})


def test_chart_rows_are_the_seeds_of_each_model_best_mean_first() -> None:
    runs = _frame([("vae", 20.0), ("dcgan", 10.0), ("dcgan", 14.0), ("gan", None), ("gan", float("inf"))])
    rows = chart_rows(runs, "fd_clf_10k")
    assert [row.label for row in rows] == ["dcgan", "vae"]  # Lower FD first; gan has no finite value.
    dcgan, vae = (row.summary for row in rows)
    assert dcgan.values == (10.0, 14.0) and dcgan.mean == 12.0
    # The 95% Student-t interval: 12 ± t(0.975, 1) * sample std / sqrt(2) = 12 ± 12.706 * 2.
    assert dcgan.hi == pytest.approx(12.0 + 12.7062047 * 2.0)
    assert vae.n == 1 and vae.lo is None  # One seed: a dot, no interval.


def test_chart_rows_order_higher_is_better_metrics_highest_first() -> None:
    rows = chart_rows(_frame([("a", 0.2), ("b", 0.9), ("b", 0.7)], "precision_clf_10k"), "precision_clf_10k")
    assert [row.label for row in rows] == ["b", "a"]
    assert chart_rows(_frame([("a", None)]), "fd_clf_10k") == []


def test_a_log_axis_where_values_span_decades_and_the_floor_has_room() -> None:
    assert uses_log_axis([46.0, 900.0, 7000.0])  # Issue 19: a floor of 46 under values up to 7000.
    assert not uses_log_axis([9.5, 10.0, 14.0]) and not uses_log_axis([0.0, 0.5, 0.9])
    assert not uses_log_axis([-1.0, 1000.0])  # A negative value (KID at the floor) has no logarithm.


def test_a_model_has_one_colour_derived_from_its_name() -> None:
    assert model_colour("dcgan") == model_colour("dcgan") and model_colour("dcgan") in PALETTE
    builtin = ["dcgan", "vae", "gan", "wgan-gp", "wgan", "lsgan", "ddpm", "flow-matching"]
    assert len({model_colour(name) for name in builtin}) == len(builtin)  # Side by side, told apart.


def test_finished_runs_leave_out_failed_diverged_and_floor_rows(tmp_path: Path) -> None:
    _run(tmp_path, "dcgan", 0, {"fd_clf_10k": 10.0})
    _run(tmp_path, "dcgan", 1, {"fd_clf_10k": 1000.0}, status="diverged")
    _run(tmp_path, "wgan", 0, {"fd_clf_10k": None}, status="failed")
    _floor(tmp_path, {"fd_clf_10k": 1.0})
    runs = finished_runs(records_frame(read_records(tmp_path).records))
    assert runs[["model", "seed"]].values.tolist() == [["dcgan", 0]]


def test_write_comparison_plots_draws_metric_charts_and_eval_curves_per_dataset(tmp_path: Path) -> None:
    def metrics(fd: float, precision: float) -> dict[str, float | None]:
        # FID not computable; a spread (std) is not compared in a chart.
        return {"fd_clf_10k": fd, "precision_clf_10k": precision, "fid_10k": None, "kid_std_clf_10k": 0.1}

    logs = [
        _run(tmp_path, "dcgan", 0, metrics(10.0, 0.5), evaluate=True),
        _run(tmp_path, "dcgan", 1, metrics(14.0, 0.6), evaluate=True),
        _run(tmp_path, "vae", 0, metrics(20.0, 0.9), evaluate=True),
        _run(tmp_path, "gan", 0, {"fd_clf_10k": 30.0}, dataset="fashion"),
    ]
    _floor(tmp_path, {"fd_clf_10k": 1.0, "precision_clf_10k": 0.95, "fid_10k": None})
    before = [log.read_bytes() for log in logs]

    digits = tmp_path / PLOTS_DIR / "digits"
    digits.mkdir(parents=True)
    (digits / "bars_fd_clf_10k.png").write_bytes(b"from an earlier report")
    written = write_comparison_plots(tmp_path)
    assert sorted(digits.iterdir()) == sorted(written["digits"])  # The stale plot is gone.
    names = ["metric_fd_clf_10k.png", "metric_precision_clf_10k.png"]
    names += ["eval_vs_kimg.png", "eval_vs_seconds.png"]
    assert written["digits"] == [digits / name for name in names]  # No finite fid_10k: no chart for it.
    # No eval/ rows in the fashion run's log: charts only.
    assert written["fashion"] == [tmp_path / PLOTS_DIR / "fashion" / "metric_fd_clf_10k.png"]
    for path in [*written["digits"], *written["fashion"]]:
        _assert_png(path)
    assert [log.read_bytes() for log in logs] == before
    # Each model's dots in its own colour, even vae's one dot (an adaptive palette once dropped it).
    with Image.open(digits / "metric_fd_clf_10k.png") as chart:
        pixels = set(chart.convert("RGB").get_flattened_data())
    for model in ("dcgan", "vae"):
        rgb = tuple(int(model_colour(model)[i : i + 2], 16) for i in (1, 3, 5))
        shades = {tuple(round(255 - a * (255 - c)) for c in rgb) for a in MIXES}
        assert pixels & shades, model


def test_a_dataset_with_only_failed_runs_gets_no_plots(tmp_path: Path) -> None:
    _run(tmp_path, "wgan", 0, {"fd_clf_10k": 5.0}, status="failed", evaluate=True)
    _floor(tmp_path, {"fd_clf_10k": 1.0})
    assert write_comparison_plots(tmp_path) == {}
    assert not (tmp_path / PLOTS_DIR).exists()


def test_no_records_give_no_plots(tmp_path: Path) -> None:
    assert write_comparison_plots(tmp_path) == {}
