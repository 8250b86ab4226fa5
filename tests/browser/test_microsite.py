"""The microsite as a person sees it: headless Chromium against a live service.

One service and one browser for the module. Each bill state is rendered by the real
renderer; a short ffmpeg clip stands in for the explainer video so the page can play it.
The payment provider is played by a route that answers for its https host in the browser.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from app.access.keys import create_key
from app.delivery.links import site_links
from app.infra.database import Event, Render
from app.infra.services import Services
from app.infra.settings import Settings
from app.infra.storage import CONTENT_TYPES, output_key
from app.rendering.job import run_render_with
from renderers import local_links
from renderers.microsite import CTA_NAMES, SitePage, render_html, render_site
from renderers.story import facts
from renderers.templates import load_bundle
from tests.paths import REPO_ROOT
from tests.realparts import free_port, missing, require

pytestmark = pytest.mark.e2e

AXE = REPO_ROOT / "tools" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PAY_HOST = "https://pay.example.com/"
MAX_PAGE_BYTES = 60 * 1024
SIZES = {"phone": (390, 844), "desktop": (1280, 800)}
# A person's desktop Chromium (the headless one names itself HeadlessChrome: a bot's name).
PERSON_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
VIDEO_BEACONS = [
    ("video_started", None),
    ("video_progress", "25"),
    ("video_progress", "50"),
    ("video_progress", "75"),
    ("video_progress", "100"),
    ("video_completed", None),
]


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REPO_ROOT / "examples" / f"{name}.json").read_text("utf-8"))
    return data


def state_bills() -> dict[str, dict[str, Any]]:
    firm = example("it_overdue")
    firm["customer"]["segment"] = "chronic"
    rtl = copy.deepcopy(example("it_overdue"))
    rtl["customer"]["locale"] = "he-IL"
    return {
        "pay": example("fr_open"),
        "nudge": example("it_overdue"),
        "firm": firm,
        "thanks": example("en_paid"),
        "credit": example("zh_credit"),
        "rtl": rtl,
    }


def fake_video(directory: Path) -> dict[str, Path]:
    """A 3-second clip with sound, a poster and captions, standing in for a real render."""
    ffmpeg = require("ffmpeg")
    video, poster = directory / "video.mp4", directory / "poster.jpg"
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440", "-t", "3", "-c:v", "libx264",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", str(video)],
        check=True, timeout=60,
    )  # fmt: skip
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-i", str(video), "-frames:v", "1", str(poster)],
        check=True,
        timeout=60,
    )
    captions = directory / "captions.vtt"
    captions.write_text("WEBVTT\n\n00:00.000 --> 00:02.500\nYour bill, explained\n", "utf-8")
    return {"video.mp4": video, "poster.jpg": poster, "captions.vtt": captions}


class Site:
    def __init__(
        self,
        base_url: str,
        services: Services,
        tokens: dict[str, tuple[str, str]],
        disk_page: Path,
    ):
        self.base_url = base_url
        self.disk_page = disk_page  # the `billreel render` layout: DIR/site/index.html
        self.services = services
        self.tokens = tokens  # state -> (render id, token)

    def url(self, state: str) -> str:
        return f"{self.base_url}/r/{self.tokens[state][1]}"

    def events(self, state: str) -> list[tuple[str, str | None]]:
        with self.services.db.session() as session:
            rows = session.execute(
                select(Event.type, Event.name)
                .where(Event.render_id == self.tokens[state][0])
                .order_by(Event.id)
            )
            return [(t, n) for t, n in rows]


def publish(services: Services, app: Flask, bill: dict[str, Any], files: dict[str, Path]) -> str:
    """Accept and render a microsite, then store it with the stand-in video beside it."""
    key = create_key(services.db, "browser")
    client = app.test_client()
    response = client.post(
        "/v1/renders",
        json={"template": "bill-explainer", "data": bill, "outputs": ["microsite"]},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    render_id: str = response.get_json()["id"]
    assert run_render_with(services, render_id) == "done"
    bundle = load_bundle("bill-explainer")
    with services.db.session() as session:
        render = session.get(Render, render_id)
        assert render is not None
        token, stored_bill = render.token, render.bill
        render.outputs = ["video", "microsite"]
    html = render_html(
        facts(stored_bill, bundle.locale),
        SitePage(bundle.microsite_dir, bundle.messages),
        site_links(token, stored_bill),
        with_video=True,
        bill=stored_bill,
    )
    cache = "private, no-cache"
    services.storage.put_bytes(
        output_key(render_id, "site/index.html"), html.encode(),
        content_type="text/html; charset=utf-8", cache_control=cache,
    )  # fmt: skip
    for name, path in files.items():
        services.storage.put_file(
            output_key(render_id, name), path, content_type=CONTENT_TYPES[name],
            cache_control=cache,
        )  # fmt: skip
    return render_id


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from app.wiring import create_app

    tmp = tmp_path_factory.mktemp("browser")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    app = create_app(Settings(data_dir=tmp / "var", public_url=base_url), start_queue=False)
    services: Services = app.extensions["billreel"]
    files = fake_video(tmp)
    disk = tmp / "disk"
    for name, path in files.items():
        (disk / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, disk / name)
    nudge = state_bills()["nudge"]
    bundle = load_bundle("bill-explainer")
    disk_page = render_site(
        facts(nudge, bundle.locale),
        SitePage(bundle.microsite_dir, bundle.messages),
        local_links(nudge),
        disk / "site",
        with_video=True,
        bill=nudge,
    )  # as `render` writes it beside a video
    tokens = {}
    for state, bill in state_bills().items():
        render_id = publish(services, app, bill, files)
        with services.db.session() as session:
            render = session.get(Render, render_id)
            assert render is not None
            tokens[state] = (render_id, render.token)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(base_url, services, tokens, disk_page)
    finally:
        server.shutdown()
        services.db.dispose()


def open_page(
    browser: Any,
    url: str,
    size: str = "phone",
    *,
    bypass_csp: bool = False,
    user_agent: str | None = None,
) -> tuple[Any, Any, list[str]]:
    """A fresh context with the page loaded; the list collects console errors (CSP included).

    `bypass_csp` only for injecting axe-core, which the page's own policy rightly refuses.
    `user_agent`: headless Chromium says HeadlessChrome, which `app.analytics.bots` flags;
    give a person's browser (PERSON_AGENT) where the visit must count as one.
    """
    width, height = SIZES[size]
    context = browser.new_context(
        viewport={"width": width, "height": height}, bypass_csp=bypass_csp,
        user_agent=user_agent,
    )  # fmt: skip
    context.route(
        f"{PAY_HOST}**",
        lambda route: route.fulfill(
            status=200, content_type="text/html", body="<title>Fake payment</title><h1>Pay</h1>"
        ),
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-robots-tag"] == "noindex, nofollow"
    return context, page, errors


# Where the page's mirrored layout shows: the banner's accent border and the chart's newest bar.
LAYOUT_PROBE = """() => {
  const status = getComputedStyle(document.querySelector('.status'));
  const bars = [...document.querySelectorAll('svg.bars rect')].map(r => r.getBBox().x);
  const now = document.querySelector('svg.bars rect.now').getBBox().x;
  return {left: parseFloat(status.borderLeftWidth), right: parseFloat(status.borderRightWidth),
          nowIsLeftmost: now === Math.min(...bars), nowIsRightmost: now === Math.max(...bars)};
}"""


@pytest.mark.parametrize("state", ["pay", "nudge", "firm", "thanks", "credit", "rtl"])
def test_every_state_is_accessible_and_within_policy(
    site: Site, browser: Any, state: str, tmp_path: Path
) -> None:
    if not AXE.exists():
        missing("axe-core (run `make browser-tools`)")
    context, page, errors = open_page(browser, site.url(state))
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    try:
        page.reload(wait_until="networkidle")  # again, now that every request is watched
        html = page.content()
        layout = page.evaluate(LAYOUT_PROBE) if state in ("pay", "rtl") else None
    finally:
        context.close()
    assert not errors, f"console errors (CSP violations included): {errors}"
    outside = [u for u in requested if not u.startswith(site.base_url + "/")]
    assert requested and outside == [], f"requests beyond the service: {outside}"
    if layout is not None:  # a right-to-left page is the mirror image of a left-to-right one
        rtl = state == "rtl"
        assert (layout["right"] > 0, layout["left"] > 0) == (rtl, not rtl), layout
        assert layout["nowIsLeftmost" if rtl else "nowIsRightmost"], layout
    for size in SIZES:
        context, page, _ = open_page(browser, site.url(state), size, bypass_csp=True)
        try:
            page.screenshot(path=str(tmp_path / f"{state}-{size}.png"), full_page=True)
            width = page.evaluate("document.documentElement.scrollWidth")
            page.add_script_tag(path=str(AXE))
            result = page.evaluate(
                "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
            )
        finally:
            context.close()
        violations = [(v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]
        assert violations == [], f"{state} at {size}: {violations}"
        assert width <= SIZES[size][0], "nothing may scroll sideways"
    shows_pay = state in ("pay", "nudge", "firm", "rtl")
    assert ('class="pay"' in html) is shows_pay
    assert ("billreel-qr" in html) is shows_pay
    if state == "rtl":
        assert 'dir="rtl"' in html


def test_page_weight_without_video(site: Site) -> None:
    import requests

    session = requests.Session()
    session.trust_env = False
    for state in site.tokens:
        response = session.get(site.url(state), timeout=30)
        assert response.status_code == 200
        assert len(response.content) < MAX_PAGE_BYTES, (state, len(response.content))


def test_video_plays_captions_load_and_beacons_record(site: Site, browser: Any) -> None:
    context, page, errors = open_page(browser, site.url("nudge"))
    try:
        page.evaluate("() => { const v = document.querySelector('video'); v.muted = true; }")
        page.evaluate("() => document.querySelector('video').play()")
        page.wait_for_function(
            "() => document.querySelector('video').currentTime > 0.5", timeout=15000
        )
        page.wait_for_function("() => document.querySelector('video').ended", timeout=15000)
        cues = page.evaluate(
            "() => { const t = document.querySelector('video').textTracks[0];"
            " return t.cues ? t.cues.length : -1; }"
        )
        # Beacons are sent asynchronously: wait (bounded) until all have been recorded.
        recorded: list[tuple[str, str | None]] = []
        for _ in range(100):
            recorded = [e for e in site.events("nudge") if e[0].startswith("video")]
            if len(recorded) >= len(VIDEO_BEACONS):
                break
            page.wait_for_timeout(100)
    finally:
        context.close()
    assert cues >= 1, "the captions track loaded"
    assert not errors, errors
    # Each once; their arrival order is the network's, so compare them sorted.
    assert sorted(recorded, key=str) == sorted(VIDEO_BEACONS, key=str)


def test_the_page_works_opened_from_disk(site: Site, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(site.disk_page.as_uri(), wait_until="load")
        page.evaluate("() => { const v = document.querySelector('video'); v.muted = true;"
                      " return v.play(); }")  # fmt: skip
        page.wait_for_function(
            "() => document.querySelector('video').currentTime > 0.5", timeout=15000
        )
        styled = page.evaluate("getComputedStyle(document.querySelector('.pay')).display")
        forms = page.locator("form").count()
    finally:
        context.close()
    assert not errors and styled == "block"  # inline CSS applies with no server
    assert forms == 0  # calls to action need the service: none offered from disk


def test_pay_click_records_and_lands_on_the_payment_page(site: Site, browser: Any) -> None:
    context, page, _ = open_page(browser, site.url("firm"))
    try:
        page.click("a.pay")
        page.wait_for_url(f"{PAY_HOST}**")
        title = page.title()
    finally:
        context.close()
    assert title == "Fake payment"
    assert ("pay_click", None) in site.events("firm")


def test_copy_buttons_copy_the_transfer_details(site: Site, browser: Any) -> None:
    context, page, errors = open_page(browser, site.url("pay"))
    try:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.base_url)
        button = page.locator("button.copy").nth(1)  # the IBAN's, after the beneficiary's
        button.click()
        page.wait_for_function("() => document.querySelectorAll('button.copy')[1]"
                               ".textContent === 'Copié'")  # fmt: skip
        copied = page.evaluate("() => navigator.clipboard.readText()")
    finally:
        context.close()
    assert copied == "FR1420041010050500013M02606" and not errors


def test_each_call_to_action_records_and_confirms(site: Site, browser: Any) -> None:
    context, page, errors = open_page(browser, site.url("nudge"))
    try:
        for name in CTA_NAMES:
            page.click(f"form[action$='/cta/{name}'] button")
            page.wait_for_url(f"**#done-{name}")
            assert page.is_visible(f"#done-{name}")
    finally:
        context.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors
    assert [n for t, n in site.events("nudge") if t == "cta"] == list(CTA_NAMES)
