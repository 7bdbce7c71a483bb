"""The `shieldlab serve` page in a real browser: Debian's Chromium driven by Playwright, against the real
server (uvicorn on a free 127.0.0.1 port, in a thread).

Skipped when /usr/bin/chromium (Debian package `chromium`) or the Python package `playwright` is missing;
Playwright's own browser download is never used (it needs the internet). Every request the page makes is
recorded, and the test fails if any left 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("SHIELDLAB_CHROMIUM", "/usr/bin/chromium")
if not Path(CHROMIUM).exists():
    pytest.skip(f"browser tests need Chromium at {CHROMIUM} (Debian: apt-get install -y chromium)",
                allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="browser tests need `pip install playwright` (no browser download)")
pytest.importorskip("uvicorn")
pytest.importorskip("fastapi")

import uvicorn  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from shieldlab.web.app import create_app  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
RUN_TIMEOUT_S = 120.0  # a guard against a hung page, not a timing assertion

# the file given on the command line: the Kozelsk example with the Polish SM-3 IIB cued by launch warning,
# so that it has intercepts (with the track cue of the example file it has none)
SCENARIO_CHANGES = (('cue = "track"', 'cue = "launch"'),)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    text = (EXAMPLES / "kozelsk-washington.toml").read_text(encoding="utf-8")
    for old, new in SCENARIO_CHANGES:
        assert old in text
        text = text.replace(old, new, 1)
    d = tmp_path_factory.mktemp("serve")
    f = d / "kozelsk-launch-cue.toml"
    f.write_text(text, encoding="utf-8")
    port = _free_port()
    app = create_app(initial_scenario_path=f, examples_dir=EXAMPLES, allowed_hosts=["127.0.0.1", "localhost"])
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    t0 = time.monotonic()
    while not srv.started:
        if not th.is_alive() or time.monotonic() - t0 > 30:
            pytest.fail("the server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    th.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    """A page that records every request; requests leaving the server are aborted and fail the test."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = ctx.new_page()
    outside, errors = [], []

    def route(r):
        url = r.request.url
        if url.startswith((server + "/", "data:")):
            r.continue_()
        else:
            outside.append(url)
            r.abort()

    ctx.route("**/*", route)
    pg.on("request", lambda r: None if r.url.startswith((server + "/", "data:")) else outside.append(r.url))
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" and not _expected(m.text) else None)
    pg.base = server
    yield pg
    ctx.close()
    assert not outside, f"requests left 127.0.0.1: {outside}"
    assert not errors, f"JavaScript or console errors: {errors}"


def _expected(text: str) -> bool:
    """Console errors the tests cause on purpose: the 422 answers to malformed input."""
    return "status of 422" in text


def wait_run(pg, n: int, state: str = "ready"):
    """Wait for the page's n-th finished run and check its state. (Polled from here: the page's
    Content-Security-Policy forbids the eval that Playwright's wait_for_function needs.)"""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        done, got = pg.evaluate("[Number(document.body.dataset.run || 0), document.body.dataset.state]")
        if done >= n and got in ("ready", "error"):
            break
        assert time.monotonic() < deadline, f"run {n} did not finish (state {got})"
        pg.wait_for_timeout(100)
    assert got == state, f"state {got}: {pg.inner_text('#errors') if got == 'error' else ''}"


def runs(pg) -> int:
    return int(pg.evaluate("Number(document.body.dataset.run || 0)"))


