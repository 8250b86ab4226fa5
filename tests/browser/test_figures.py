"""The figures page in real Chromium against a live service: a credit manager logs in, picks
a run and a dimension with the page's own form, and sees the three charts drawn, with no
script and nothing the page's CSP refuses. The screenshots go to docs/images/figures-*.png
with FIGURES_SCREENSHOTS=docs (docs/collection.md shows one), else to a temporary folder."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.collection.kit import Book, book_app
from tests.paths import REPO_ROOT
from tests.realparts import free_port

pytestmark = pytest.mark.e2e

IMAGES = (
    REPO_ROOT / "docs" / "images"
    if os.environ.get("FIGURES_SCREENSHOTS") == "docs"
    else Path(tempfile.gettempdir()) / "billreel-figures-screenshots"
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Book]]:
    booked = book_app(tmp_path_factory.mktemp("figures"))
    app, book = next(booked)
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}", book
    finally:
        server.shutdown()
        booked.close()


def test_a_credit_manager_reads_a_runs_figures_and_groups_them_by_step(
    live: tuple[str, Book], browser: Any
) -> None:
    base_url, book = live
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base_url}/dashboard")
    page.fill("#api_key", book.secret)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")
    page.click("text=Figures")
    page.select_option("#batch", book.run_b)
    page.click("form.picker button[type=submit]")
    page.wait_for_url(f"**/dashboard/figures?by=batch&batch={book.run_b}")
    charts = page.locator("section.card svg")
    assert charts.count() == 3
    for i in range(3):
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 150
    curve = page.locator("svg polyline").first.get_attribute("points") or ""
    assert len(curve.split()) > 60  # a step per day over 60 days
    assert "+4.1 d vs previous run" in page.inner_text("table")
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / "figures-run.png"), full_page=True)

    page.select_option("#by", "step")
    page.click("form.picker button[type=submit]")
    page.wait_for_url("**/dashboard/figures?by=step*")
    rows = page.locator("table").first.locator("tbody tr")
    assert rows.count() == 4 and "gentle#2 nudge" in rows.nth(1).inner_text()
    page.screenshot(path=str(IMAGES / "figures-by-step.png"), full_page=True)
    assert errors == []
    context.close()
