"""The report's summary of a dataset, checked against numbers worked out by hand: means and 95% Student-t
intervals over seeds, the best of each column, the floor, failed seeds counted; and setups named by what
differs, never only by a hash."""

from __future__ import annotations

import html
import math
import re
from pathlib import Path

import pytest
from report_folders import write_floor_record, write_run

from genbench.results.leaderboard import rebuild_leaderboard, summarise, variant_labels
from genbench.results.report import collect, write_report
from genbench.results.report_numbers import number, spread
from genbench.results.report_summary import summarise_dataset
from genbench.results.statistics import seed_summary

FD, PRECISION, KID_STD = "fd_clf_1k", "precision_clf_1k", "kid_std_clf_1k"
# t(0.975) with 1 and 2 degrees of freedom (tables of Student's t).
T_1, T_2 = 12.7062047, 4.30265273


def _folder(out: Path) -> Path:
    """dcgan: three seeds finished (FD 9.5, 10, 12) and one failed; vae: one seed; a floor."""
    for seed, fd, precision in ((0, 9.5, 0.5), (1, 10.0, 0.55), (2, 12.0, 0.45)):
        write_run(out, "dcgan", seed, {FD: fd, PRECISION: precision, KID_STD: 1.0})
    write_run(out, "dcgan", 3, {}, status="failed")
    write_run(out, "vae", 0, {FD: 100.0, PRECISION: 0.9, KID_STD: 1.0})
    write_floor_record(out, {FD: 0.5, PRECISION: 0.95})
    return out


def test_seed_summary_is_the_mean_with_its_student_t_interval() -> None:
    two = seed_summary([9.5, 10.0])  # mean 9.75, sample std 0.35355, standard error 0.25.
    assert two.n == 2 and two.mean == 9.75
    assert two.lo == pytest.approx(9.75 - T_1 * 0.25) and two.hi == pytest.approx(9.75 + T_1 * 0.25)
    one = seed_summary([100.0])
    assert (one.n, one.mean, one.lo, one.hi) == (1, 100.0, None, None)  # No zero-width interval.
    assert seed_summary([1.0, math.nan, math.inf]).n == 1  # A value that could not be computed is no seed.


def test_the_summary_has_a_row_per_model_with_means_and_intervals_worked_out_by_hand(tmp_path: Path) -> None:
    (dataset,) = collect(_folder(tmp_path))
    summary = summarise_dataset(dataset)
    assert [c.name for c in summary.columns] == [FD, PRECISION]  # No spread (kid_std) columns.
    assert [c.arrow for c in summary.columns] == ["↓", "↑"]
    dcgan, vae = summary.rows  # Best FD first.
    fd = dcgan.cells[FD]
    # Mean 10.5; sample std sqrt(((-1)^2 + (-0.5)^2 + 1.5^2) / 2) = sqrt(1.75); half-width t_2 sd/sqrt 3.
    half = T_2 * math.sqrt(1.75) / math.sqrt(3)
    assert fd.n == 3 and fd.mean == pytest.approx(10.5)
    assert (fd.lo, fd.hi) == (pytest.approx(10.5 - half), pytest.approx(10.5 + half))
    assert number(fd.mean) == "10.5" and spread(fd) == f"± {half:.2g}" == "± 3.3"
    assert (dcgan.finished, dcgan.not_finished, dcgan.runs) == (3, {"failed": 1}, 4)  # Failed: counted.
    assert vae.cells[FD].n == 1 and spread(vae.cells[FD]) == "1 seed: no interval"
    assert dcgan.best == {FD} and vae.best == {PRECISION}  # Lower FD, higher precision.
    (floor,) = summary.floors
    assert floor.values == {FD: 0.5, PRECISION: 0.95}


def test_the_page_shows_the_summary_first_with_its_intervals_arrows_and_best(tmp_path: Path) -> None:
    page = write_report(_folder(tmp_path)).read_text()
    table = page[page.index('<table class="summary"') : page.index("</table>")]
    assert page.index('<table class="summary"') < page.index('id="charts-digits"')  # At the top.
    headers = re.findall(r"<th scope=\"col\"[^>]*>(.*?)</th>", table)
    arrows = ('<span class="arrow">↓</span>', '<span class="arrow">↑</span>')
    assert len(headers) == 4 and all(h.endswith(arrows) for h in headers[2:])
    assert "<span class=\"mean\">10.5</span><span class=\"ci\">± 3.3</span>" in table
    assert "1 seed: no interval" in table
    best = re.findall(r'<td class="num best"[^>]*><span class="mean">([^<]*)<', table)
    assert best == ["10.5", "0.9"]
    assert '<tr class="floor"><th scope="row">real-data floor</th>' in table
    assert re.search(r">3 of 4<span class=\"bad\">1 failed</span>", table)
    assert page.count("the Inception Score formula") <= 1  # A metric is described once.


