"""The dispatcher: takes due deliveries from the outbox with a lease, makes one attempt each,
records it and schedules the next; several processes may run it at once.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from app.analytics.events import record
from app.infra.database import Database, WebhookAttempt, WebhookDelivery, as_utc, utcnow
from app.webhooks.schedule import NextState, next_state
from app.webhooks.sender import MAX_ERROR_CHARS, Outcome, Sender
from app.webhooks.signing import signed_headers, webhook_secrets

if TYPE_CHECKING:
    from app.infra.services import Services


log = logging.getLogger(__name__)


LEASE_SECONDS = 300  # a claimed delivery is one dispatcher's for this long, well over one attempt
CLAIM_CANDIDATES = 10  # due rows looked at per claim; others may be taking some of them
DISPATCH_BATCH = 100  # attempts per `deliver_due` call of the dispatcher loop


@dataclass(frozen=True)
class _Claim:
    id: str
    render_id: str
    api_key_id: str
    url: str
    payload: bytes
    attempts: int
    created_at: datetime
    token: str


def _due(now: datetime) -> ColumnElement[bool]:
    row = WebhookDelivery
    return (
        (row.status == "pending")
        & (row.next_attempt_at <= now)
        & or_(row.claimed_until.is_(None), row.claimed_until < now)
    )


def _rowcount(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def _claim_next(db: Database, now: datetime) -> _Claim | None:
    """Take one due delivery with a lease. The UPDATE re-checks that the row is still due,
    so of two dispatchers racing for it exactly one changes it (PostgreSQL re-evaluates the
    WHERE on the locked row; SQLite runs one writer at a time)."""
    with db.session() as session:
        candidates = session.scalars(
            select(WebhookDelivery.id)
            .where(_due(now))
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(CLAIM_CANDIDATES)
        ).all()
    for candidate in candidates:
        token = secrets.token_hex(16)
        with db.session() as session:
            claimed = session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == candidate, _due(now))
                .values(claimed_until=now + timedelta(seconds=LEASE_SECONDS), claim_token=token)
                .execution_options(synchronize_session=False)
            )
            if _rowcount(claimed) != 1:
                continue
            row = session.get(WebhookDelivery, candidate)
            assert row is not None
            return _Claim(
                row.id,
                row.render_id,
                row.api_key_id,
                row.url,
                row.payload,
                row.attempts,
                as_utc(row.created_at),
                token,
            )
    return None


def _record(
    db: Database,
    claim: _Claim,
    outcome: Outcome,
    state: NextState,
    started_at: datetime,
    now: datetime,
) -> None:
    number = claim.attempts + 1
    with db.session() as session:
        session.add(
            WebhookAttempt(
                delivery_id=claim.id,
                number=number,
                at=started_at,
                status_code=outcome.status_code,
                duration_ms=outcome.duration_ms,
                error_class=outcome.error_class,
            )
        )
        values: dict[str, Any] = {
            "status": state.status,
            "attempts": number,
            "last_status_code": outcome.status_code,
            "last_error": (outcome.error or None) and outcome.error[:MAX_ERROR_CHARS],
            "claimed_until": None,
            "claim_token": None,
            "updated_at": now,
        }
        if state.next_attempt_at is not None:
            values["next_attempt_at"] = state.next_attempt_at
        if state.status == "delivered":
            values["delivered_at"] = now
        result = session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == claim.id, WebhookDelivery.claim_token == claim.token)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(result) != 1:
            # The lease ran out and another dispatcher owns the row now; it records its own.
            log.warning("webhook lease lost", extra={"webhook_id": claim.id})
            return
        if state.status == "delivered":
            # The billing system has the bill now: the funnel's delivery step, and the
            # moment the bot-burst rule measures visits from.
            record(session, claim.render_id, "webhook_delivered", at=now)
        if state.status == "disabled":
            # 410 Gone: the endpoint asked to be left alone; stop its other pending deliveries.
            session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.api_key_id == claim.api_key_id,
                    WebhookDelivery.url == claim.url,
                    WebhookDelivery.status == "pending",
                    WebhookDelivery.id != claim.id,
                )
                .values(
                    status="disabled",
                    last_error="the endpoint answered 410 Gone to another delivery",
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )


def deliver_due(
    services: Services,
    limit: int = DISPATCH_BATCH,
    *,
    sender: Sender | None = None,
    clock: Callable[[], datetime] = utcnow,
    rng: random.Random | None = None,
) -> int:
    """Make one attempt for each due delivery, up to `limit`; returns the attempts made.

    Safe to run in several processes at once: a delivery is claimed with a lease first.
    """
    settings = services.settings
    sender = sender or Sender.from_settings(settings)
    rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
    window = timedelta(seconds=settings.webhook_retry_window_seconds)
    signing_secrets = webhook_secrets(settings)
    made = 0
    while made < limit:
        claim = _claim_next(services.db, clock())
        if claim is None:
            break
        started_at = clock()
        headers = signed_headers(signing_secrets, claim.id, claim.payload)
        outcome = sender.send(claim.url, headers, claim.payload)
        now = clock()
        state = next_state(
            outcome,
            attempts=claim.attempts + 1,
            created_at=claim.created_at,
            now=now,
            window=window,
            rng=rng,
        )
        _record(services.db, claim, outcome, state, started_at, now)
        log.info(
            "webhook attempt",
            extra={
                "webhook_id": claim.id,
                "render_id": claim.render_id,
                "status_code": outcome.status_code,
                "error_class": outcome.error_class,
                "delivery_status": state.status,
            },
        )
        made += 1
    return made


def run_dispatcher(
    services: Services, stop_event: threading.Event, interval_seconds: float | None = None
) -> None:
    """Deliver due webhooks until `stop_event` is set; a full batch goes again at once."""
    interval = (
        services.settings.webhook_poll_seconds if interval_seconds is None else interval_seconds
    )
    sender = Sender.from_settings(services.settings)
    while not stop_event.is_set():
        try:
            busy = deliver_due(services, sender=sender) >= DISPATCH_BATCH
        except Exception:
            log.exception("webhook dispatch failed")
            busy = False
        if not busy:
            stop_event.wait(interval)


def start_dispatcher(services: Services) -> threading.Event:
    """Run the dispatcher in a daemon thread; set the returned event to stop it."""
    stop_event = threading.Event()
    thread = threading.Thread(
        target=run_dispatcher, args=(services, stop_event), name="webhooks", daemon=True
    )
    thread.start()
    return stop_event
