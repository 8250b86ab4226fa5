"""Typed events through one `record()`, and the funnel computed from them.

Visitors are kept as a keyed hash of their address that changes every day, so repeat
visits can be told apart from new ones without an address ever being stored.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Literal, get_args

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from app.db import Event, Render

EventType = Literal[
    "opened",
    "video_started",
    "video_progress",
    "video_completed",
    "pay_click",
    "cta",
    "paid",
    "webhook_delivered",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
FUNNEL_STEPS = ("delivered", "opened", "video_started", "video_completed", "pay_click", "paid")


def visitor_hash(secret: bytes, address: str | None, now: datetime | None = None) -> str | None:
    """HMAC of the address with a salt that rotates daily; None when there is no address."""
    if not address:
        return None
    day = (now or datetime.now(UTC)).strftime("%Y-%m-%d")
    return hmac.new(secret, f"{day}|{address}".encode(), hashlib.sha256).hexdigest()[:32]


def record(
    session: Session,
    render_id: str,
    type_: EventType,
    *,
    name: str | None = None,
    visitor: str | None = None,
    flagged: str | None = None,
) -> None:
    session.add(Event(render_id=render_id, type=type_, name=name, visitor=visitor, flagged=flagged))


def funnel(session: Session, batch_id: str) -> dict[str, int]:
    """Distinct renders that reached each step of the funnel, flagged (bot) events excluded."""
    delivered = session.scalar(
        select(func.count())
        .select_from(Render)
        .where(Render.batch_id == batch_id, Render.status == "done")
    )
    counts = dict(
        session.execute(
            select(Event.type, func.count(distinct(Event.render_id)))
            .join(Render, Render.id == Event.render_id)
            .where(Render.batch_id == batch_id, Event.flagged.is_(None))
            .group_by(Event.type)
        ).all()
    )
    result = {"delivered": int(delivered or 0)}
    for step in FUNNEL_STEPS[1:]:
        result[step] = int(counts.get(step, 0))
    return result