def test_no_model_is_best_where_every_model_has_the_same_mean(tmp_path: Path) -> None:
    # A real 4-run report: precision 0 for dcgan and vae alike; neither is the best of its column.
    for model in ("dcgan", "vae"):
        write_run(tmp_path, model, 0, {FD: 10.0 if model == "dcgan" else 20.0, PRECISION: 0.0})
    (dataset,) = collect(tmp_path)
    assert [row.best for row in summarise_dataset(dataset).rows] == [{FD}, set()]


def test_floors_of_two_protocols_are_two_reference_rows_never_averaged(tmp_path: Path) -> None:
    write_run(tmp_path, "vae", 0, {"fd_clf_1k": 10.0})
    write_floor_record(tmp_path, {"fd_clf_1k": 0.2}, key="a")
    write_floor_record(tmp_path, {"fd_clf_10k": 0.0}, key="b")
    write_floor_record(tmp_path, {"fd_clf_1k": 0.3}, key="c")
    (dataset,) = collect(tmp_path)
    floors = [(floor.label, floor.values) for floor in summarise_dataset(dataset).floors]
    # Floor b has no value in the summary's columns (no run has 10k samples): nothing to compare with.
    assert floors == [
        ("real-data floor [n_samples 1k, digits-floor-a]", {"fd_clf_1k": 0.2}),
        ("real-data floor [n_samples 1k, digits-floor-c]", {"fd_clf_1k": 0.3}),
    ]


def test_a_metric_and_its_spread_are_described_once(tmp_path: Path) -> None:
    write_run(tmp_path, "vae", 0, {"kid_clf_1k": 3.0, KID_STD: 1.0})
    page = html.unescape(write_report(tmp_path).read_text())
    assert page.count("its kernel (x.y/d + 1)^3") == 1
    assert "<dt>kid_clf_1k, kid_std_clf_1k</dt>" in page


def test_setups_are_named_by_what_differs_never_only_by_a_hash(tmp_path: Path) -> None:
    write_run(tmp_path, "dcgan", 0, {FD: 10.0}, kimg=40.0, setup="e79c9601d3")
    write_run(tmp_path, "dcgan", 1, {FD: 11.0}, kimg=40.0, setup="e79c9601d3")
    write_run(tmp_path, "dcgan", 0, {FD: 30.0}, kimg=4.0, setup="0a1b2c3d4e")
    write_run(tmp_path, "vae", 0, {FD: 20.0}, setup="v1", hparams={"lr": 0.001})
    write_run(tmp_path, "vae", 1, {FD: 21.0}, setup="v2", hparams={"lr": 0.0001})
    frame = rebuild_leaderboard(tmp_path)
    # From the frame alone (the terminal's leaderboard) the budget still tells dcgan's setups apart.
    assert set(variant_labels(frame)) >= {"dcgan [kimg 40]", "dcgan [kimg 4]"}
    assert set(variant_labels(summarise(frame))) >= {"dcgan [kimg 40]", "dcgan [kimg 4]"}
    page = write_report(tmp_path).read_text()
    assert "vae [lr 0.001]" in page and "vae [lr 0.0001]" in page  # From the configs.
    assert "dcgan [kimg 40]" in page and "[e79c9601" not in page and "setup e79c" not in page
    assert html.escape("dcgan [kimg 40]") in page.split('id="models-digits"')[1].split("</section>")[0]


def test_a_sample_count_tells_setups_apart_from_the_frame_alone(tmp_path: Path) -> None:
    write_run(tmp_path, "vae", 0, {"fd_clf_1k": 10.0}, setup="a")
    write_run(tmp_path, "vae", 0, {"fd_clf_10k": 9.0}, setup="b")
    labels = variant_labels(rebuild_leaderboard(tmp_path))
    assert sorted(labels) == ["vae [n_samples 10k]", "vae [n_samples 1k]"]


def test_the_copying_diagnostics_are_shown_but_never_marked_best(tmp_path: Path) -> None:
    # C_T and the authentic fraction have no better side: the copying model (C_T -3, authentic 0.1)
    # must not be "best" on them, nor the one far from the training set (noise reads authentic).
    ct, auth = "ct_clf_1k", "auth_clf_1k"
    write_run(tmp_path, "dcgan", 0, {FD: 10.0, ct: -3.0, auth: 0.1})
    write_run(tmp_path, "vae", 0, {FD: 20.0, ct: 0.5, auth: 0.9})
    (dataset,) = collect(tmp_path)
    summary = summarise_dataset(dataset)
    assert [(c.name, c.arrow, c.ranked) for c in summary.columns] == [
        (FD, "↓", True), (ct, "◇", False), (auth, "◇", False)
    ]  # fmt: skip
    assert [row.best for row in summary.rows] == [{FD}, set()]
    page = write_report(tmp_path).read_text()
    assert 'title="no better side: a diagnostic, read it against the floor' in page
    assert "higher is better" not in page[page.index(ct) : page.index(ct) + 300]
