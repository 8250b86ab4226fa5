"""A video made on open, as a person meets it: headless Chromium against a live service.

The render is accepted with `"video": "on_open"`: its run makes the page, poster and tracks
and no video. Opening the fresh link asks for the video; the page plays it as HLS (hls.js,
served by the service) from its first coded scene, a chapter jumps, the pay button over the
video counts once, and the keyboard reaches every button. A bot's visit asks for nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app.access.keys import create_key
from app.customer.stream import HLS_JS, HLS_JS_ROUTE, STATIC, hls_preload
from app.infra.database import Render
from app.infra.services import Services
from app.infra.settings import Settings
from tests.browser.test_microsite import PAY_HOST, PERSON_AGENT, Site, example, open_page
from tests.realparts import free_port

pytestmark = pytest.mark.e2e

BUTTONS = ["a.cta-pay", "form.cta-contact button"]
BOT_AGENT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
PLAYING = "() => { const v = document.querySelector('video'); v.muted = true; return v.play(); }"
ADVANCED = "t => document.querySelector('video').currentTime > t"
WAIT_MS = 120_000  # a bound for a stuck test on a loaded machine, not a timing assertion


def accept(services: Services, app: Flask, bill: dict[str, Any]) -> tuple[str, str]:
    """An on-open render accepted and its page made (the in-process queue runs it)."""
    key = create_key(services.db, "ondemand")
    client = app.test_client()
    response = client.post(
        "/v1/renders",
        json={"template": "bill-explainer", "data": bill, "video": "on_open"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    body = response.get_json()
    assert body["video"] == {"mode": "on_open", "status": "waiting"}
    assert body["links"]["stream"].endswith("/video.m3u8")
    assert services.queue is not None and services.queue.join(timeout=120)  # type: ignore[attr-defined]
    with services.db.session() as session:
        render = session.get(Render, body["id"])
        assert render is not None and render.status == "done", render and render.error
        return render.id, render.token


class OnOpen(Site):
    def video(self, state: str) -> tuple[str | None, int]:
        with self.services.db.session() as session:
            render = session.get(Render, self.tokens[state][0])
            assert render is not None
            return render.video_state, render.video_attempts


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OnOpen]:
    from app.wiring import create_app

    tmp = tmp_path_factory.mktemp("ondemand")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = Settings(data_dir=tmp / "var", public_url=base_url, voice="none")
    app = create_app(settings)
    services: Services = app.extensions["billreel"]
    states = ("play", "bot", "tap")
    tokens = {state: accept(services, app, example("it_overdue")) for state in states}
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield OnOpen(base_url, services, tokens, tmp)
    finally:
        server.shutdown()
        services.db.dispose()


def test_a_fresh_link_plays_jumps_and_acts(site: OnOpen, browser: Any) -> None:
    assert site.video("play") == ("waiting", 0)
    earlier = len(site.events("play"))
    context, page, errors = open_page(browser, site.url("play"), "desktop", user_agent=PERSON_AGENT)
    page.set_default_timeout(WAIT_MS)
    try:
        asked = site.video("play")[0]
        poster = page.evaluate("() => document.querySelector('video').poster")
        page.evaluate(PLAYING)
        page.wait_for_function(ADVANCED, arg=0.2)  # it plays while later scenes are coded
        engine = page.evaluate("() => Boolean(window.Hls)")
        ending = page.locator(".chapters a").nth(6)
        start = float(ending.get_attribute("data-seek") or "nan")
        ending.click()  # the ending: what to do next, maybe not coded yet when clicked
        page.wait_for_function("t => document.querySelector('video').currentTime >= t", arg=start)
        page.wait_for_function("() => !document.querySelector('a.cta-pay').hidden")
        shown = [page.is_visible(b) for b in BUTTONS]
        page.evaluate("() => document.querySelector('video').pause()")
        page.focus("video")
        reached: set[str] = set()
        for _ in range(20):
            if {"cta cta-pay", "cta cta-contact"} <= reached:
                break
            page.keyboard.press("Tab")
            reached.add(page.evaluate(
                "() => { const e = document.activeElement;"
                " return (e.closest('.cta') || e).className; }"))  # fmt: skip
        page.click("a.cta-pay")
        page.wait_for_url(f"{PAY_HOST}**")
    finally:
        context.close()
    assert asked in ("queued", "rendering", "done")  # the open asked for it
    assert poster.endswith("/poster.jpg")
    assert engine  # Chromium has no HLS of its own: hls.js, from the service
    assert shown == [True, True]
    assert {"cta cta-pay", "cta cta-contact"} <= reached, reached
    acted = [e for e in site.events("play")[earlier:] if e[0] in ("pay_click", "cta")]
    assert acted == [("pay_click", None)]
    assert not errors, errors


def test_a_tap_on_play_as_hls_js_arrives_still_plays(site: OnOpen, browser: Any) -> None:
    """The person taps play, and hls.js attaches in the same moment: attaching is a new load,
    which drops the tap's pending `play` event; the player still plays."""
    context = browser.new_context(user_agent=PERSON_AGENT)
    context.set_default_timeout(WAIT_MS)
    hls_js = (STATIC / HLS_JS).read_text(encoding="utf-8")
    # hls.js as served, with the tap as the first thing it runs: the player attaches it
    # right after, in the same task, before the browser dispatches the `play` event.
    tap = "(function () { var v = document.querySelector('video'); v.muted = true; v.play()"
    tap += ".catch(function () {}); })();\n"
    context.route(
        f"**{HLS_JS_ROUTE}{HLS_JS}",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body=tap + hls_js),
    )
    try:
        page = context.new_page()
        response = page.goto(site.url("tap"), wait_until="load")
        preload = response.headers.get("link") if response is not None else None
        page.wait_for_function(ADVANCED, arg=0.2)  # no second tap
    finally:
        context.close()
    assert preload == f"<{HLS_JS_ROUTE}{HLS_JS}>; rel=preload; as=script"


def test_apple_browsers_are_not_sent_hls_js_to_preload() -> None:
    """Safari and every iOS browser play HLS themselves: the page never loads hls.js there."""
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1"
    )
    mac_safari = (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1 Safari/605.1.15"
    )
    mac_chrome = (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
    )
    assert hls_preload(iphone) is None and hls_preload(mac_safari) is None
    assert hls_preload(mac_chrome) is not None and hls_preload(PERSON_AGENT) is not None
    assert hls_preload(None) is not None


def test_a_bot_visit_asks_for_no_video(site: OnOpen, browser: Any) -> None:
    context = browser.new_context(user_agent=BOT_AGENT)
    try:
        page = context.new_page()
        response = page.goto(site.url("bot"), wait_until="load")
        assert response is not None and response.status == 200
        stream = page.request.get(f"{site.url('bot')}/video.m3u8")
        mp4 = page.request.get(f"{site.url('bot')}/video.mp4")
    finally:
        context.close()
    assert stream.status == 404 and mp4.status == 200  # the mp4 link: "being prepared"
    assert site.video("bot") == ("waiting", 0)
