"""Videos made on open, on real processes: `worker.py` against a redis-server of its own, the
API served over HTTP from this process, headless Chromium as the customer.

Ten people opening the same fresh link at once make one video (one claim); a worker killed
mid-stream leaves the page showing the poster and a retry, and once another worker has made
the video the retry plays it. Waits poll with a generous bound; no test
asserts on elapsed time.
"""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.browser.conftest import browser  # noqa: F401 (the browser fixture)
from tests.browser.test_microsite import PERSON_AGENT, example
from tests.faults.test_faults import (  # noqa: F401 (the make_stack fixture)
    HOLD_SECONDS,
    Stack,
    StackFactory,
    make_stack,
    wait_until,
)
from tests.realparts import free_port

pytestmark = pytest.mark.e2e

OPENERS = 10
WAIT_MS = 240_000  # the browser's bound, as wait_until's: a busy machine, never this slow


def serve(stack: Stack) -> Iterator[str]:
    port = free_port()
    server = make_server("127.0.0.1", port, stack.app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()


def submit(stack: Stack) -> tuple[str, str]:
    request = {"template": "bill-explainer", "data": example("it_overdue"), "video": "on_open"}
    response = stack.client.post("/v1/renders", json=request, headers=stack.auth)
    assert response.status_code == 202, response.get_data(as_text=True)
    render_id: str = response.get_json()["id"]
    wait_until(lambda: stack.render(render_id).status == "done", "the page", tuple(stack.workers))
    return render_id, stack.render(render_id).token


def video_of(stack: Stack, render_id: str) -> tuple[str | None, int]:
    row = stack.render(render_id)
    return row.video_state, row.video_attempts


def open_at_once(base: str, token: str) -> list[int]:
    """OPENERS people's browsers opening the link at the same moment; their statuses."""
    start = threading.Barrier(OPENERS)
    statuses: list[int] = []

    def open_link() -> None:
        request = urllib.request.Request(f"{base}/r/{token}", headers={"User-Agent": PERSON_AGENT})
        start.wait()
        with urllib.request.urlopen(request, timeout=60) as response:
            statuses.append(response.status)

    openers = [threading.Thread(target=open_link) for _ in range(OPENERS)]
    for opener in openers:
        opener.start()
    for opener in openers:
        opener.join()
    return statuses


def test_ten_at_once_make_one_video_and_a_killed_worker_leaves_a_retry(
    make_stack: StackFactory,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """One stack for both (a worker's start and a video cost most of the time): ten people
    open the fresh link at once, then one more in Chromium; one run claims the video. Its
    worker is killed mid-stream; the page shows the poster and a retry; another worker's
    sweeper runs it again, and the retry plays it."""
    stack = make_stack()
    doomed = stack.start_worker("doomed", render_hold_seconds=HOLD_SECONDS)
    render_id, token = submit(stack)
    site = serve(stack)
    base = next(site)
    context = browser.new_context(user_agent=PERSON_AGENT)
    try:
        statuses = open_at_once(base, token)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(f"{base}/r/{token}", wait_until="load")
        page.evaluate(
            "() => { const v = document.querySelector('video'); v.muted = true; v.play(); }"
        )
        # Its first scene is out (the run holds there): it plays, then the worker dies.
        page.wait_for_function("() => document.querySelector('video').currentTime > 0")
        claimed = wait_until(
            lambda: (state := video_of(stack, render_id))[0] == "rendering" and state,
            "the claim",
            (doomed,),
        )
        doomed.kill_machine()
        page.wait_for_selector("[data-retry]", state="visible")
        shown = page.evaluate(
            "() => { const v = document.querySelector('video');"
            " return [v.readyState, v.getAttribute('poster')]; }"
        )
        survivor = stack.start_worker("survivor", stuck_after_seconds=3)
        wait_until(lambda: video_of(stack, render_id)[0] == "done", "the re-run", (survivor,))
        page.click("[data-retry]")
        page.wait_for_function("() => document.querySelector('video').currentTime > 3")
        hidden = page.is_hidden("[data-retry]")
    finally:
        context.close()
        next(site, None)
    assert statuses == [200] * OPENERS
    assert claimed == ("rendering", 1)  # eleven opens, one claim: one run
    assert shown[0] == 0 and shown[1].endswith("/poster.jpg")  # nothing loaded: the poster
    assert hidden
    assert video_of(stack, render_id) == ("done", 2)  # the sweeper's re-run, no other
    files = stack.output_files(render_id)
    assert "video.mp4" in files
    assert {f.split("/")[1] for f in files if f.startswith("hls/") and f.count("/") == 2} == {
        "1",
        "2",
    }
