"""Fixtures of the results tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser import CHROMEDRIVER, CHROMIUM, chromium
from selenium import webdriver


@pytest.fixture(scope="module")
def driver() -> Iterator[webdriver.Chrome]:
    """One headless chromium per test module (tests/browser.py)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("needs Debian's chromium and chromium-driver (installed by .ci/run)")
    with chromium() as chrome:
        yield chrome
