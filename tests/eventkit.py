"""Helpers for the event, payment, analytics and dashboard tests: done batches, visits."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from app.infra.database import Event, Render, utcnow
from app.infra.services import Services
from app.infra.storage import CONTENT_TYPES, output_key
from tests.factories import make_render_request

NDJSON = "application/x-ndjson"
BROWSER = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
OVERDUE = {"data.bill.status": "overdue", "data.bill.days_overdue": 3}  # tone: nudge
# Stand-ins for rendered files: the routes serve bytes, they do not decode them.
FAKE_FILES = {
    "site/index.html": b"<!doctype html><title>bill</title>",
    "video.mp4": bytes(range(256)) * 64,
    "poster.jpg": b"\xff\xd8\xff\xe0poster",
    "captions.vtt": b"WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n",
    "chapters.vtt": b"WEBVTT\n\nintro\n00:00.000 --> 00:01.000\nIntroduction\n",
}


def request_for(
    n: int, outputs: tuple[str, ...] = ("microsite",), **overrides: Any
) -> dict[str, Any]:
    request = make_render_request(**overrides)
    request["data"]["customer"]["id"] = f"CUST-{n}"
    request["outputs"] = list(outputs)
    return request


def make_batch(
    client: FlaskClient,
    auth: dict[str, str],
    services: Services,
    requests: list[dict[str, Any]],
    *,
    finished_ago: timedelta = timedelta(hours=1),
) -> tuple[str, list[Render]]:
    """A batch whose renders are done, with stand-in files stored for their outputs."""
    body = b"".join(json.dumps(r).encode() + b"\n" for r in requests)
    response = client.post("/v1/batches", data=body, headers=auth, content_type=NDJSON)
    assert response.status_code == 202, response.get_data(as_text=True)
    batch_id: str = response.get_json()["id"]
    with services.db.session() as session:
        renders = list(
            session.scalars(select(Render).where(Render.batch_id == batch_id).order_by(Render.line))
        )
        for render in renders:
            render.status = "done"
            render.finished_at = utcnow() - finished_ago
            for name, data in FAKE_FILES.items():
                if ("microsite" if name == "site/index.html" else "video") in render.outputs:
                    services.storage.put_bytes(
                        output_key(render.id, name),
                        data,
                        content_type=CONTENT_TYPES.get(name, "text/html; charset=utf-8"),
                        cache_control="private, no-cache",
                    )
    return batch_id, renders


def visit(
    client: FlaskClient,
    path: str,
    *,
    ua: str = BROWSER,
    addr: str = "203.0.113.7",
    headers: dict[str, str] | None = None,
) -> Any:
    return client.get(
        path, headers={"User-Agent": ua, **(headers or {})}, environ_base={"REMOTE_ADDR": addr}
    )


def beacon(client: FlaskClient, token: str, type_: str, name: str | None = None) -> None:
    data = {"type": type_} | ({"name": name} if name else {})
    response = client.post(
        f"/r/{token}/events",
        data=data,
        headers={"User-Agent": BROWSER, "Sec-Fetch-Site": "same-origin"},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert response.status_code == 204


def flags(services: Services, render_id: str) -> list[tuple[str, str | None]]:
    with services.db.session() as session:
        rows = session.execute(
            select(Event.type, Event.flagged).where(Event.render_id == render_id).order_by(Event.id)
        )
        return [(t, f) for t, f in rows]
