"""What a user sees: `serve` on loopback over a small study, opened in headless Chromium.

Uses Debian's chromium and chromedriver (never a downloaded browser). optuna-dashboard shows the
published figures on the study's main page, the verdict on its Note page and the trials on Trials.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import optuna
import plotly.graph_objects as go
import pytest
from optuna.distributions import CategoricalDistribution
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from sweep.dashboard import publish

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
GAP_TITLE = "Flatten minus last-state accuracy gap"
VERDICT = "The Flatten head wins only with post-padding"
HEADS = ["flatten", "last", "flatten", "last"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """(base URL, study id) of `serve` running in a subprocess over a freshly published study."""
    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="flatten-gap-demo", storage=url,
                                direction="maximize")
    heads = {"head": CategoricalDistribution(["flatten", "last"])}
    for i, head in enumerate(HEADS):
        study.add_trial(optuna.trial.create_trial(params={"head": head}, distributions=heads,
                                                  value=0.6 + 0.05 * i))
    gap = go.Figure(go.Bar(x=["pre", "post"], y=[0.01, 0.12]),
                    layout={"title": {"text": GAP_TITLE}})
    publish(study, {"flatten_gap": gap}, f"## Verdict\n\n{VERDICT}.")

    port = free_port()
    log = tmp_path / "serve.log"  # a file, not a pipe: the access log must never block the server
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-c", "import sys; from sweep.dashboard import serve; "
             "serve(sys.argv[1], port=int(sys.argv[2]))", url, str(port)],
            stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/studies", timeout=2).close()
                break
            except OSError as err:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"dashboard did not start:\n{log.read_text()}") from err
                time.sleep(0.2)
        yield base, study._study_id
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1400,2000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def wait_for_text(driver: webdriver.Chrome, text: str, timeout: float = 30) -> None:
    WebDriverWait(driver, timeout).until(
        lambda d: text in d.find_element(By.TAG_NAME, "body").text,
        f"{text!r} never appeared on {driver.current_url}")


def test_the_dashboard_shows_trials_the_gap_figure_and_the_verdict(
        dashboard: tuple[str, int], browser: webdriver.Chrome, tmp_path: Path) -> None:
    base, study_id = dashboard
    browser.get(f"{base}/dashboard")
    wait_for_text(browser, "flatten-gap-demo")
    browser.find_element(By.PARTIAL_LINK_TEXT, "flatten-gap-demo").click()
    WebDriverWait(browser, 30).until(
        lambda d: d.current_url.rstrip("/").endswith(f"/dashboard/studies/{study_id}"))

    wait_for_text(browser, GAP_TITLE)
    graph = browser.find_element(By.ID, "user-defined-plot:sweep-flatten_gap")
    assert graph.is_displayed() and graph.find_elements(By.CSS_SELECTOR, "svg.main-svg")
    browser.save_screenshot(str(tmp_path / "study.png"))

    browser.get(f"{base}/dashboard/studies/{study_id}/trials")
    wait_for_text(browser, f"{len(HEADS)} Trials")
    body = browser.find_element(By.TAG_NAME, "body").text
    assert all(f"Trial {number}" in body for number in range(len(HEADS)))

    browser.get(f"{base}/dashboard/studies/{study_id}/note")
    wait_for_text(browser, VERDICT)
    browser.save_screenshot(str(tmp_path / "note.png"))
    print(f"screenshots: {tmp_path / 'study.png'} {tmp_path / 'note.png'}")
