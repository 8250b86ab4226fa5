"""Typed events through one `record()`; visitors as daily-salted keyed hashes.

Visitors are kept as a keyed hash (HMAC with the service's secret) of their address and a
random salt that rotates every UTC day. The salt lives in the database so every API process
hashes alike, and the previous day's salt is deleted when a new one is made: after that
nobody, not even whoever holds the secret, can tell which address a stored hash stood for.
Flagged events (HEAD, bots, bursts: see `app.analytics.bots`) are kept but never counted.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.analytics.bots import BURST_WINDOW_SECONDS, within_delivery_burst
from app.infra.database import Database, Event, Render, VisitorSalt, as_utc

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
# Events about the service, not a visit: never flagged, never part of a burst.
SYSTEM_EVENTS = ("paid", "webhook_delivered")
SALT_BYTES = 32
VISITOR_HASH_CHARS = 32  # 128 bits of the HMAC: ample to tell visitors apart

_salts: dict[tuple[str, str], bytes] = {}  # (database url, day) -> salt, this process's copy
_salts_lock = threading.Lock()


def daily_salt(db: Database, now: datetime) -> bytes:
    """Today's (UTC) salt: made once by whichever process needs it first, then shared."""
    day = now.astimezone(UTC).strftime("%Y-%m-%d")
    cached = _salts.get((db.url, day))
    if cached is not None:
        return cached
    with _salts_lock:
        salt = _salts.get((db.url, day)) or _load_or_make_salt(db, day)
        for key in [k for k in _salts if k[0] == db.url]:
            del _salts[key]
        _salts[(db.url, day)] = salt
        return salt


def _load_or_make_salt(db: Database, day: str) -> bytes:
    with db.session() as session:
        row = session.get(VisitorSalt, day)
        if row is not None:
            return row.salt
    try:
        with db.session() as session:
            session.add(VisitorSalt(day=day, salt=secrets.token_bytes(SALT_BYTES)))
            # Forgetting the old salts is what makes yesterday's hashes unlinkable.
            session.execute(delete(VisitorSalt).where(VisitorSalt.day < day))
    except IntegrityError:
        pass  # another process made today's salt first: use theirs
    with db.session() as session:
        row = session.get(VisitorSalt, day)
        if row is None:  # pragma: no cover - only if a purge raced us
            raise RuntimeError(f"the visitor salt of {day} vanished")
        return row.salt


def visitor_hash(secret: bytes, salt: bytes, address: str | None) -> str | None:
    """HMAC of the salted address under the service's secret; None without an address."""
    if not address:
        return None
    digest = hmac.new(secret, salt + address.encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:VISITOR_HASH_CHARS]


def record(
    session: Session,
    render_id: str,
    type_: EventType,
    *,
    name: str | None = None,
    visitor: str | None = None,
    flagged: str | None = None,
    at: datetime | None = None,
) -> Event:
    event = Event(render_id=render_id, type=type_, name=name, visitor=visitor, flagged=flagged)
    if at is not None:
        event.at = at
    session.add(event)
    return event


def flag_bursts(session: Session, render_id: str, visitor: str | None, now: datetime) -> None:
    """Apply the burst rule of `app.analytics.bots` to the visit just recorded at `now`.

    Delivery is the later of the render finishing and its webhook reaching the billing
    system (which sends the e-mail then): scanners follow the links seconds after that.
    """
    since = now - timedelta(seconds=BURST_WINDOW_SECONDS)
    visits = (Event.render_id == render_id, Event.type.not_in(SYSTEM_EVENTS))
    finished_at, webhook_at, others = session.execute(
        select(
            select(Render.finished_at).where(Render.id == render_id).scalar_subquery(),
            select(func.max(Event.at))
            .where(Event.render_id == render_id, Event.type == "webhook_delivered")
            .scalar_subquery(),
            select(func.count())
            .select_from(Event)
            .where(*visits, Event.at >= since, Event.visitor.is_distinct_from(visitor))
            .scalar_subquery(),
        )
    ).one()
    delivered_at = max(
        (as_utc(t) for t in (finished_at, webhook_at) if t is not None), default=None
    )
    near_delivery = within_delivery_burst(delivered_at, now)
    if not others and not near_delivery:
        return
    session.flush()
    # Several visitors at once: all of them are the fleet. Alone but early: only this visit.
    window = Event.at >= (since if others else now)
    session.execute(
        update(Event)
        .where(*visits, window, Event.flagged.is_(None))
        .values(flagged="burst")
        .execution_options(synchronize_session=False)
    )
