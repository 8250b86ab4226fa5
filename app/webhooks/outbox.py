"""The outbox: a finished render's webhook added in the same transaction as its outcome, with
its id and exact body fixed once, so every retry sends and signs the same bytes. Other
events about a render (a journey step's `journey.step_ready`) go the same way.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.delivery.links import public_links
from app.infra.database import Render, WebhookDelivery, as_utc, new_id, utcnow
from app.infra.settings import Settings


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return as_utc(value).astimezone(UTC).isoformat().replace("+00:00", "Z")


def webhook_base_url(settings: Settings) -> str:
    """Base of the links in a payload: no request is at hand when a render finishes."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return f"http://{settings.host}:{settings.port}"


def render_payload(render: Render, base_url: str, at: datetime) -> bytes:
    """The event body: the render as the API shows it, minus anything from the bill."""
    return _body(f"render.{render.status}", render_data(render, base_url), at)


def _body(event: str, data: dict[str, Any], at: datetime) -> bytes:
    body = {"type": event, "timestamp": _iso(at), "data": data}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def render_data(render: Render, base_url: str) -> dict[str, Any]:
    """A render as webhooks show it: its state and public links, nothing from the bill."""
    error = render.error or None
    data: dict[str, Any] = {
        "id": render.id,
        "status": render.status,
        "template": render.template_version or render.template,
        "external_id": render.external_id,
        "customer_id": render.customer_id,
        "outputs": list(render.outputs),
        "links": public_links(base_url, render.token, list(render.outputs)),
        # Only the code: a renderer's message may quote the bill (GET the render for it).
        "error": {"code": error.get("code")} if error else None,
        "batch_id": render.batch_id,
        "created_at": _iso(render.created_at),
        "finished_at": _iso(render.finished_at),
    }
    return data


def enqueue_render_webhook(session: Session, render: Render, settings: Settings) -> str | None:
    """Add the webhook for a finished render to the outbox, in the caller's transaction.

    Returns its id, or None when the render has no callback URL or has not finished. Calling
    it again for the same outcome (a render finished twice) returns the first id: the
    insert skips on the (render_id, event) unique key instead of failing the transaction.
    """
    if not render.callback_url or render.status not in ("done", "failed"):
        return None
    return _enqueue(session, render, render.callback_url, f"render.{render.status}", {}, settings)


def enqueue_render_event(
    session: Session,
    render: Render,
    url: str,
    event: str,
    extra: dict[str, Any],
    settings: Settings,
) -> str:
    """Add an event about `render` (e.g. `journey.step_ready`) for `url` to the outbox, in the
    caller's transaction: the render's data and links, plus `extra`. Once per render and
    event, like `enqueue_render_webhook`; returns its id."""
    return _enqueue(session, render, url, event, extra, settings)


def _enqueue(
    session: Session,
    render: Render,
    url: str,
    event: str,
    extra: dict[str, Any],
    settings: Settings,
) -> str:
    session.flush()  # the render row first: the delivery refers to it, and it fills defaults
    existing = _delivery_id(session, render.id, event)
    if existing is not None:
        return existing
    now = utcnow()
    data = render_data(render, webhook_base_url(settings)) | extra
    values = {
        "id": new_id("msg"),
        "render_id": render.id,
        "api_key_id": render.api_key_id,
        "url": url,
        "event": event,
        "payload": _body(event, data, now),
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
    }
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(WebhookDelivery).values(**values)
        session.execute(statement.on_conflict_do_nothing(index_elements=["render_id", "event"]))
    else:
        session.add(WebhookDelivery(**values))
        session.flush()
    found = _delivery_id(session, render.id, event)
    assert found is not None
    return found


def _delivery_id(session: Session, render_id: str, event: str) -> str | None:
    return session.scalar(
        select(WebhookDelivery.id).where(
            WebhookDelivery.render_id == render_id, WebhookDelivery.event == event
        )
    )
