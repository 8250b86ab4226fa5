"""The player as a person uses it: headless Chromium against a live service.

Each page is the real renderer's, with the real timeline of the bill's scenes (planned,
not drawn); a plain ffmpeg clip as long as those scenes stands in for the video. Chapters
seek, the buttons over the video come and go with the pay scene and count as the page's,
the keyboard reaches them, and with scripts off the page is a plain video with its tracks.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app.access.keys import create_key
from app.delivery.links import site_links
from app.infra.database import Render
from app.infra.services import Services
from app.infra.settings import Settings
from app.infra.storage import CONTENT_TYPES, output_key
from app.rendering.job import run_render_with
from renderers.microsite import SitePage, render_html
from renderers.story import facts
from renderers.templates import load_bundle
from renderers.timeline import Timeline
from renderers.video.chapters import video_timeline, write_chapters
from renderers.video.formats import get_format
from tests.browser.test_microsite import AXE, PAY_HOST, WCAG_TAGS, Site, example, open_page
from tests.realparts import free_port, missing, require
from tests.videokit import plan

pytestmark = pytest.mark.e2e

BUTTONS = ["a.cta-pay", "form.cta-instalments button", "form.cta-contact button"]
MIN_TARGET_PX = 44  # WCAG 2.5.5: a thumb-sized target
PLAYING = "() => { const v = document.querySelector('video'); v.muted = true; return v.play(); }"


def bills() -> dict[str, dict[str, Any]]:
    firm = example("it_overdue")
    firm["customer"]["segment"] = "chronic"
    return {"firm": firm, "paid": example("en_paid")}


def stand_in(directory: Path, seconds: float) -> tuple[Path, Path]:
    """A small clip with sound, as long as the planned video, and its poster."""
    ffmpeg, video, poster = require("ffmpeg"), directory / "video.mp4", directory / "poster.jpg"
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=10",
         "-f", "lavfi", "-i", "sine=frequency=440", "-t", f"{seconds:.3f}", "-c:v", "libx264",
         "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags",
         "+faststart", str(video)],
        check=True, timeout=120,
    )  # fmt: skip
    subprocess.run([ffmpeg, "-v", "error", "-y", "-i", str(video), "-frames:v", "1", str(poster)],
                   check=True, timeout=60)  # fmt: skip
    return video, poster


def publish(
    services: Services, app: Flask, bill: dict[str, Any], tmp: Path
) -> tuple[tuple[str, str], Timeline]:
    """Accept and render the microsite, then store the video page, its tracks and a clip."""
    key = create_key(services.db, "player")
    response = app.test_client().post(
        "/v1/renders",
        json={"template": "bill-explainer", "data": bill, "outputs": ["microsite"]},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    render_id: str = response.get_json()["id"]
    assert run_render_with(services, render_id) == "done"
    with services.db.session() as session:
        render = session.get(Render, render_id)
        assert render is not None
        token, stored = render.token, render.bill
        render.outputs = ["video", "microsite"]
    bundle = load_bundle("bill-explainer")
    the_facts = facts(stored, bundle.locale)
    narration = bundle.narration.filled(the_facts.locale, the_facts.placeholders())
    timeline = video_timeline(plan(stored, bundle, tmp), narration, get_format("16:9"),
                              payable=the_facts.asks_payment)  # fmt: skip
    html = render_html(the_facts, SitePage(bundle.microsite_dir, bundle.messages),
                       site_links(token, stored), with_video=True, bill=stored,
                       timeline=timeline)  # fmt: skip
    captions = tmp / "captions.vtt"
    captions.write_text("WEBVTT\n\n00:00.000 --> 00:02.000\nHello\n", "utf-8")
    video, poster = stand_in(tmp, timeline.duration)
    files = {
        "site/index.html": tmp / "index.html",
        "video.mp4": video,
        "poster.jpg": poster,
        "captions.vtt": captions,
        "chapters.vtt": write_chapters(timeline, tmp / "chapters.vtt"),
    }
    files["site/index.html"].write_text(html, "utf-8")
    for name, path in files.items():
        services.storage.put_file(
            output_key(render_id, name), path, content_type=CONTENT_TYPES[name],
            cache_control="no-cache",
        )  # fmt: skip
    return (render_id, token), timeline


class Player(Site):
    timelines: dict[str, Timeline]

    def ending(self, state: str) -> tuple[float, float]:
        chapter = next(c for c in self.timelines[state].chapters if c.scene == "ending")
        return chapter.start, chapter.end


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Player]:
    from app.wiring import create_app

    tmp = tmp_path_factory.mktemp("player")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    app = create_app(Settings(data_dir=tmp / "var", public_url=base_url), start_queue=False)
    services: Services = app.extensions["billreel"]
    tokens, timelines = {}, {}
    for state, bill in bills().items():
        (tmp / state).mkdir()
        tokens[state], timelines[state] = publish(services, app, bill, tmp / state)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        player = Player(base_url, services, tokens, tmp)
        player.timelines = timelines
        yield player
    finally:
        server.shutdown()
        services.db.dispose()


def at(page: Any, seconds: float) -> None:
    """Put the paused video at `seconds` and wait until the player has caught up."""
    page.evaluate(
        """async t => { const v = document.querySelector('video'); v.pause();
        const once = (name, start) => new Promise(done => {
          v.addEventListener(name, () => setTimeout(done, 0), {once: true}); start(); });
        if (v.readyState < 1) {
          v.preload = 'metadata'; await once('loadedmetadata', () => v.load()); }
        await once('seeked', () => { v.currentTime = t; }); }""",
        seconds,
    )


def test_chapters_and_bill_lines_seek_the_video(site: Player, browser: Any) -> None:
    context, page, errors = open_page(browser, site.url("firm"))
    try:
        start, _ = site.ending("firm")
        page.evaluate("() => { document.querySelector('video').muted = true; }")
        page.locator(".chapters a").nth(6).click()  # the ending: what to do next
        page.wait_for_function("t => document.querySelector('video').currentTime >= t", arg=start)
        current = page.locator(".chapters a[aria-current]").inner_text()
        captions = page.evaluate("() => document.querySelector('video').textTracks[0].mode")
        at(page, 1)
        page.locator(".lines tbody a").first.click()
        lines_at = site.timelines["firm"].lines_at
        assert lines_at is not None
        page.wait_for_function(
            "t => Math.abs(document.querySelector('video').currentTime - t) < 1.5", arg=lines_at
        )
    finally:
        context.close()
    assert "Cosa fare ora" in current  # the chapter playing is marked, in Italian
    assert captions == "showing"  # the template's track is `default`: captions on
    assert not errors, errors


def test_buttons_show_in_the_pay_scene_and_count_once(site: Player, browser: Any) -> None:
    start, end = site.ending("firm")
    earlier = len(site.events("firm"))
    context, page, errors = open_page(browser, site.url("firm"))
    try:
        at(page, start - 1)
        before = [page.is_visible(b) for b in BUTTONS]
        at(page, start + 1)
        shown = [page.is_visible(b) for b in BUTTONS]
        sizes = [page.locator(b).bounding_box() for b in BUTTONS]
        group = page.get_by_role("group", name="Cosa puoi fare ora")
        names = [group.get_by_role(r, name=n).count() for r, n in
                 [("link", "Paga"), ("button", "Chiedi una rateizzazione"),
                  ("button", "Contattaci")]]  # fmt: skip
        at(page, end + 0.5)
        after = [page.is_visible(b) for b in BUTTONS]
        at(page, start + 1)
        page.click("a.cta-pay")
        page.wait_for_url(f"{PAY_HOST}**")
        page.go_back(wait_until="load")
        at(page, start + 1)
        page.click("form.cta-instalments button")
        page.wait_for_url("**#done-instalments")
    finally:
        context.close()
    assert before == [False] * 3 and shown == [True] * 3 and after == [False] * 3
    assert all(s and s["width"] >= MIN_TARGET_PX and s["height"] >= MIN_TARGET_PX for s in sizes)
    assert names == [1, 1, 1]  # announced by role and name, in the customer's language
    acted = [e for e in site.events("firm")[earlier:] if e[0] in ("pay_click", "cta")]
    assert acted == [("pay_click", None), ("cta", "instalments")]
    assert not errors, errors


def test_the_keyboard_reaches_every_button(site: Player, browser: Any) -> None:
    start, _ = site.ending("firm")
    context, page, _ = open_page(browser, site.url("firm"))
    try:
        at(page, start + 1)
        page.focus("video")
        reached: set[str] = set()
        for _ in range(20):
            if {"cta cta-pay", "cta cta-instalments", "cta cta-contact"} <= reached:
                break
            page.keyboard.press("Tab")
            reached.add(page.evaluate(
                "() => { const e = document.activeElement;"
                " return (e.closest('.cta') || e).className; }"))  # fmt: skip
        at(page, start + 1)
        page.focus("form.cta-contact button")
        page.keyboard.press("Enter")
        page.wait_for_url("**#done-contact")
    finally:
        context.close()
    assert {"cta cta-pay", "cta cta-instalments", "cta cta-contact"} <= reached, reached
    assert ("cta", "contact") in site.events("firm")


def test_the_player_with_its_buttons_is_accessible(site: Player, browser: Any) -> None:
    if not AXE.exists():
        missing("axe-core (run `make browser-tools`)")
    start, _ = site.ending("firm")
    context, page, _ = open_page(browser, site.url("firm"), bypass_csp=True)  # to add axe
    try:
        at(page, start + 1)
        width = page.evaluate("document.documentElement.scrollWidth")
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
        )
    finally:
        context.close()
    violations = [(v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]
    assert violations == [] and width <= 390, violations


def test_a_paid_bill_shows_no_button(site: Player, browser: Any) -> None:
    start, _ = site.ending("paid")
    context, page, errors = open_page(browser, site.url("paid"))
    try:
        at(page, start + 1)
        overlays = page.locator(".overlay, .cta").count()
        chapters = page.locator(".chapters a").count()
    finally:
        context.close()
    assert overlays == 0 and chapters == len(site.timelines["paid"].chapters)
    assert not errors, errors


def test_speed_and_resume_stay_in_the_page(site: Player, browser: Any) -> None:
    context, page, errors = open_page(browser, site.url("firm"))
    try:
        page.select_option("select[data-speed]", "1.5")
        rate = page.evaluate("() => document.querySelector('video').playbackRate")
        page.evaluate(PLAYING)
        at(page, 12.4)
        stored = page.evaluate("() => Object.assign({}, localStorage)")
        page.reload(wait_until="load")
        page.evaluate(PLAYING)
        page.wait_for_function("() => document.querySelector('video').currentTime >= 12")
        cookies = page.evaluate("() => document.cookie"), context.cookies()
    finally:
        context.close()
    assert rate == 1.5
    [(key, value)] = stored.items()
    token = site.tokens["firm"][1]
    assert value == "12" and key.startswith("billreel-resume-") and token not in key
    assert cookies == ("", [])
    assert not errors, errors


def test_without_scripts_a_plain_video_with_its_tracks(site: Player, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(site.url("firm"), wait_until="load")
        tracks = page.eval_on_selector_all(
            "video track", "ts => ts.map(t => [t.kind, t.getAttribute('src')])"
        )
        source = page.get_attribute("video source", "src")
        controls = page.get_attribute("video", "controls")
        chapter = page.get_attribute(".chapters a >> nth=6", "href")
        hidden = [page.is_visible(s) for s in [*BUTTONS, ".speed"]]
    finally:
        context.close()
    token = site.tokens["firm"][1]
    assert tracks == [["captions", f"{token}/captions.vtt"], ["chapters", f"{token}/chapters.vtt"]]
    assert source == f"{token}/video.mp4" and controls is not None
    start, _ = site.ending("firm")
    assert chapter == f"{token}/video.mp4#t={start:g}"  # a media fragment: still a jump
    assert hidden == [False] * 4
