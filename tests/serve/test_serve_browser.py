"""The web page in a real browser: headless Chromium from the system packages, driven by Selenium through
the system chromedriver (nothing is downloaded). It picks a user and sees ten titled recommendations with
explanation bars, searches "star wars" and sees its neighbours, creates a new user and sees their list.

``make test`` installs chromium and chromium-driver when they are missing and apt is usable; otherwise this
test skips with one line. ``GRAPHREC_SERVE_URL`` points it at a running server instead of the tiny one it
starts (``GRAPHREC_SCREENSHOT``: where to save the page, e.g. docs/img/serve.png).
"""
import os
import shutil
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="graphrec serve needs the serve extra: pip install -e .[serve]")
pytest.importorskip("selenium", reason="the browser test needs selenium (the dev extra)")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None)


@pytest.fixture
def browser(tmp_path):
    if not (CHROMIUM and DRIVER):
        pytest.skip("no system chromium + chromedriver (make test installs them with apt when run as root)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def test_the_page_in_chromium(browser, serve_runs, live_server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from graphrec.serve import Registry, create_app

    url = os.environ.get("GRAPHREC_SERVE_URL")
    if url:
        return drive(browser, url, os.environ.get("GRAPHREC_SCREENSHOT") or tmp_path / "serve.png")
    registry = Registry.load([serve_runs["sage"], serve_runs["neumf"]])  # the first answers users, with groups
    with live_server(create_app(registry)) as server:
        drive(browser, server.url, tmp_path / "serve.png")
        # switching runs: the NeuMF run answers the same user, and says so
        Select(browser.find_element(By.ID, "run-select")).select_by_value("neumf")
        browser.find_element(By.ID, "recommend-btn").click()
        WebDriverWait(browser, 20).until(
            lambda d: registry.runs["neumf"].id in d.find_element(By.ID, "recs-note").text)


def drive(browser, url: str, screenshot) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 30)
    browser.get(url)
    wait.until(lambda d: d.find_element(By.ID, "run-select").find_elements(By.TAG_NAME, "option"))
    user = browser.find_element(By.ID, "user-input")
    user.clear()
    user.send_keys("7")
    browser.find_element(By.ID, "recommend-btn").click()
    recs = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#recs li.rec") or None)
    assert len(recs) == 10
    assert all(r.find_element(By.CLASS_NAME, "title").text for r in recs)
    assert all(r.find_elements(By.CSS_SELECTOR, ".bar") for r in recs)  # explanation bars beside each movie
    assert "user 7" in browser.find_element(By.ID, "recs-note").text

    browser.find_element(By.ID, "search-input").send_keys("star wars")
    browser.find_element(By.ID, "search-btn").click()
    neighbours = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#neighbours li") or None)
    assert len(neighbours) == 10 and "Star Wars" in browser.find_element(By.ID, "matches").text
    assert "Star Wars" not in neighbours[0].text

    browser.find_element(By.ID, "liked-input").send_keys("fargo")
    browser.find_element(By.ID, "liked-add").click()  # adding a liked title posts the new user
    new = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#new-recs li.rec") or None)
    assert len(new) == 10 and "Fargo" in browser.find_element(By.ID, "liked").text
    assert all("Fargo" not in x.text for x in new)
    assert browser.find_element(By.ID, "error").get_attribute("hidden") is not None
    browser.save_screenshot(str(screenshot))
    assert Path(screenshot).stat().st_size > 0
