"""End to end: the real page in headless Chromium (Debian's `chromium`, driven by Playwright for Python).

Checks that the charts render with data, that changing a picker changes them and the URL, that a URL
restores the view, that a simulation runs from the page, and that the page asks for nothing beyond
this server. Skipped, with the reason, when Chromium or Playwright is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator

import pytest

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("INFERONOMICS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHARTS = ("frontier", "roofline", "breakdown", "memory", "prices")
WAIT_MS = 300_000
"""How long a wait on a condition may take: an uncached frontier runs in a worker process, which on a loaded
2-core machine can take minutes; waits end as soon as their condition holds (nothing here asserts time)."""


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    uvicorn = pytest.importorskip("uvicorn")
    from inferonomics.web import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    end = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > end or not thread.is_alive():
            pytest.fail("the web server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    app.state.jobs.cancel_all()
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python) is in the test extra")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (or set INFERONOMICS_CHROMIUM)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _open(browser, origin: str):
    """A page that records console errors and every request that leaves `origin` (and blocks it)."""
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    page.errors = []
    page.outside = []

    def route(r):
        if r.request.url.startswith(origin + "/"):
            r.continue_()
        else:
            page.outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return page


def _trace_lengths(page, chart: str) -> list[int]:
    return page.evaluate(f"document.getElementById('chart-{chart}').data.map(t => (t.x || []).length)")


def test_page_renders_charts_and_follows_the_pickers(browser, server_url: str) -> None:
    page = _open(browser, server_url)
    page.goto(f"{server_url}/?model=Llama-3.1-8B&hardware=h100_sxm&sheet=openai/gpt-4o")
    for c in CHARTS:
        page.wait_for_selector(f"#chart-{c}[data-version='1']", timeout=WAIT_MS)
    # the charts hold data: the frontier's Pareto trace and the roofline's operators have points
    assert max(_trace_lengths(page, "frontier")) > 10
    assert len(_trace_lengths(page, "roofline")) >= 2 and sum(_trace_lengths(page, "roofline")) > 4
    assert page.evaluate("document.querySelectorAll('#chart-frontier .scatterlayer .point').length") > 10
    title = page.evaluate("document.getElementById('chart-frontier').layout.title.text")
    assert title.startswith("Llama-3.1-8B on h100_sxm")
    assert page.locator("#predict-table").inner_text().count("ms") >= 2
    assert "openai/gpt-4o" in page.locator("#price-headline").inner_text()
    before = page.evaluate("JSON.stringify(document.getElementById('chart-frontier').data[1].y)")

    # change the model picker: every chart redraws for the new model, and the URL follows
    page.fill("#model", "Llama-3.1-70B")
    page.dispatch_event("#model", "change")
    for c in CHARTS:
        page.wait_for_selector(f"#chart-{c}[data-version='2']", timeout=WAIT_MS)
    title = page.evaluate("document.getElementById('chart-frontier').layout.title.text")
    assert title.startswith("Llama-3.1-70B on h100_sxm")
    assert page.evaluate("JSON.stringify(document.getElementById('chart-frontier').data[1].y)") != before
    assert "model=Llama-3.1-70B" in page.url

    # a bad value shows the API's message naming the field, not a blank page
    page.fill("#hardware", "h100_sxmm")
    page.dispatch_event("#hardware", "change")
    page.wait_for_selector("#error:not([hidden])", timeout=WAIT_MS)
    assert "hardware" in page.locator("#error").inner_text()

    assert page.outside == [], f"the page asked the internet for {page.outside}"
    assert page.errors == [] or all("400" in e for e in page.errors), page.errors
    page.close()


def test_url_restores_view_and_simulation_runs(browser, server_url: str) -> None:
    page = _open(browser, server_url)
    page.goto(f"{server_url}/?model=Llama-3.1-8B&tp=2&isl=512&osl=128&sim_n=300&sim_rate=8")
    page.wait_for_selector("#chart-memory[data-version='1']", timeout=WAIT_MS)
    assert page.input_value("#model") == "Llama-3.1-8B" and page.input_value("#tp") == "2"
    assert page.input_value("#isl") == "512" and page.input_value("#sim-n") == "300"
    assert "TP2" in page.locator("#predict-table").inner_text()
    page.click("#sim-run")
    page.wait_for_selector("#chart-cdf[data-version='1']", timeout=WAIT_MS)
    assert max(_trace_lengths(page, "cdf")) > 10 and max(_trace_lengths(page, "kv")) > 10
    assert "300 completed" in page.locator("#sim-summary").inner_text()
    assert page.outside == [] and page.errors == [], (page.outside, page.errors)
    page.close()


def _version(page, chart: str) -> int:
    return int(page.evaluate(f"document.getElementById('chart-{chart}').dataset.version || '0'"))


def _poll(page, condition, timeout_s: float = WAIT_MS / 1e3) -> None:
    """Wait for `condition()` (the page's CSP forbids Playwright's in-page wait_for_function); the
    page's own wait keeps Playwright's events flowing, so page.url follows history.replaceState."""
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            pytest.fail("the page did not reach the expected state")
        page.wait_for_timeout(100)


def test_disaggregated_pools_from_the_page(browser, server_url: str) -> None:
    """The Serving picker switches the prediction to separate prefill and decode pools; the URL keeps
    the pools, and switching back hides them."""
    page = _open(browser, server_url)
    page.goto(f"{server_url}/?model=Llama-3.1-8B&mode=disagg&p_tp=1&d_n=2&d_tp=2")
    page.wait_for_selector("#chart-breakdown[data-version='1']", timeout=WAIT_MS)
    assert page.is_visible("#pools") and page.input_value("#d-n") == "2"
    text = page.locator("#predict-table").inner_text()
    assert "prefill: 1 x" in text and "decode: 2 x" in text, text
    assert "prefill pool memory per GPU" in text and "KV transfer per request" in text
    assert page.locator("#predict-table").inner_text().count("ms") >= 3

    page.fill("#d-tp", "1")
    page.dispatch_event("#d-tp", "change")
    _poll(page, lambda: "d_tp=1" in page.url)

    version = _version(page, "breakdown")
    page.select_option("#mode", "agg")
    _poll(page, lambda: _version(page, "breakdown") > version)
    _poll(page, lambda: "prefill pool" not in page.locator("#predict-table").inner_text())
    assert not page.is_visible("#pools")
    assert "mode=" not in page.url  # aggregated is the default
    assert page.outside == [] and page.errors == [], (page.outside, page.errors)
    page.close()


_TEXT_BOXES_JS = """(id) => {
  const el = document.getElementById(id);
  const b = el.getBoundingClientRect();
  const texts = [...el.querySelectorAll("svg.main-svg text")]
    .filter((t) => t.textContent.trim() && !t.closest(".hoverlayer"))
    .map((t) => ({ text: t.textContent.trim(), r: t.getBoundingClientRect() }))
    .filter((t) => t.r.width > 0 && t.r.height > 0)
    .map((t) => ({ text: t.text, x0: t.r.left, y0: t.r.top, x1: t.r.right, y1: t.r.bottom }));
  return { box: { x0: b.left, y0: b.top, x1: b.right, y1: b.bottom }, texts };
}"""


@pytest.mark.parametrize("width", [1400, 390])
def test_chart_text_neither_overlaps_nor_leaves_the_chart(browser, server_url: str, width: int) -> None:
    """Every text of the main charts (titles, axis titles, tick labels, legend entries, annotations,
    values on bars) lies inside its chart, and no two overlap, on a desktop and on a phone."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{server_url}/?model=Llama-3.1-70B&hardware=h100_sxm&sheet=openai/gpt-4o")
    for c in CHARTS:
        page.wait_for_selector(f"#chart-{c}[data-version='1']", timeout=WAIT_MS)
    problems = []
    for c in CHARTS:
        got = page.evaluate(_TEXT_BOXES_JS, f"chart-{c}")
        box, texts = got["box"], got["texts"]
        assert len(texts) >= 4, (c, texts)
        for t in texts:
            if t["x0"] < box["x0"] - 1 or t["x1"] > box["x1"] + 1 or t["y0"] < box["y0"] - 1 or t["y1"] > box["y1"] + 1:
                problems.append(f"{c}: {t['text']!r} leaves the chart")
        for i, a in enumerate(texts):
            for b in texts[i + 1 :]:
                dx = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
                dy = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"])
                if dx > 1 and dy > 1:
                    problems.append(f"{c}: {a['text']!r} overlaps {b['text']!r}")
    page.close()
    assert not problems, problems


