"""Per-run training curves are drawn from train.jsonl, grouped by what each scalar is."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from PIL import Image
from specs import a_spec

from genbench.core.layout import FIGURES, TRAIN_LOG_FILE
from genbench.figures import curves
from genbench.figures.curves import (
    DPI,
    FIGURE_INCHES,
    curves_stamp,
    drawn_from,
    group_series,
    interval_middles,
    log_frame,
    run_title,
    smooth,
    smoothing_window,
    write_run_curves,
)
from genbench.results.records import RunFolder

PIXELS = (round(FIGURE_INCHES[0] * DPI), round(FIGURE_INCHES[1] * DPI))


def _gan_rows(n: int = 30, evaluate: bool = False) -> list[dict[str, Any]]:
    """A GAN-like log: dense training scalars, held-out estimates every 10 rows, optional eval points."""
    rows = []
    for i in range(1, n + 1):
        row: dict[str, Any] = {"step": 50 * i, "kimg": 3.2 * i, "seconds": 0.5 * i}
        row |= {"loss_d": 1.0 + 0.1 * (i % 3), "loss_g": 2.0 - 0.01 * i, "d_real": 0.6, "d_fake": 0.4}
        row["jsd"] = 0.1 + 0.01 * (i % 5)
        if i % 10 == 0:
            row |= {"test/jsd": 0.12, "test/d_real": 0.55, "test/d_fake": 0.45}
        if evaluate and i % 15 == 0:
            row["eval/fd_clf_1k"] = 100.0 / i
        rows.append(row)
    return rows


def _write_log(out: Path, rows: list[dict[str, Any]], run: str = "digits-gan-seed0-abc") -> Path:
    folder = RunFolder(out, run)
    for row in rows:
        folder.append_log(row)
    return folder.path


def _assert_png(path: Path) -> None:
    assert path.stat().st_size > 0
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == PIXELS


def test_group_series_puts_each_key_on_its_figure_and_test_keys_beside_their_train_key() -> None:
    groups = group_series(log_frame(_gan_rows(evaluate=True)).columns)
    assert groups["losses"] == {"losses": ["loss_d", "loss_g"]}  # One line per loss key, one axis.
    assert groups["estimates"] == {
        "d_fake": ["d_fake", "test/d_fake"],
        "d_real": ["d_real", "test/d_real"],
        "jsd": ["jsd", "test/jsd"],
    }
    assert groups["eval"] == {"fd_clf_1k": ["eval/fd_clf_1k"]}


def test_group_series_vae_keys_and_held_out_keys_without_a_train_counterpart() -> None:
    groups = group_series(["kimg", "seconds", "loss", "kl", "recon", "test/loss", "test/kl", "test/nll"])
    assert groups["losses"] == {"losses": ["loss", "test/loss"]}  # Held-out loss in its train loss's colour.
    assert groups["estimates"] == {"kl": ["kl", "test/kl"], "recon": ["recon"], "nll": ["test/nll"]}
    assert "eval" not in groups  # No eval keys: no eval figure.


def test_group_series_leaves_out_figures_without_keys() -> None:
    assert group_series(["step", "kimg", "seconds"]) == {}
    assert set(group_series(["kimg", "em", "gp"])) == {"estimates"}  # No loss* key: no losses figure.


def test_log_frame_keeps_each_key_only_where_logged_and_drops_non_finite_values() -> None:
    rows = [
        {"step": 1, "kimg": 0.1, "seconds": 1.0, "loss_d": 1.0, "note": "text"},
        {"step": 2, "kimg": 0.2, "seconds": 2.0, "loss_d": float("inf"), "test/jsd": 0.3},
        {"step": 3, "kimg": 0.3, "seconds": 3.0, "loss_d": float("nan"), "eval/fd": None},
    ]
    frame = log_frame(rows)
    assert "note" not in frame.columns and "eval/fd" not in frame.columns  # Nothing finite to draw.
    assert frame["loss_d"].tolist()[0] == 1.0 and frame["loss_d"].isna().tolist() == [False, True, True]
    assert frame[["kimg", "test/jsd"]].dropna().values.tolist() == [[0.2, 0.3]]


def test_smoothing_keeps_a_constant_series_and_damps_noise() -> None:
    kimg = pd.Series([0.1 * i for i in range(100)])
    assert smooth(kimg[:20], pd.Series([2.0] * 20), 0.5).tolist() == pytest.approx([2.0] * 20)
    noisy = pd.Series([0.0, 1.0] * 50)
    smoothed = smooth(kimg, noisy, 1.0)
    assert len(smoothed) == 100 and smoothed.iloc[5:-5].std() < noisy.std() / 4


def test_train_and_held_out_are_smoothed_alike_without_lag() -> None:
    # Issue 19: a VAE's recon falling from 30 to 26 over 20 kimg, held-out equal to train. A trailing
    # average (the EMA drawn before) lags: its train line sat above the held-out points, a gap the
    # values do not have. The centred mean of a straight line is the line.
    kimg = pd.Series([0.25 * i for i in range(81)])
    recon = 30.0 - 0.2 * kimg
    window = smoothing_window(kimg)
    train = smooth(kimg, recon, window)
    held_out = kimg[::8]
    smoothed_held_out = smooth(held_out, recon[::8], window)
    inside = (held_out > window) & (held_out < 20 - window)
    assert train[held_out.index][inside].tolist() == pytest.approx(recon[held_out.index][inside].tolist())
    assert smoothed_held_out[inside].tolist() == pytest.approx(train[held_out.index][inside].tolist())
    assert recon.ewm(span=10).mean().iloc[-1] > recon.iloc[-1] + 0.2  # What the trailing average did.


def test_a_training_scalar_is_drawn_at_the_middle_of_its_log_interval() -> None:
    # A log row's training scalars are means over the steps since the row before: drawn at the end of
    # the interval they lag behind the held-out point measured there.
    kimg = pd.Series([0.5, 1.0, 2.0])
    assert interval_middles(kimg).tolist() == [0.25, 0.75, 1.5]


def test_a_run_is_titled_by_its_dataset_model_and_seed_not_its_folder(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path, "digits-dcgan-seed3-e79c9601d3")
    folder.path.mkdir(parents=True)
    folder.write_spec(a_spec(run_id=folder.run_id, dataset="digits", model="dcgan", seed=3))
    assert run_title(folder.path) == "digits · dcgan · seed 3"
    assert run_title(tmp_path / "runs" / "elsewhere") == "elsewhere"  # No config: the folder's name.


def test_write_run_curves_writes_only_figures_with_keys_and_leaves_the_log_alone(tmp_path: Path) -> None:
    run_dir = _write_log(tmp_path, _gan_rows())
    log_before = (run_dir / TRAIN_LOG_FILE).read_bytes()
    written = write_run_curves(run_dir)
    assert written == [run_dir / FIGURES["losses"], run_dir / FIGURES["estimates"]]
    assert not (run_dir / FIGURES["eval"]).exists()  # No eval/ key in the log.
    for path in written:
        _assert_png(path)
    assert (run_dir / TRAIN_LOG_FILE).read_bytes() == log_before
    assert sorted(p.name for p in run_dir.iterdir()) == sorted([TRAIN_LOG_FILE, *(p.name for p in written)])


def test_write_run_curves_draws_eval_points_and_survives_a_crash_cut_last_line(tmp_path: Path) -> None:
    run_dir = _write_log(tmp_path, _gan_rows(evaluate=True))
    with (run_dir / TRAIN_LOG_FILE).open("a") as log:
        log.write('{"step": 9999, "kimg": 1')  # A crash mid-write.
    written = write_run_curves(run_dir)
    assert [p.name for p in written] == list(FIGURES.values())
    _assert_png(run_dir / FIGURES["eval"])


def test_write_run_curves_without_a_log_or_scalars_writes_nothing(tmp_path: Path) -> None:
    assert write_run_curves(tmp_path / "missing") == []
    run_dir = _write_log(tmp_path, [{"step": i, "kimg": i / 10, "seconds": math.pi * i} for i in range(3)])
    assert write_run_curves(run_dir) == []
    assert [p.name for p in run_dir.iterdir()] == [TRAIN_LOG_FILE]


def test_curves_are_redrawn_only_where_their_log_or_genbench_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 22: the report redrew every figure of every run of a results folder each time it was built.
    run_dir = _write_log(tmp_path, _gan_rows(evaluate=True))
    drawn = write_run_curves(run_dir)
    assert len(drawn) == 3 and {drawn_from(path) for path in drawn} == {curves_stamp(run_dir)}
    assert write_run_curves(run_dir, redraw=False) == []  # Every figure is current.
    assert write_run_curves(run_dir) == drawn  # Asked to, it redraws.
    (run_dir / FIGURES["eval"]).unlink()
    (run_dir / FIGURES["losses"]).write_bytes(b"not a png")
    assert write_run_curves(run_dir, redraw=False) == [run_dir / FIGURES["losses"], run_dir / FIGURES["eval"]]
    RunFolder(tmp_path, run_dir.name).append_log({"step": 9000, "kimg": 200.0, "loss_d": 0.5})  # It grew.
    assert write_run_curves(run_dir, redraw=False) == drawn
    monkeypatch.setattr(curves, "_version", lambda: "99.0")  # A newer genbench draws them anew.
    assert write_run_curves(run_dir, redraw=False) == drawn
    assert drawn_from(run_dir / TRAIN_LOG_FILE) is None and drawn_from(tmp_path / "missing.png") is None
