"""The HTML report: one self-contained page built from synthetic run records (no training), checked as
text and, in Debian's headless chromium, as a page: no console errors, every image decoded, one
leaderboard row per run, sorting by a header click."""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
import torch
from browser import needs_chromium, severe_console_entries
from PIL import Image
from selenium import webdriver
from selenium.webdriver.common.by import By
from specs import a_spec

from genbench.core.copying_gallery import CopyingGallery, NearestPair
from genbench.core.layout import FLOOR_MODEL, REPORT_FILE
from genbench.core.metrics import metric
from genbench.core.record import RunRecord
from genbench.errors import UserError
from genbench.evaluation.floor import write_floor
from genbench.figures.copying_gallery import save_copying_gallery
from genbench.results.records import RunFolder
from genbench.results.report import PLOTS_DIR, write_report
from genbench.results.report_html import run_anchor, table_id

HOSTILE_MODEL = "<script>alert(1)</script>"
HOSTILE_RUN = "digits-<img src=x onerror=alert(1)>-seed0-abc"
FD, PRECISION = "fd_clf_10k", "precision_clf_10k"
# (run id, model, seed, status, fd, precision, PNGs in its folder) on dataset "digits".
RUNS: list[tuple[str, str, int, str, float | None, float | None, list[str]]] = [
    (
        "digits-dcgan-seed0-abc",
        "dcgan",
        0,
        "finished",
        9.5,
        0.5,
        ["extra.png", "progress.png", "curves_eval.png", "copying.png", "classes.png", "samples.png"],
    ),
    ("digits-dcgan-seed1-abc", "dcgan", 1, "finished", 10.0, None, ["samples.png", "curves_losses.png"]),
    ("digits-vae-seed0-abc", "vae", 0, "finished", 100.0, 0.9, ["interpolation_encoded.png"]),
    ("digits-gan-seed0-abc", "gan", 0, "diverged", None, None, []),
    (HOSTILE_RUN, HOSTILE_MODEL, 0, "failed", None, None, []),
]
PLOTS = ["bars_fd_clf_10k.png", "eval_vs_kimg.png"]


def _png(path: Path, width: int = 24, height: int = 16) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (width, height), (30, 120, 200)).save(path)


def _run(out: Path, run_id: str, model: str, seed: int, status: str, metrics: dict[str, Any]) -> RunFolder:
    folder = RunFolder(out, run_id)
    folder.write_spec(a_spec(run_id=run_id, dataset=run_id.split("-")[0], model=model, seed=seed))
    classifier = {
        "extractor": "genbench-classifier/refclf-v2",
        "classifier_key": "k",
        "weights_sha256": "f00d" * 16,
    }
    record: dict[str, Any] = {
        "run_id": run_id,
        "dataset": run_id.split("-")[0],
        "model": model,
        "seed": seed,
        "status": status,
        "budget_kimg": 10,
        "budget": {"kimg": 10, "steps": None, "seconds": 60},
        "kimg": 10.0,
        "steps": 160,
        "device": "cpu",
        "metrics": metrics,
        "protocol": {
            column: {
                "metric": f"how {column} is computed",
                "n_generated": 10000,
                "n_reference": 360,
                **classifier,
            }
            for column in metrics
        },
        "protocol_summary": {"reference_split": "test", "n_reference": 360, "classifier_weights": "abc"},
    }
    if status != "finished":
        record |= {"metrics": {}, "error": f"training {status}: <b>loss is nan</b> at step 12"}
    folder.write_metrics(RunRecord.from_dict(record))
    return folder


def _results(out: Path) -> list[Path]:
    """A results folder of two datasets, a floor, plots and pictures; returns every PNG in it."""
    for run_id, model, seed, status, fd, precision, pictures in RUNS:
        folder = _run(out, run_id, model, seed, status, {FD: fd, PRECISION: precision})
        for name in pictures:
            _png(folder.file(name))
    _run(out, "mnist-dcgan-seed0-abc", "dcgan", 0, "finished", {FD: 3.0})
    for name in PLOTS:  # The last one as wide as a real figure: shown small until clicked.
        _png(out / PLOTS_DIR / "digits" / name, width=900 if name == PLOTS[-1] else 64, height=48)
    floor = {"run_id": "digits-floor-abc", "dataset": "digits", "model": FLOOR_MODEL, "seed": None}
    write_floor(out, RunRecord.from_dict({**floor, "status": "floor", "metrics": {FD: 0.5, PRECISION: 0.95}}))
    return sorted(out.rglob("*.png"))


def test_a_folder_without_runs_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"no run records in .*genbench run --out"):
        write_report(tmp_path / "missing")
    (tmp_path / "runs").mkdir()
    with pytest.raises(UserError, match="no run records"):
        write_report(tmp_path)
    assert not (tmp_path / REPORT_FILE).exists()


