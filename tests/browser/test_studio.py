"""The template studio as marketing uses it: real Chromium against a live service.

A marketing user logs in, changes the Italian greeting and the colours, sees the live
preview change (read back from its pixels), saves and publishes; a render made after that
reports the new version and its poster has the new colour, one made before still reports
and serves the old; publishing the old version again (the rollback) brings the old look
back. Two editors saving one draft: the second sees both texts in the page and chooses.
The screenshots go to docs/images/studio-*.png with STUDIO_SCREENSHOTS=docs (docs/studio.md
shows them).
"""

from __future__ import annotations

import base64
import io
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image
from werkzeug.serving import make_server

from app.access.keys import create_key
from app.infra.services import Services
from app.infra.settings import Settings
from app.rendering.job import run_render_with
from app.templates.files import shipped_files
from app.templates.lookup import ensure_shipped
from app.templates.store import create_draft, get_version, read_files
from tests.factories import make_bill
from tests.paths import REPO_ROOT
from tests.realparts import free_port

pytestmark = pytest.mark.e2e

# Where the screenshots go: docs/images (for docs/studio.md) when STUDIO_SCREENSHOTS=docs,
# else the test's own folder, so a test run leaves the checkout as it was.
IMAGES = (
    REPO_ROOT / "docs" / "images"
    if os.environ.get("STUDIO_SCREENSHOTS") == "docs"
    else Path(tempfile.gettempdir()) / "billreel-studio-screenshots"
)
NAME = "bill-explainer"
ACCENT = "#E6007E"  # the new accent: a magenta no frame of the shipped template has
NUDGE = "#00B8D4"  # the new colour of the nudge ending, which the poster draws
OLD_NUDGE = "#FFCA28"
TIP_AT = 20.0  # seconds: the tip scene, whose title is drawn in the accent colour
# The sandboxed microsite frame may not run the page's script nor load its video (a preview
# has none): Chromium says so, rightly.
EXPECTED_CONSOLE = ("Blocked script execution in 'about:srcdoc'", "Loading media from ")


@dataclass
class Studio:
    base_url: str
    services: Services
    marketing: str
    second: str
    billing: str

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        session = requests.Session()
        session.trust_env = False
        headers = {"Authorization": f"Bearer {self.billing}", **kwargs.pop("headers", {})}
        return session.request(method, self.base_url + path, headers=headers, timeout=60, **kwargs)

    def accept(self) -> dict[str, Any]:
        """A render of an overdue Italian bill (its ending: nudge), accepted: it is pinned to
        the version published now."""
        bill = make_bill(**{"bill.status": "overdue", "bill.days_overdue": 6})
        answer = self.api("POST", "/v1/renders",
                          json={"template": NAME, "data": bill, "outputs": ["video"]})  # fmt: skip
        assert answer.status_code == 202, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def render(self) -> str:
        """That render, run to the end."""
        render_id: str = self.accept()["id"]
        assert run_render_with(self.services, render_id) == "done"
        return render_id

    def render_body(self, render_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self.api("GET", f"/v1/renders/{render_id}").json()
        return body

    def poster(self, render_id: str) -> Image.Image:
        url = self.render_body(render_id)["links"]["poster"]
        session = requests.Session()
        session.trust_env = False
        answer = session.get(url, timeout=30)
        assert answer.status_code == 200
        return Image.open(io.BytesIO(answer.content)).convert("RGB")


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    from app.wiring import create_app

    tmp = tmp_path_factory.mktemp("studio")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    app = create_app(Settings(data_dir=tmp / "var", public_url=base_url), start_queue=False)
    services: Services = app.extensions["billreel"]
    ensure_shipped(services)
    keys = Studio(
        base_url,
        services,
        marketing=create_key(services.db, "Marta (marketing)", "marketing"),
        second=create_key(services.db, "Luca (marketing)", "marketing"),
        billing=create_key(services.db, "billing system", "billing"),
    )
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield keys
    finally:
        server.shutdown()
        services.db.dispose()


def log_in(browser: Any, studio: Studio, key: str) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{studio.base_url}/dashboard")
    page.fill("#api_key", key)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard/studio")
    return context, page, errors


def wait_status(page: Any, text: str) -> None:
    page.wait_for_function(
        "t => document.getElementById('status').textContent.includes(t)", arg=text, timeout=60000
    )


def redrawn(page: Any, after: int) -> int:
    """Wait for the live frame drawn after change number `after`; its number."""
    page.wait_for_function(
        "n => Number(document.getElementById('frame').dataset.seq || 0) > n && "
        "!document.getElementById('frame').hasAttribute('aria-busy') && "
        "document.getElementById('frame').complete",
        arg=after,
        timeout=60000,
    )
    return int(page.get_attribute("#frame", "data-seq"))


# The picture the page shows, as its pixels: drawn into a canvas by the page itself.
FRAME_PIXELS = """() => {
  const img = document.getElementById('frame');
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  canvas.getContext('2d').drawImage(img, 0, 0);
  return canvas.toDataURL('image/png').split(',')[1];
}"""


def frame(page: Any) -> Image.Image:
    data = base64.b64decode(page.evaluate(FRAME_PIXELS))
    return Image.open(io.BytesIO(data)).convert("RGB")


def share_near(image: Image.Image, color: str, tolerance: int = 40) -> float:
    """The share of the image's pixels within `tolerance` of `color` on every channel."""
    target = tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))
    small = image.resize((image.width // 4, image.height // 4), Image.Resampling.NEAREST)
    pixels = list(small.getdata())
    close = sum(all(abs(p[c] - target[c]) <= tolerance for c in range(3)) for p in pixels)
    return close / len(pixels)


def scrub(page: Any, seconds: float) -> None:
    page.evaluate(
        "t => { const r = document.getElementById('time'); r.value = t;"
        " r.dispatchEvent(new Event('input')); }",
        seconds,
    )


def shot(page: Any, name: str, **kwargs: Any) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / f"studio-{name}.png"), **kwargs)