def test_page_runs_the_file_and_shows_intercepts(page):
    page.goto(page.base + "/")
    wait_run(page, 1)
    assert page.input_value("#example") == "kozelsk-launch-cue"
    assert "Kozelsk" in page.inner_text("#scenario-title")
    # the map: base map, tracks, radar outlines, sites, intercepts
    assert page.locator(".threat-track").count() >= 3
    assert page.locator(".radar-marker").count() == 3
    assert page.locator(".battery-marker").count() == 2  # three batteries on two sites
    markers = page.locator(".leaflet-marker-pane .intercept-marker")  # first and last, per feasible pair
    assert markers.count() >= 6
    assert page.locator(".intercept-window").count() >= 3
    assert page.locator(".detection-marker").count() >= 3
    card = page.locator('.threat[data-threat="kozelsk-washington"]')
    text = card.inner_text()
    for words in ("launch", "burnout", "first detection by fylingdales", "poland-iib: interceptor launch",
                  "poland-iib: first intercept", "impact"):
        assert words in text
    assert "romania-iia: no intercept" in text  # the reason text when there is none

    # a huge launch delay: no intercept by poland-iib any more, and the timeline says why
    before = card.inner_text()
    page.fill("#ovr-battery-delay-poland-iib", "5000")
    n = runs(page)
    page.click("#run")
    wait_run(page, n + 1)
    after = card.inner_text()
    assert after != before
    assert "poland-iib: first intercept" not in after
    assert "poland-iib: no intercept — reachable, but not in time" in after
    assert markers.count() == 0  # the other batteries are cued by track and were never in time

    # back to the file's values, then a faster interceptor: intercepts come no later
    page.click("#reset")
    page.click("#run")
    wait_run(page, n + 2)
    first = _first_intercept_s(card.inner_text(), "poland-iib")
    page.fill("#ovr-interceptor-speed-sm3-iib", "7.5")
    page.click("#run")
    wait_run(page, n + 3)
    assert _first_intercept_s(card.inner_text(), "poland-iib") <= first


def _first_intercept_s(text: str, battery: str) -> float:
    m = re.search(r"([\d.]+) s\s+" + re.escape(battery) + r": first intercept", text)
    assert m, text
    return float(m.group(1))


def test_example_switch_coverage_and_errors(page):
    page.goto(page.base + "/")
    wait_run(page, 1)
    # the plain example file: track-cued batteries cannot intercept
    n = runs(page)
    page.select_option("#example", "kozelsk-washington")
    wait_run(page, n + 1)
    assert page.locator(".leaflet-marker-pane .intercept-marker").count() == 0
    assert "no intercept" in page.inner_text("#results")

    # a coverage example: the aim grid is drawn, coloured by which batteries can engage
    n = runs(page)
    page.select_option("#example", "coverage-us-east")
    wait_run(page, n + 1)
    assert page.locator(".coverage-cell").count() == 189
    assert not page.locator("#coverage-box").is_hidden()
    assert "poland-iib" in page.inner_text("#coverage-summary")
    assert "poland-iib" in page.inner_text("#legend")

    # a malformed scenario: the loader's message appears on the page
    page.click("#toml-box summary")
    toml = page.input_value("#toml")
    page.fill("#toml", toml.replace('launch_delay = "60 s"', 'launch_delay = "-60 s"', 1))
    n = runs(page)
    page.click("#run")
    wait_run(page, n + 1, state="error")
    msg = page.inner_text("#errors")
    assert "launch_delay" in msg and "poland-iib" in msg
    # and a bad parameter value: the override's message
    page.fill("#toml", toml)
    page.click("#run")
    wait_run(page, n + 2)
    page.fill("#ovr-sensor-range-thule", "-3")
    page.click("#run")
    wait_run(page, n + 3, state="error")
    assert "max_range_km" in page.inner_text("#errors")


def test_screenshot_is_taken(page, tmp_path):
    """Not an assertion about looks: a screenshot of a finished run can be written (kept on failure)."""
    page.goto(page.base + "/?example=kozelsk-launch-cue")
    wait_run(page, 1)
    out = tmp_path / "serve.png"
    page.screenshot(path=str(out))
    assert out.stat().st_size > 20_000
    if os.environ.get("SHIELDLAB_SCREENSHOT"):
        shutil.copy(out, os.environ["SHIELDLAB_SCREENSHOT"])
