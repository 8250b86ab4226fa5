"""Retention and erasure: links expire, outputs and bills are purged, customers erased.

- A link expires `link_ttl_days` after its render was created: the customer gets a
  friendly 410 page.
- `purge()` (run by `billreel purge`, e.g. daily from cron) removes the personal data of
  every expired render: its stored outputs, its bill, its payments and its webhook
  messages; and the stored idempotent responses past their TTL. What analytics needs
  stays: the render row with its tone and template version, and its events (visitors are
  daily-salted hashes). The row keeps the billing system's own pseudonymous references
  (customer id, external id), so a later erasure request still finds what is left.
- `erase_customer()` answers a GDPR Art. 17 request: every render of that customer made
  with the calling API key goes, with its outputs, events, payments, webhook messages,
  reminder journeys and the stored idempotent responses that quote it. On SQLite, deleted
  rows are overwritten (`secure_delete`, see `app.infra.database`) and the write-ahead log
  is emptied afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from app.analytics.funnel import render_tone
from app.infra.database import (
    BillJourney,
    Database,
    Event,
    IdempotencyRecord,
    JourneyDecision,
    JourneyStep,
    Payment,
    Render,
    WebhookAttempt,
    WebhookDelivery,
    as_utc,
    utcnow,
)
from app.infra.services import Services
from app.infra.storage import render_prefix

PURGE_CHUNK = 500  # renders per transaction, so a large purge never holds one long lock


def link_expires_at(render: Render, ttl_days: int) -> datetime:
    return as_utc(render.created_at) + timedelta(days=ttl_days)


def link_expired(render: Render, ttl_days: int, now: datetime | None = None) -> bool:
    if render.purged_at is not None:
        return True
    return (now or utcnow()) >= link_expires_at(render, ttl_days)


@dataclass
class PurgeResult:
    renders: int = 0  # renders whose personal data went
    objects: int = 0  # stored objects deleted
    idempotency_records: int = 0  # stored responses past their TTL


def purge(services: Services, now: datetime | None = None) -> PurgeResult:
    """Remove the personal data of renders past retention; safe to run again at any time."""
    cutoff = (now or utcnow()) - timedelta(days=services.settings.link_ttl_days)
    result = PurgeResult()
    while True:
        with services.db.session() as session:
            renders = list(
                session.scalars(
                    select(Render)
                    .where(Render.created_at < cutoff, Render.purged_at.is_(None))
                    .limit(PURGE_CHUNK)
                )
            )
            for render in renders:
                render_tone(render)  # keep the tone for analytics before the bill goes
                # Storage first: a crash leaves the row unpurged, so the next run retries.
                result.objects += services.storage.delete_prefix(render_prefix(render.id))
                render.bill = {}
                render.purged_at = utcnow()
            _delete_render_children(session, [render.id for render in renders], events=False)
            result.renders += len(renders)
        if len(renders) < PURGE_CHUNK:
            break
    # Stored responses quote renders (ids, customer ids, links): they go after their TTL.
    idempotency_cutoff = utcnow() - timedelta(seconds=services.settings.idempotency_ttl_seconds)
    with services.db.session() as session:
        deleted = session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at < idempotency_cutoff)
        )
        result.idempotency_records = int(getattr(deleted, "rowcount", 0) or 0)
    if result.renders or result.idempotency_records:
        _empty_sqlite_log(services.db)
    return result


def erase_customer(services: Services, api_key_id: str, customer_id: str) -> int:
    """Erase everything about one customer of one API key; returns the renders erased."""
    with services.db.session() as session:
        render_ids = list(
            session.scalars(
                select(Render.id).where(
                    Render.api_key_id == api_key_id, Render.customer_id == customer_id
                )
            )
        )
    for render_id in render_ids:
        services.storage.delete_prefix(render_prefix(render_id))
    with services.db.session() as session:
        _delete_journeys(session, api_key_id, customer_id)
        for start in range(0, len(render_ids), PURGE_CHUNK):
            ids = render_ids[start : start + PURGE_CHUNK]
            _delete_render_children(session, ids, events=True)
            session.execute(delete(Render).where(Render.id.in_(ids)))
        _forget_stored_responses(session, api_key_id, {customer_id, *render_ids})
    # Again, now that no row is left: outputs a worker stored meanwhile go too.
    for render_id in render_ids:
        services.storage.delete_prefix(render_prefix(render_id))
    if render_ids:
        _empty_sqlite_log(services.db)
    return len(render_ids)


def _delete_journeys(session: Session, account: str, customer_id: str) -> None:
    """The customer's reminder journeys: their decisions, steps (with the link tokens of
    renders not made yet) and the journeys themselves."""
    journeys = select(BillJourney.id).where(
        BillJourney.account == account, BillJourney.customer_id == customer_id
    )
    session.execute(delete(JourneyDecision).where(JourneyDecision.bill_journey_id.in_(journeys)))
    session.execute(delete(JourneyStep).where(JourneyStep.bill_journey_id.in_(journeys)))
    session.execute(
        delete(BillJourney).where(
            BillJourney.account == account, BillJourney.customer_id == customer_id
        )
    )


def _delete_render_children(session: Session, ids: list[str], *, events: bool) -> None:
    """Webhook messages (with their attempts) and payments of these renders; events too."""
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.render_id.in_(ids))
    session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.render_id.in_(ids)))
    session.execute(delete(Payment).where(Payment.render_id.in_(ids)))
    if events:
        session.execute(delete(Event).where(Event.render_id.in_(ids)))


def _empty_sqlite_log(db: Database) -> None:
    """SQLite keeps old page images in its write-ahead log until a checkpoint: write them
    back (secure_delete has zeroed the erased rows there) and truncate the log. Best
    effort: a busy reader can hold it back, and the next checkpoint then finishes it."""
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def _forget_stored_responses(session: Session, api_key_id: str, needles: set[str]) -> None:
    """Idempotent replays quote the render (its id, customer id, links): drop those."""
    encoded = [needle.encode("utf-8") for needle in needles]
    records = session.execute(
        select(IdempotencyRecord.id, IdempotencyRecord.response_body).where(
            IdempotencyRecord.api_key_id == api_key_id
        )
    ).all()
    doomed = [rid for rid, body in records if body and any(n in body for n in encoded)]
    if doomed:
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id.in_(doomed)))