def test_simulation_and_search_cards_stay_collapsed_until_used(browser, server_url: str) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{server_url}/?model=Llama-3.1-8B")
    page.wait_for_selector("#chart-memory[data-version='1']", timeout=WAIT_MS)
    for card in ("#sim-run", "#search-run"):
        height = page.evaluate(f"document.querySelector('{card}').closest('section').getBoundingClientRect().height")
        assert height < 250, (card, height)  # was ~450 px each with empty charts
    assert not page.is_visible("#chart-pareto") and not page.is_visible("#chart-cdf")
    page.close()


def test_chip_hour_price_from_the_page_prices_a_system_without_a_public_price(browser, server_url: str) -> None:
    """A system with no public rental price (H800) cannot be priced until the user gives a USD per
    chip-hour on the page; then the price sheet and the frontier draw, and the URL keeps the price."""
    page = _open(browser, server_url)
    page.goto(f"{server_url}/?model=Llama-3.1-8B&hardware=h800_sxm&tp=1")
    _poll(page, lambda: "no public rental price" in page.locator("#error").inner_text())
    assert _version(page, "prices") == 0
    page.fill("#usd", "2")
    page.dispatch_event("#usd", "change")
    _poll(page, lambda: _version(page, "prices") > 0 and _version(page, "frontier") > 0, timeout_s=WAIT_MS / 1e3)
    assert "usd=2" in page.url
    _poll(page, lambda: not page.is_visible("#error"))
    assert "2 USD per chip-hour" in page.locator("#frontier-notes").inner_text()
    # the only console errors are the 400s of the first load, before the price was given
    assert all("status of 400" in e for e in page.errors), page.errors
    page.close()
