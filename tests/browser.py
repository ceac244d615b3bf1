"""Debian's headless chromium, driven through its chromedriver (no Selenium Manager, so no network),
for the tests that look at the HTML report as a page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
needs_chromium = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (installed by .ci/run)",
)


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    """A headless chromium that keeps its console log, closed on leaving."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_argument("--disable-background-networking")
    options.add_argument("--hide-scrollbars")  # The viewport is the window: widths are exact.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield chrome
    finally:
        chrome.quit()


def open_at(driver: webdriver.Chrome, page: Path, width: int, height: int = 900) -> None:
    """Open ``page`` from disk in a viewport ``width`` CSS pixels wide."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return window.innerWidth")
    if inner != width:  # Window decorations: make the viewport itself the width asked for.
        driver.set_window_size(2 * width - inner, height)
    driver.get(page.resolve().as_uri())
    assert driver.execute_script("return window.innerWidth") == width


def severe_console_entries(driver: webdriver.Chrome, page: Path) -> list[dict[str, Any]]:
    """Open ``page`` from disk; the console entries of level SEVERE it logged."""
    driver.get_log("browser")  # Reading the log empties it: start from a clean one.
    driver.get(page.resolve().as_uri())
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
