"""End to end, as a billing system and a customer's phone see it.

A real `billreel serve` process on embedded defaults, a real API key from `billreel keys
create`, a render over real HTTP, the microsite in headless Chromium at phone size, and the
video checked with ffprobe, byte ranges and its MP4 box order.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.paths import REPO_ROOT
from tests.realparts import (
    CHROMIUM_ARGS,
    free_port,
    missing,
    mp4_top_level_boxes,
    require,
    stop_process,
    wait_for_port,
)

pytestmark = pytest.mark.e2e

BILL = REPO_ROOT / "examples" / "it_overdue.json"
CUSTOMER_NAME = "Giulia Rossi"
# Babel's it-IT format for EUR 84.20; the space is a no-break space (U+00A0).
AMOUNT = "84,20\N{NO-BREAK SPACE}€"
PHONE_WIDTH, PHONE_HEIGHT = 390, 844
START_SECONDS = 60.0
RENDER_SECONDS = 180.0
POLL_SECONDS = 0.5
HTTP_SECONDS = 30.0


@dataclass(frozen=True)
class Service:
    base_url: str
    env: dict[str, str]
    data_dir: Path


def billreel_command() -> list[str]:
    """The installed `billreel` script next to this Python, else the same entry point."""
    script = Path(sys.executable).parent / "billreel"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from app.cli import main; main()"]


def http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # loopback only: never through a proxy from the environment
    return session


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    require("ffmpeg")
    data_dir = tmp_path_factory.mktemp("e2e-data")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    # Embedded defaults: no Redis, no S3, no database URL leaking in from the environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLREEL_")}
    env |= {"BILLREEL_DATA_DIR": str(data_dir), "BILLREEL_PUBLIC_URL": base_url}
    log_path = data_dir / "serve.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*billreel_command(), "serve", "--port", str(port)],
            cwd=data_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            try:
                wait_for_port(port, timeout=START_SECONDS, process=process)
                response = http().get(f"{base_url}/healthz", timeout=HTTP_SECONDS)
                assert response.status_code == 200, response.text
            except (RuntimeError, TimeoutError) as exc:
                pytest.fail(f"billreel serve did not start: {exc}\n{_tail(log_path)}")
            yield Service(base_url=base_url, env=env, data_dir=data_dir)
        finally:
            stop_process(process)
    if process.returncode not in (0, -15):  # a crash, not our SIGTERM
        print(_tail(log_path))


@pytest.fixture(scope="module")
def api(service: Service) -> requests.Session:
    result = subprocess.run(
        [*billreel_command(), "keys", "create", "e2e"],
        cwd=service.data_dir,
        env=service.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1].strip()
    assert len(key) >= 20, "the key is the last line billreel keys create prints"
    session = http()
    session.headers["Authorization"] = f"Bearer {key}"
    return session


@pytest.fixture(scope="module")
def render(service: Service, api: requests.Session) -> dict[str, Any]:
    """The it_overdue bill, posted and polled (bounded) until the render is finished."""
    request = {"template": "bill-explainer", "data": json.loads(BILL.read_text(encoding="utf-8"))}
    response = api.post(f"{service.base_url}/v1/renders", json=request, timeout=HTTP_SECONDS)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["Location"].endswith(f"/v1/renders/{body['id']}")
    assert set(body["links"]) >= {"microsite", "video"}, "links exist as soon as accepted"

    deadline = time.monotonic() + RENDER_SECONDS
    while body["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, (
            f"render still {body['status']} after {RENDER_SECONDS} s"
        )
        time.sleep(POLL_SECONDS)
        polled = api.get(f"{service.base_url}/v1/renders/{body['id']}", timeout=HTTP_SECONDS)
        assert polled.status_code == 200, polled.text
        body = polled.json()
    assert body["status"] == "done", body.get("error")
    return body


def test_the_render_finishes_with_its_links(render: dict[str, Any], service: Service) -> None:
    assert render["error"] is None
    assert render["template"].startswith("bill-explainer")
    for name in ("microsite", "video"):
        assert render["links"][name].startswith(f"{service.base_url}/r/"), name


def test_the_microsite_on_a_phone(
    render: dict[str, Any], chromium_path: str, tmp_path: Path
) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright package")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT})
            response = page.goto(render["links"]["microsite"], wait_until="load")
            assert response is not None and response.status == 200
            text = page.inner_text("body")
            page.screenshot(path=str(tmp_path / "microsite-390x844.png"), full_page=True)
            page_width = page.evaluate("document.documentElement.scrollWidth")
        finally:
            browser.close()
    assert CUSTOMER_NAME in text
    assert AMOUNT in text, "the total in Italian format, with a no-break space before €"
    assert page_width <= PHONE_WIDTH, "nothing may scroll sideways on a phone"
    assert (tmp_path / "microsite-390x844.png").stat().st_size > 0


def test_the_customer_page_is_private(render: dict[str, Any]) -> None:
    response = http().get(render["links"]["microsite"], timeout=HTTP_SECONDS)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_an_unknown_token_is_a_friendly_404(service: Service) -> None:
    token = secrets.token_urlsafe(24)
    response = http().get(f"{service.base_url}/r/{token}", timeout=HTTP_SECONDS)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<html" in response.text.lower()


def test_the_video_is_seekable_h264_and_aac(
    render: dict[str, Any],
    tmp_path: Path,
    ffprobe: Callable[[str | os.PathLike[str]], dict[str, Any]],
) -> None:
    url = render["links"]["video"]
    session = http()

    first = session.get(url, headers={"Range": "bytes=0-1023"}, timeout=HTTP_SECONDS)
    assert first.status_code == 206, first.status_code
    content_range = first.headers["Content-Range"]
    assert content_range.startswith("bytes 0-1023/"), content_range
    total = int(content_range.rpartition("/")[2])
    assert len(first.content) == 1024

    video = tmp_path / "video.mp4"
    with session.get(url, stream=True, timeout=HTTP_SECONDS) as full:
        assert full.status_code == 200
        assert full.headers["Content-Type"].startswith("video/mp4")
        with open(video, "wb") as out:
            for chunk in full.iter_content(chunk_size=1 << 16):
                out.write(chunk)
    assert video.stat().st_size == total
    assert video.read_bytes()[:1024] == first.content

    streams = ffprobe(video)["streams"]
    videos = [s for s in streams if s["codec_type"] == "video"]
    audios = [s for s in streams if s["codec_type"] == "audio"]
    assert [(s["codec_name"], s["pix_fmt"]) for s in videos] == [("h264", "yuv420p")]
    assert [s["codec_name"] for s in audios] == ["aac"]

    boxes = mp4_top_level_boxes(video)
    assert "moov" in boxes and "mdat" in boxes, boxes
    assert boxes.index("moov") < boxes.index("mdat"), f"not fast-start: {boxes}"