def test_a_run_without_pictures_gives_no_img(tmp_path: Path) -> None:
    _run(tmp_path, "digits-vae-seed0-abc", "vae", 0, "finished", {FD: 1.0})
    page = write_report(tmp_path).read_text()
    assert write_report(tmp_path, tmp_path / "elsewhere.html") == tmp_path / "elsewhere.html"
    assert "<img" not in page
    assert page.count("<h1>") == 1 and 'data-run-id="digits-vae-seed0-abc"' in page


def test_strings_from_records_are_escaped(tmp_path: Path) -> None:
    _results(tmp_path)
    page = write_report(tmp_path).read_text()
    assert HOSTILE_MODEL not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert (
        "onerror=alert(1)>" not in page and 'data-run-id="digits-&lt;img src=x onerror=alert(1)&gt;' in page
    )
    assert "<b>loss" not in page and "&lt;b&gt;loss is nan&lt;/b&gt;" in page
    assert page.count("<script") == 1  # The sorter, nothing else.


def test_every_png_is_embedded_in_its_fixed_order(tmp_path: Path) -> None:
    pngs = _results(tmp_path)
    page = write_report(tmp_path).read_text()
    assert page.count("<img ") == len(pngs)
    for path in pngs:
        assert base64.b64encode(path.read_bytes()).decode() in page, path
    # A run's pictures in the fixed order, then any other PNG; nothing is fetched from outside.
    run = page[page.index('id="run-digits-dcgan-seed0-abc"') :]
    shown = re.findall(r"<figcaption><code>([^<]+)</code>", run[: run.index("</article>")])
    expected = ["samples.png", "classes.png", "progress.png", "copying.png", "curves_eval.png", "extra.png"]
    assert shown == expected
    assert not re.search(r"""(src|href)="(?!data:|#)""", page)


def test_the_page_says_how_each_number_was_obtained(tmp_path: Path) -> None:
    # fd_clf is described by the metric table; a column the table does not know by its protocol.
    folder = _run(tmp_path, "digits-vae-seed0-abc", "vae", 0, "finished", {FD: 1.0, "sharpness_10k": 2.0})
    # Facts of the run's typed spec (config.json), wherever the spec keeps them.
    spec = folder.read_spec()
    schedule = dataclasses.replace(spec.training.schedule, log_every=7)
    folder.write_spec(
        dataclasses.replace(
            spec,
            training=dataclasses.replace(spec.training, schedule=schedule),
            evaluation=dataclasses.replace(spec.evaluation, n_samples=1234),
        )
    )
    record = json.loads(folder.file("metrics.json").read_text())
    record |= {"progress_kimg": [0, 2.5, 5], "pictures_skipped": {"interpolation.png": "no latent API"}}
    record.pop("checksum")  # Edited: the record is written again with its own.
    folder.write_metrics(RunRecord.from_dict(record))
    _png(folder.file("progress.png"))
    page = write_report(tmp_path).read_text()
    for text in (
        "10 kimg or 60 seconds",  # The budget and its caps.
        "test split, 360 images",  # The reference images.
        f"{metric('fd_clf').description}; lower is better; 10000 generated vs 360 reference",
        "how sharpness_10k is computed; lower is better; 10000 generated vs 360 reference images",
        "genbench-classifier/refclf-v2, weights SHA-256 " + "f00d" * 16,
        "python 3.11.7; torch 2.14.1",
        "Rows at kimg 0, 2.5, 5.",
        "<code>interpolation.png</code>: no latent API",
        "thousands of real training images shown",
        "<th>Generated samples</th><td>1234</td>",
        "<th>Log interval</th><td>7</td>",
        "<th>Metrics asked for</th><td>fd_clf, jsd_clf</td>",
        "<th>Plugin genbench-builtin</th><td>0.1.0</td>",
    ):
        compact = re.sub(r"\s*\n\s*", "", page)  # The templates' line breaks between tags and values.
        assert text in page or text in html.unescape(page) or text in compact, text


def test_the_copying_gallery_is_captioned_with_how_to_read_it(tmp_path: Path) -> None:
    folder = _run(tmp_path, "digits-vae-seed0-abc", "vae", 0, "finished", {FD: 1.0})
    gallery = CopyingGallery((NearestPair(7, 42, 0.0),), 1000, 180, 12.0, 3.81, 0.25, "genbench-classifier/x")
    save_copying_gallery(
        gallery,
        torch.zeros(8, 1, 8, 8, dtype=torch.uint8),
        torch.zeros(43, 1, 8, 8, dtype=torch.uint8),
        folder.file("copying.png"),
    )
    folder.file("copying.json").write_text(json.dumps(gallery.to_dict()))
    page = html.unescape(write_report(tmp_path).read_text())
    assert "<code>copying.png</code>: Copying gallery (copying_clf)" in page
    assert "A copy reads as an identical pair at d near 0" in page
    assert (
        "Here: the nearest pair at d 0; of 180 held-out images, the nearest at d 3.81, the median at 12;"
        in page
    )
    assert "25.0% of the 1000 samples are nearer to a training image than any held-out image" in page
    folder.file("copying.json").write_text('{"pairs": []}')  # Damaged: the picture keeps its caption.
    with pytest.warns(UserWarning, match="copying.json cannot be read"):
        page = html.unescape(write_report(tmp_path).read_text())
    assert "A copy reads as an identical pair" in page and "Here:" not in page


