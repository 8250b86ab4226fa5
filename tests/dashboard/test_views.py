"""`/dashboard`: API-key login, the funnels as inline SVG charts, and how Chromium shows them."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.serving import make_server

from app.access.keys import create_key
from app.dashboard.views import COOKIE, STEP_COLORS
from app.infra.database import ApiKey, utcnow
from app.infra.services import Services
from app.infra.settings import Settings
from tests.eventkit import OVERDUE, beacon, make_batch, request_for, visit
from tests.realparts import CHROMIUM_ARGS, free_port, missing


def fill_batch(client: FlaskClient, auth: dict[str, str], services: Services) -> str:
    """A billing run of ten bills in three tones, with visits, plays, clicks and payments."""
    requests = [request_for(n) for n in range(4)]
    requests += [request_for(n, **OVERDUE) for n in range(4, 8)]
    requests += [request_for(n, **{"data.bill.status": "paid"}) for n in range(8, 10)]
    batch_id, renders = make_batch(client, auth, services, requests, finished_ago=timedelta(days=3))
    for i, render in enumerate(renders):
        if i in (3, 9):
            continue  # never opened
        visit(client, f"/r/{render.token}")
        if i % 3 == 2:
            continue
        beacon(client, render.token, "video_started")
        beacon(client, render.token, "video_progress", "25")
        if i % 2 == 0:
            beacon(client, render.token, "video_progress", "50")
            beacon(client, render.token, "video_completed")
            visit(client, f"/r/{render.token}/pay")
    for render, hours in zip(renders[:4:2] + renders[4:5], (2, 30, 60), strict=True):
        paid_at = (utcnow() - timedelta(hours=72 - hours)).isoformat()
        answer = client.post(
            f"/v1/renders/{render.id}/payments", json={"paid_at": paid_at}, headers=auth
        )
        assert answer.status_code == 201
    return batch_id


def log_in(client: FlaskClient, key: str) -> Any:
    return client.post("/dashboard/login", data={"api_key": key})


def test_login_with_an_api_key_and_a_strict_cookie(
    client: FlaskClient, api_key: str, services: Services
) -> None:
    page = client.get("/dashboard")
    assert page.status_code == 200 and 'name="api_key"' in page.get_data(as_text=True)
    assert "script-src" not in page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"

    assert log_in(client, "brk_not-a-key").status_code == 401
    assert log_in(client, "").status_code == 401
    cross = client.post(
        "/dashboard/login", data={"api_key": api_key}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert cross.status_code == 403

    answer = log_in(client, api_key)
    assert answer.status_code == 303 and answer.headers["Location"] == "/dashboard"
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=") and api_key not in cookie
    for attribute in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/dashboard", "Max-Age="):
        assert attribute in cookie
    listed = client.get("/dashboard").get_data(as_text=True)
    assert "Billing runs" in listed and "Log out" in listed

    # Revoking the key ends its dashboard sessions too.
    with services.db.session() as session:
        for key in session.query(ApiKey):
            key.revoked_at = utcnow()
    assert 'name="api_key"' in client.get("/dashboard").get_data(as_text=True)


def test_batch_page_draws_the_funnels_as_inline_svg(
    client: FlaskClient, auth: dict[str, str], api_key: str, services: Services
) -> None:
    batch_id = fill_batch(client, auth, services)
    assert client.get(f"/dashboard/batches/{batch_id}").status_code == 303  # not logged in
    log_in(client, api_key)
    assert batch_id in client.get("/dashboard").get_data(as_text=True)
    page = client.get(f"/dashboard/batches/{batch_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count("<svg") == 5 and "<script" not in html.lower()
    assert "Opened: 8 (80.0 %)" in html  # the funnel bar's tooltip
    for tone in ("nudge", "pay", "thanks"):
        assert f"Tone: {tone}" in html
    exported = client.get(f"/dashboard/batches/{batch_id}/analytics.csv")
    assert exported.mimetype == "text/csv" and exported.get_data(as_text=True).startswith(
        "dimension,group,step,count,rate"
    )
    # Another key's batch is not found; logging out ends the session.
    other = {"Authorization": f"Bearer {create_key(services.db, 'other')}"}
    theirs, _ = make_batch(client, other, services, [request_for(99)])
    assert client.get(f"/dashboard/batches/{theirs}").status_code == 404
    assert client.post("/dashboard/logout").status_code == 303
    assert client.get(f"/dashboard/batches/{batch_id}").status_code == 303


# --- what marketing sees: Chromium, logged in through the form -----------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    from app.wiring import create_app

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    app: Flask = create_app(
        Settings(data_dir=tmp_path_factory.mktemp("dash") / "var", public_url=base_url),
        start_queue=False,
    )
    services: Services = app.extensions["billreel"]
    key = create_key(services.db, "marketing")
    batch_id = fill_batch(app.test_client(), {"Authorization": f"Bearer {key}"}, services)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base_url, key, batch_id
    finally:
        server.shutdown()
        services.db.dispose()


def test_dashboard_in_chromium(
    live: tuple[str, str, str], chromium_path: str, tmp_path: Path
) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright package")
    base_url, key, batch_id = live
    shot = Path(os.environ.get("DASHBOARD_SCREENSHOT", tmp_path / "dashboard.png"))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            foreign: list[str] = []
            page.on(
                "request", lambda r: None if r.url.startswith(base_url) else foreign.append(r.url)
            )
            page.goto(f"{base_url}/dashboard")
            page.fill("#api_key", key)
            page.click("button[type=submit]")
            page.click(f"a[href='/dashboard/batches/{batch_id}']")
            page.wait_for_load_state("load")
            assert page.locator("h1").inner_text() == f"Batch {batch_id}"
            page.screenshot(path=str(shot), full_page=True)
            # On a phone the page fits the screen: charts scale down, the table scrolls.
            page.set_viewport_size({"width": 390, "height": 844})
            assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
            page.screenshot(path=str(shot.with_name("dashboard-phone.png")), full_page=True)
            page.set_viewport_size({"width": 1280, "height": 900})
            boxes = [svg.bounding_box() for svg in page.locator("svg").all()]
            assert len(boxes) == 5 and all(
                b and b["width"] > 200 and b["height"] > 100 for b in boxes
            )
        finally:
            browser.close()
    assert errors == [] and foreign == []
    # Every step's colour is on screen: the bars were drawn, not just written.
    image = Image.open(shot).convert("RGB")
    colours = {colour for _, colour in image.getcolors(maxcolors=1 << 20) or []}
    for step, hex_colour in STEP_COLORS.items():
        rgb = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        assert rgb in colours, step
    print(f"dashboard screenshot: {shot}")
