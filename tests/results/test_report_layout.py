"""The report as a researcher sees it, in headless chromium at 1280 and 400 px: the summary at the top,
every column of it visible without scrolling sideways, and a 4-run page well under a megabyte."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import needs_chromium, open_at
from report_folders import ALL_METRICS, four_runs, write_floor_record, write_run
from selenium import webdriver

from genbench.results.report import build_report, write_report

# What a part of the page is past the viewport's edges, in CSS pixels (0 when within it).
OVERFLOW = """
const box = arguments[0].getBoundingClientRect();
return Math.max(0, box.right - window.innerWidth, -box.left);
"""


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Issue 19's hardest case: twelve metrics, two setups of one model in one folder (long names),
    a failed seed, a floor."""
    out = tmp_path_factory.mktemp("crowded")
    for seed in (0, 1):
        metrics = {k: v * (1 + 0.1 * seed) for k, v in ALL_METRICS.items()}
        write_run(out, "dcgan", seed, metrics, kimg=40.0, setup="long", hparams={"lr": 0.0002})
    write_run(out, "dcgan", 0, {k: 3 * v for k, v in ALL_METRICS.items()}, kimg=4.0, setup="short")
    write_run(out, "dcgan", 2, {}, kimg=40.0, setup="long", hparams={"lr": 0.0002}, status="diverged")
    write_run(out, "vae", 0, {k: 2 * v for k, v in ALL_METRICS.items()})
    write_floor_record(out, {k: v / 10 for k, v in ALL_METRICS.items()})
    return write_report(out)


@needs_chromium
@pytest.mark.parametrize("width", [1280, 400])
def test_the_summary_is_at_the_top_and_fits_the_width(
    driver: webdriver.Chrome, crowded: Path, width: int
) -> None:
    open_at(driver, crowded, width)
    (table,) = driver.find_elements("css selector", "table.summary")
    # Fully visible: every header and cell within the viewport's width, nothing to scroll sideways.
    cells = table.find_elements("css selector", "th, td")
    assert len(cells) == (2 + 12) * (1 + 1 + 3)  # model, seeds, twelve metrics; header, floor, 3 setups.
    assert [driver.execute_script(OVERFLOW, cell) for cell in cells] == [0] * len(cells)
    assert driver.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", table)
    assert driver.execute_script("return document.documentElement.scrollWidth") <= width
    # At the top: its first model row is on the first screen.
    first_row = table.find_element("css selector", "tbody tr:not(.floor)")
    assert first_row.location["y"] < 900
    assert first_row.text.startswith("dcgan [kimg 40]") and "±" in table.text


@pytest.fixture(scope="module")
def four(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of two models with two seeds each, every picture, curve and metric."""
    result = build_report(four_runs(tmp_path_factory.mktemp("four")))
    assert result.notes == []
    return result.page


def test_a_four_run_report_is_well_under_a_megabyte(four: Path) -> None:
    # Issue 19: 2.2 MB and 13,230 px for 4 runs. Its pictures are noise here, which compresses worse
    # than samples do, and its curves have 80 noisy points.
    assert four.stat().st_size < 800_000, four.stat().st_size


@needs_chromium
def test_a_four_run_report_is_a_few_screens_long(driver: webdriver.Chrome, four: Path) -> None:
    page = four
    open_at(driver, page, 1280)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    # Models, runs, protocol and glossary closed until opened; the significance of the sort metric open.
    assert height < 3300, height
    images = driver.execute_script("return Array.from(document.images).map(i => i.naturalWidth)")
    assert all(images)