def test_a_truncated_png_is_left_out(tmp_path: Path) -> None:
    folder = _run(tmp_path, "digits-vae-seed0-abc", "vae", 0, "finished", {FD: 1.0})
    _png(folder.file("samples.png"))
    folder.file("progress.png").write_bytes(folder.file("samples.png").read_bytes()[:40])
    with pytest.warns(UserWarning, match="progress.png"):
        page = write_report(tmp_path).read_text()
    assert page.count("<img ") == 1


# In the browser ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """The report of the synthetic results folder, and the PNGs in that folder."""
    out = tmp_path_factory.mktemp("results")
    pngs = _results(out)
    return write_report(out), pngs


@needs_chromium
def test_the_console_check_catches_a_script_error(driver: webdriver.Chrome, tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text('<!DOCTYPE html><title>x</title><script>throw new Error("deliberate");</script>')
    assert any("deliberate" in entry["message"] for entry in severe_console_entries(driver, broken))


@needs_chromium
def test_the_page_loads_cleanly_with_every_image(driver: webdriver.Chrome, report) -> None:
    page, pngs = report
    assert severe_console_entries(driver, page) == []
    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth]);"
    )
    assert len(images) == len(pngs)
    assert all(complete and width > 0 for complete, width in images)
    assert len(driver.find_elements(By.TAG_NAME, "h1")) == 1
    # Models are closed until opened; a link to a run inside one (the all-runs table's) opens it.
    section = driver.find_element(By.CSS_SELECTOR, "details.model")
    assert section.get_attribute("open") is None
    driver.find_element(By.CSS_SELECTOR, "details.all-runs > summary").click()
    driver.find_element(By.CSS_SELECTOR, f'a[href="#{run_anchor(RUNS[0][0])}"]').click()
    assert section.get_attribute("open") is not None
    assert driver.find_element(By.ID, run_anchor(RUNS[0][0])).is_displayed()


@needs_chromium
def test_the_leaderboard_has_one_row_per_run_and_sorts_by_header(driver: webdriver.Chrome, report) -> None:
    page, _ = report
    driver.get(page.resolve().as_uri())
    for summary in driver.find_elements(By.CSS_SELECTOR, "details.all-runs > summary"):
        summary.click()  # Every run's row is a click away from the summary.
    table = driver.find_element(By.ID, table_id("digits"))
    assert len(table.find_elements(By.CSS_SELECTOR, "tbody tr")) == len(RUNS) + 1  # + the floor.
    assert len(driver.find_element(By.ID, table_id("mnist")).find_elements(By.CSS_SELECTOR, "tbody tr")) == 1
    dcgan0, dcgan1, vae, gan, hostile = (run[0] for run in RUNS)
    floor = None  # The floor row has no run id.

    def order() -> list[str | None]:
        return [row.get_attribute("data-run-id") for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")]

    def click(column: str) -> list[str | None]:
        table.find_element(By.XPATH, f".//thead//th[normalize-space()='{column}']").click()
        return order()

    # The leaderboard's order: FD best first, then runs without FD by model name ("<" before "g").
    assert order() == [floor, dcgan0, dcgan1, vae, hostile, gan]
    # Higher precision is better: best first, empty cells last (in their previous order), floor first.
    assert click(PRECISION) == [floor, vae, dcgan0, dcgan1, hostile, gan]
    assert click(PRECISION) == [floor, dcgan0, vae, dcgan1, hostile, gan]
    # Numbers sort as numbers (9.5 < 10 < 100), both ways, empty cells still last.
    assert click(FD) == [floor, dcgan0, dcgan1, vae, hostile, gan]
    assert click(FD) == [floor, vae, dcgan1, dcgan0, hostile, gan]
    status_cells = table.find_elements(By.CSS_SELECTOR, "tbody td:nth-child(3)")
    assert [cell.find_element(By.CLASS_NAME, "status").text for cell in status_cells] == [
        "floor", "finished", "finished", "finished", "failed", "diverged"
    ]  # fmt: skip
    error = status_cells[-1].find_element(By.CLASS_NAME, "error")  # Its error's first line, as text.
    assert error.get_attribute("textContent") == "training diverged: <b>loss is nan</b> at step 12"