def test_marketing_edits_previews_publishes_and_rolls_back(studio: Studio, browser: Any) -> None:
    earlier = studio.render()  # made with the shipped version, before the studio
    context, page, errors = log_in(browser, studio, studio.marketing)
    try:
        shot(page, "list")
        page.click(f"text={NAME}")
        wait_status(page, "make a draft")
        page.click("#draft")
        page.wait_for_url(f"**/{NAME}/2")
        seq = redrawn(page, 0)
        wait_status(page, "No unsaved changes")
        before = frame(page)

        # The Italian greeting, in the Texts tab, beside the English one.
        page.click("#tab-texts")
        page.select_option("#texts-right", "it")
        greeting = "#t-video-greeting_title-it"
        assert page.input_value(greeting) == "Ciao {name}"
        page.fill(greeting, "Buongiorno {name}")
        page.press(greeting, "Tab")
        wait_status(page, "1 unsaved change")
        seq = redrawn(page, seq)
        greeted = frame(page)
        assert greeted.size == before.size == (1280, 720)
        changed = sum(a != b for a, b in zip(before.getdata(), greeted.getdata(), strict=True))
        assert changed > 2000, "the greeting's pixels changed"
        shot(page, "texts")

        # The accent (the tip's title) and the nudge ending's colour (the poster's note).
        page.click("#tab-theme")
        for field, value in (("#color-accent-hex", ACCENT), ("#color-tones-nudge-hex", NUDGE)):
            page.fill(field, value)
            page.press(field, "Tab")
        wait_status(page, "3 unsaved changes")
        seq = redrawn(page, seq)
        assert share_near(frame(page), NUDGE) > 0.002  # the progress bar: the tone's colour
        scrub(page, TIP_AT)
        seq = redrawn(page, seq)
        assert page.get_attribute("#frame", "data-scene") == "tip"
        assert share_near(frame(page), ACCENT) > 0.004, "the tip's title is drawn in the accent"
        shot(page, "theme")

        page.click("#undo")  # undo and redo: the client's own list of edits
        wait_status(page, "2 unsaved changes")
        page.click("#redo")
        wait_status(page, "3 unsaved changes")
        page.fill("#message", "Buongiorno, and the new brand colours")
        page.click("#save")
        wait_status(page, f"Saved as {NAME}@2")
        page.click("#publish")
        wait_status(page, f"{NAME}@2 is published")
        report = page.text_content("#report") or ""
        assert "5 endings \u00d7 8 languages \u00d7 3 formats" in report, report
        assert page.locator("#report li.bad").count() == 0
        shot(page, "publish")
    finally:
        context.close()
    assert [e for e in errors if not e.startswith(EXPECTED_CONSOLE)] == []

    after = studio.render()
    assert studio.render_body(after)["template"] == f"{NAME}@2"
    assert share_near(studio.poster(after), NUDGE) > 0.002
    assert studio.render_body(earlier)["template"] == f"{NAME}@1"
    old_poster = studio.poster(earlier)  # still served as it was made
    assert share_near(old_poster, OLD_NUDGE) > 0.002 and share_near(old_poster, NUDGE) < 0.0005

    # The rollback: version 1, archived by the publish, published again in one click. A
    # render made then is pinned to it, and its poster has the old colour again.
    context, page, errors = log_in(browser, studio, studio.marketing)
    try:
        page.goto(f"{studio.base_url}/dashboard/studio/{NAME}/2")
        wait_status(page, "is published")
        page.click("#tab-history")
        page.click("#diff-show")
        page.wait_for_selector("#diff h3")
        assert "narration/it.yaml" in page.text_content("#diff")
        shot(page, "history", full_page=True)
        page.click("#rollback-1")
        wait_status(page, "Rolled back: @1 is published again")
        rolled_back = studio.render()
        assert studio.render_body(rolled_back)["template"] == f"{NAME}@1"
        poster = studio.poster(rolled_back)  # a new render has the old look again
        assert share_near(poster, OLD_NUDGE) > 0.002 and share_near(poster, NUDGE) < 0.0005
        page.goto(f"{studio.base_url}/dashboard/studio/{NAME}/1")
        seq = redrawn(page, 0)
        scrub(page, TIP_AT)
        redrawn(page, seq)
        assert share_near(frame(page), ACCENT) < 0.0005, "version 1 looks as it did"
        assert share_near(frame(page), "#64B5F6") > 0.004  # the shipped accent
    finally:
        context.close()
    assert [e for e in errors if not e.startswith(EXPECTED_CONSOLE)] == []


