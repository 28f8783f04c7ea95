"""The dashboard page in a real browser (headless Chromium driven by selenium): it shows the
running job's operators and its counts rising, and saves a screenshot for people to look at."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from ferroflow.common import Configuration
from ferroflow.datastream import StreamExecutionEnvironment

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

if not (CHROMIUM and DRIVER):
    if os.environ.get("CI"):
        raise RuntimeError("CI needs chromium and chromium-driver for the dashboard test (.ci/run installs them)")
    pytest.skip("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)", allow_module_level=True)

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

ARTIFACTS = Path(os.environ.get("FERROFLOW_ARTIFACTS") or Path(__file__).resolve().parent.parent / "target" / "artifacts")


def _wait_for(condition, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except Exception:  # noqa: BLE001 - the page may be between two renders
            value = None
        if value:
            return value
        assert time.monotonic() < deadline, "the page never showed it"
        time.sleep(0.1)


def _browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1500,1000"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(DRIVER), options=options)


def test_the_dashboard_shows_the_running_job_and_its_counts_rise() -> None:
    conf = Configuration()
    conf.set_string("rest.port", "0")
    conf.set_string("python.fn-execution.bundle.size", "10")
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(2)
    gate = threading.Event()

    def sink(value: int) -> None:
        if value == 300:
            gate.wait(60)
        time.sleep(0.0005)

    (
        env.from_collection(list(range(4000)))
        .map(lambda x: x * 2)
        .name("double")
        .key_by(lambda x: x % 5)
        .map(lambda x: x // 2)
        .name("halve")
        .add_sink(sink)
        .name("collect")
    )
    client = env.execute_async("dashboard demo")
    browser = _browser()
    try:
        browser.get(client.get_web_url())
        vertex = 'g.vertex[data-name="halve -> collect"]'
        text = _wait_for(lambda: " ".join(e.text for e in browser.find_elements(By.CSS_SELECTOR, "svg g.vertex")))
        for name in ("double", "halve", "collect", "HASH"):
            assert name in browser.find_element(By.ID, "graph").text, name
        assert "dashboard demo" in browser.find_element(By.ID, "job").text

        def count() -> int:
            return int(browser.find_element(By.CSS_SELECTOR, f"{vertex} tspan.in").text)

        held = _wait_for(lambda: count() > 0 and count())
        gate.set()
        _wait_for(lambda: count() > held)
        _wait_for(lambda: "/s)" in text and any(c.isdigit() for c in text))
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "dashboard.png"))
        _wait_for(lambda: count() == 4000)
        _wait_for(lambda: "FINISHED" in browser.find_element(By.ID, "jobs").text)
    finally:
        gate.set()
        browser.quit()
        client.get_job_execution_result().result()
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 10_000
