"""Who asks for a video made on open, and how often: the first real open, exactly once.

Renders are accepted through the API; their page's run is not the subject here, so each is
marked done in the database, with a page stored, as its run would. The video queue is a
recorder of what was enqueued (the `RenderQueue` protocol): every ask that got through counts.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from app.delivery.retention import erase_customer
from app.infra.database import Render, utcnow
from app.infra.queue import Priority
from app.infra.services import Services
from app.infra.storage import CONTENT_TYPES, output_key
from app.ondemand.job import run_video_with
from app.ondemand.request import ask_for_video
from app.ondemand.sweeper import sweep_videos
from tests.factories import make_render_request

PERSON = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"
OPENERS = 10


class Recorder:
    """A video queue that keeps what it is given (and runs nothing)."""

    def __init__(self) -> None:
        self.enqueued: list[tuple[str, Priority]] = []
        self._lock = threading.Lock()

    def enqueue(self, render_id: str, priority: Priority) -> None:
        with self._lock:
            self.enqueued.append((render_id, priority))

    def enqueue_many(self, render_ids: Sequence[str], priority: Priority) -> None:
        for render_id in render_ids:
            self.enqueue(render_id, priority)

    def requeue(self, renders: Sequence[tuple[str, Priority]]) -> list[str]:
        for render_id, priority in renders:
            self.enqueue(render_id, priority)
        return [render_id for render_id, _ in renders]

    def depth(self) -> dict[str, int]:
        return {"ondemand": len(self.enqueued), "batch": 0}

    def close(self) -> None:
        return None


@pytest.fixture
def videos(services: Services) -> Recorder:
    recorder = Recorder()
    services.video_queue = recorder
    return recorder


def accept(client: FlaskClient, auth: dict[str, str], services: Services) -> tuple[str, str]:
    response = client.post("/v1/renders", json=make_render_request(video="on_open"), headers=auth)
    assert response.status_code == 202, response.get_data(as_text=True)
    body = response.get_json()
    with services.db.session() as session:
        session.execute(update(Render).where(Render.id == body["id"]).values(status="done"))
        token = session.get(Render, body["id"]).token  # type: ignore[union-attr]
    services.storage.put_bytes(
        output_key(body["id"], "site/index.html"), b"<!doctype html><title>Bill</title>",
        content_type=CONTENT_TYPES["site/index.html"], cache_control="no-cache",
    )  # fmt: skip
    return body["id"], token


def video(services: Services, render_id: str) -> tuple[Any, ...]:
    with services.db.session() as session:
        row = session.get(Render, render_id)
        return (None,) if row is None else (row.video_state, row.video_attempts)


def test_the_request_says_when_the_video_is_made(client: FlaskClient, auth: dict[str, str]) -> None:
    response = client.post("/v1/renders", json=make_render_request(video="on_open"), headers=auth)
    body = response.get_json()
    assert response.status_code == 202
    assert body["video"] == {"mode": "on_open", "status": "waiting"}
    assert body["links"]["stream"] == body["links"]["microsite"] + "/video.m3u8"
    plain = client.post("/v1/renders", json=make_render_request(), headers=auth).get_json()
    assert "video" not in plain and "stream" not in plain["links"]  # as the contract shows it


@pytest.mark.parametrize(
    ("changes", "detail"),
    [({"outputs": ["video"]}, "on_open needs outputs video and microsite"),
     ({"video": "later"}, "")],
)  # fmt: skip
def test_a_bad_video_field_is_named(
    client: FlaskClient, auth: dict[str, str], changes: dict[str, Any], detail: str
) -> None:
    request = {**make_render_request(video="on_open"), **changes}
    response = client.post("/v1/renders", json=request, headers=auth)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert [e["pointer"] for e in errors] == ["/video"]
    assert detail in errors[0]["detail"]


def test_ten_people_opening_a_fresh_link_at_once_ask_once(
    app: Any, auth: dict[str, str], services: Services, videos: Recorder
) -> None:
    render_id, token = accept(app.test_client(), auth, services)
    start = threading.Barrier(OPENERS)
    statuses: list[int] = []

    def open_link() -> None:
        client = app.test_client()
        start.wait()
        statuses.append(client.get(f"/r/{token}", headers={"User-Agent": PERSON}).status_code)

    threads = [threading.Thread(target=open_link) for _ in range(OPENERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * OPENERS
    assert videos.enqueued == [(render_id, "ondemand")]
    assert video(services, render_id) == ("queued", 0)


@pytest.mark.parametrize(
    "headers",
    [{"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"},
     {"User-Agent": "Mozilla/5.0 Mimecast URL scanner"},
     {"User-Agent": PERSON, "Sec-Purpose": "prefetch"}, {"User-Agent": ""}],
)  # fmt: skip
def test_bots_scanners_and_prefetches_ask_for_nothing(
    client: FlaskClient,
    auth: dict[str, str],
    services: Services,
    videos: Recorder,
    headers: dict[str, str],
) -> None:
    render_id, token = accept(client, auth, services)
    assert client.get(f"/r/{token}", headers=headers).status_code == 200
    assert client.head(f"/r/{token}", headers={"User-Agent": PERSON}).status_code == 200
    assert client.get(f"/r/{token}/video.m3u8", headers=headers).status_code == 404
    assert client.get(f"/r/{token}/video.mp4", headers=headers).status_code == 200  # preparing
    assert videos.enqueued == []
    assert video(services, render_id) == ("waiting", 0)


def test_an_expired_or_purged_render_never_renders(
    client: FlaskClient, auth: dict[str, str], services: Services, videos: Recorder
) -> None:
    expired, _ = accept(client, auth, services)
    purged, token = accept(client, auth, services)
    old = utcnow() - timedelta(days=services.settings.link_ttl_days + 1)
    with services.db.session() as session:
        session.execute(update(Render).where(Render.id == expired).values(created_at=old))
        session.execute(update(Render).where(Render.id == purged).values(purged_at=utcnow()))
    assert client.get(f"/r/{token}", headers={"User-Agent": PERSON}).status_code == 410
    assert not ask_for_video(services, expired) and not ask_for_video(services, purged)
    assert videos.enqueued == []
    # Purged after it was asked for: the run claims nothing and codes nothing.
    asked, _ = accept(client, auth, services)
    assert ask_for_video(services, asked)
    with services.db.session() as session:
        session.execute(update(Render).where(Render.id == asked).values(purged_at=utcnow()))
    assert run_video_with(services, asked) == "queued"
    assert not list(services.storage.list_keys(f"renders/{asked}/hls/"))


def test_an_erased_render_never_renders(
    client: FlaskClient, auth: dict[str, str], services: Services, videos: Recorder
) -> None:
    render_id, _ = accept(client, auth, services)
    assert ask_for_video(services, render_id)
    with services.db.session() as session:
        row = session.get(Render, render_id)
        assert row is not None
        key_id, customer = row.api_key_id, row.customer_id
    assert erase_customer(services, key_id, customer) == 1
    assert run_video_with(services, render_id) == "missing"
    assert not list(services.storage.list_keys(f"renders/{render_id}/"))


def test_a_silent_run_is_queued_again_then_fails(
    client: FlaskClient, auth: dict[str, str], services: Services, videos: Recorder
) -> None:
    render_id, _ = accept(client, auth, services)
    assert ask_for_video(services, render_id)
    silent = utcnow() - timedelta(seconds=services.settings.stuck_after_seconds + 1)
    with services.db.session() as session:  # a worker claimed it and died
        session.execute(
            update(Render)
            .where(Render.id == render_id)
            .values(video_state="rendering", video_attempts=1, video_updated_at=silent)
        )
    result = sweep_videos(services, videos)
    assert result.requeued == [render_id] and video(services, render_id) == ("rendering", 1)
    runs = services.settings.render_retries + 1
    with services.db.session() as session:  # every run it may have, each died
        session.execute(update(Render).where(Render.id == render_id).values(video_attempts=runs))
    result = sweep_videos(services, videos)
    assert result.failed == [render_id] and video(services, render_id) == ("failed", runs)