def test_two_editors_saving_one_draft_keep_both_texts(studio: Studio, browser: Any) -> None:
    draft = create_draft(studio.services, NAME, author="test", message="for two editors",
                         from_number=1)  # fmt: skip
    url = f"{studio.base_url}/dashboard/studio/{NAME}/{draft.number}"
    pages = []
    for key in (studio.marketing, studio.second):
        context, page, errors = log_in(browser, studio, key)
        page.goto(url)
        wait_status(page, "No unsaved changes")
        page.click("#tab-texts")
        page.select_option("#texts-right", "it")
        pages.append((context, page, errors))
    (first_context, first, _), (second_context, second, second_errors) = pages
    try:
        for page, text in ((first, "Salve {name}"), (second, "Ehilà {name}")):
            page.fill("#t-video-greeting_title-it", text)
            page.press("#t-video-greeting_title-it", "Tab")
            wait_status(page, "1 unsaved change")
        first.click("#save")
        wait_status(first, "Saved as")
        second.click("#save")
        second.wait_for_selector("#conflict h2", timeout=60000)
        conflict = second.locator("#conflict .choice[data-conflict=true]")
        assert conflict.count() == 1
        assert conflict.locator("pre.theirs").text_content() == "Salve {name}"
        assert conflict.locator("pre.mine").text_content() == "Ehilà {name}"
        assert second.is_disabled("#conflict-save")  # nothing is dropped before a choice
        shot(second, "conflict")
        conflict.locator("input[value=mine]").check()
        second.click("#conflict-save")
        wait_status(second, "Saved as")
    finally:
        first_context.close()
        second_context.close()
    # Chromium notes the 412 answer in the console: the conflict is that answer.
    conflict_answer = "Failed to load resource: the server responded with a status of 412"
    assert [e for e in second_errors
            if not e.startswith((*EXPECTED_CONSOLE, conflict_answer))] == []  # fmt: skip
    saved = get_version(studio.services.db, NAME, draft.number)
    assert saved.revision == draft.revision + 2 and saved.updated_by == "Luca (marketing)"
    it = read_files(studio.services, saved)["scenes/narration/it.yaml"].decode()
    assert 'title: "Ehilà {name}"' in it


def test_scenes_preview_and_the_code_view_with_each_problem_at_its_line(
    studio: Studio, browser: Any
) -> None:
    draft = create_draft(studio.services, NAME, author="test", message="code view",
                         from_number=1)  # fmt: skip
    lines = shipped_files(NAME)["scenes/scenes.yaml"].decode().count("\n")
    context, page, errors = log_in(browser, studio, studio.marketing)
    try:
        page.goto(f"{studio.base_url}/dashboard/studio/{NAME}/{draft.number}")
        wait_status(page, "No unsaved changes")
        seq = redrawn(page, 0)
        page.click("#tab-scenes")  # the greeting switched off: the frame at 3.5 s is another
        page.uncheck("#s-greeting-enabled")
        wait_status(page, "1 unsaved change")
        redrawn(page, seq)
        assert page.get_attribute("#frame", "data-scene") == "total"
        assert "custom, edit in code view" in page.text_content("article:has(#s-breakdown-title)")
        page.click("article:has(#s-ending-title) details summary")
        shot(page, "scenes")
        page.click("#undo")
        wait_status(page, "No unsaved changes")
        page.click("#tab-preview")
        page.wait_for_function(
            "() => (document.getElementById('site').srcdoc || '').includes('Ciao')", timeout=60000
        )
        shot(page, "preview", full_page=True)
        page.click("#tab-code")
        page.wait_for_selector("#code-editor .cm-content")
        page.click("#code-editor .cm-content")
        page.keyboard.press("Control+End")
        page.keyboard.type("bogus: 1\n")
        wait_status(page, "problem")
        page.wait_for_selector("#problems button")
        problem = page.text_content("#problems li")
        assert problem is not None and f"scenes/scenes.yaml:{lines + 1}" in problem
        assert "bogus" in problem
        page.wait_for_selector(".cm-lint-marker-error")
        shot(page, "code")
    finally:
        context.close()
    assert [e for e in errors if not e.startswith(EXPECTED_CONSOLE)] == []
