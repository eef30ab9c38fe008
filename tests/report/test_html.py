"""A real browser: Debian's Chromium, driven by Selenium, opens index.html from disk.

Nothing is downloaded: the browser and driver are the system packages ``chromium`` and
``chromium-driver``, and the page must draw every figure with no network at all.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[webdriver.Chrome]:
    """Headless Chromium with a throwaway profile; Selenium Manager stays offline."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail("install the system packages chromium and chromium-driver")
    monkeypatch.setenv("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-dev-shm-usage", "--window-size=1280,1000",
                 f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def test_page_draws_every_figure(grid_report: dict, browser: webdriver.Chrome,
                                 tmp_path: Path) -> None:
    page = Path(grid_report["out_dir"]) / "index.html"
    browser.get(page.resolve().as_uri())
    names = list(grid_report["figures"])
    assert names, "the report has no figures"

    def drawn(driver: webdriver.Chrome) -> bool:
        return all(driver.find_elements(By.CSS_SELECTOR, f"#figure-{name} svg.main-svg")
                   for name in names)

    WebDriverWait(browser, 30).until(drawn)
    for name in names:
        traces = browser.find_elements(
            By.CSS_SELECTOR, f"#figure-{name} .cartesianlayer .trace, #figure-{name} .parcoords")
        assert traces, f"figure {name} has no drawn data"
    verdict = browser.find_element(By.CSS_SELECTOR, "ul.verdict").text
    assert "What explains the gap: padding and mask_zero" in verdict
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not severe, severe

    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(1280, min(int(height) + 100, 16000))
    shot = tmp_path / "index.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
