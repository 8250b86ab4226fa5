"""Dashboard sessions, kept on the server: a cookie names a session, the database holds it.

A session starts when someone logs in with a live key and ends at the first of:
logging out, `idle` without a page, `absolute` after it started, its key revoked, or an admin
ending it. Whatever ended it, the old cookie opens nothing again (OWASP ASVS 4, V3.3). The
cookie carries 256 random bits; only their SHA-256 is stored, so the table leaks no cookie.
The database is shared by every API process, so a session ended on one is over on all.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from app.infra.database import ApiKey, DashboardSession, Database, as_utc, new_id, utcnow

TOKEN_BYTES = 32
# A page seen refreshes the idle clock at most this often: no write for every page.
SEEN_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionLimits:
    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True)
class SessionInfo:
    """What an admin sees of a session: never its cookie."""

    id: str
    key_id: str
    account: str
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None
    end_reason: str | None

    @classmethod
    def of(cls, row: DashboardSession) -> SessionInfo:
        return cls(
            id=row.id,
            key_id=row.key_id,
            account=row.account,
            created_at=as_utc(row.created_at),
            last_seen_at=as_utc(row.last_seen_at),
            ended_at=as_utc(row.ended_at) if row.ended_at else None,
            end_reason=row.end_reason,
        )


@dataclass(frozen=True)
class NewSession:
    id: str
    token: str  # the cookie's value: for the browser only


@dataclass(frozen=True)
class LiveSession:
    id: str
    account: str
    key_id: str
    scope: str  # the key's: what the session may see (app.access.scopes)
    key_name: str  # a label, the author of what the session changes


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(db: Database, key: ApiKey) -> NewSession:
    """A new session for a live key, with the cookie's value."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    session_id = new_id("ses")
    with db.session() as session:
        session.add(
            DashboardSession(
                id=session_id,
                token_hash=_digest(token),
                key_id=key.id,
                account=key.account,
                created_at=now,
                last_seen_at=now,
            )
        )
    return NewSession(session_id, token)


def live_session(db: Database, token: str, limits: SessionLimits) -> LiveSession | None:
    """The session this cookie names if it is still live; ends it when it just ran out."""
    if not token or len(token) > 2 * TOKEN_BYTES:
        return None
    now = utcnow()
    with db.session() as session:
        row = session.scalar(
            select(DashboardSession).where(DashboardSession.token_hash == _digest(token))
        )
        if row is None or row.ended_at is not None:
            return None
        key = session.get(ApiKey, row.key_id)
        reason = None
        if key is None or key.revoked_at is not None:
            reason = "key_revoked"
        elif now - as_utc(row.last_seen_at) >= limits.idle:
            reason = "idle"
        elif now - as_utc(row.created_at) >= limits.absolute:
            reason = "expired"
        if reason is not None:
            row.ended_at, row.end_reason = now, reason
            return None
        if now - as_utc(row.last_seen_at) >= SEEN_RESOLUTION:
            row.last_seen_at = now
        assert key is not None
        return LiveSession(row.id, row.account, key.id, key.scope, key.name)


def end_session(
    db: Database, *, token: str | None = None, session_id: str | None = None, reason: str = "logout"
) -> SessionInfo | None:
    """End one live session, named by its cookie (logging out) or its id (an admin); the
    session as it ended, or None when there was no such live session."""
    with db.session() as session:
        if token is not None:
            row = session.scalar(
                select(DashboardSession).where(DashboardSession.token_hash == _digest(token))
            )
        else:
            row = session.get(DashboardSession, session_id) if session_id else None
        if row is None or row.ended_at is not None:
            return None
        row.ended_at, row.end_reason = utcnow(), reason
        return SessionInfo.of(row)


def get_session(db: Database, session_id: str) -> SessionInfo | None:
    with db.session() as session:
        row = session.get(DashboardSession, session_id)
        return SessionInfo.of(row) if row is not None else None


def list_sessions(db: Database, *, live_only: bool = False) -> list[SessionInfo]:
    query = select(DashboardSession).order_by(DashboardSession.created_at.desc())
    if live_only:
        query = query.where(DashboardSession.ended_at.is_(None))
    with db.session() as session:
        return [SessionInfo.of(row) for row in session.scalars(query)]
