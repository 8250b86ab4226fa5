"""The contact limit: how often a customer was contacted lately, over all their bills.

A contact is a step whose render was made (`rendering`) or whose webhook went out (`sent`):
a step counts from the moment it starts, so two steps deciding at once cannot both slip
under the limit. One that failed or was cancelled never reached the customer and does not
count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from app.infra.database import BillJourney, JourneyStep, as_utc

CONTACT_STATES = ("rendering", "sent")
PAIRS_PER_QUERY = 1000  # customers looked up per statement

Customer = tuple[str, str]  # (account, customer id)


def recent_contacts(
    session: Session, customers: Iterable[Customer], since: datetime
) -> dict[Customer, list[datetime]]:
    """When each customer was contacted since `since`, oldest first."""
    found: dict[Customer, list[datetime]] = defaultdict(list)
    wanted = sorted(set(customers))
    for start in range(0, len(wanted), PAIRS_PER_QUERY):
        chunk = wanted[start : start + PAIRS_PER_QUERY]
        rows = session.execute(
            select(JourneyStep.account, JourneyStep.customer_id, JourneyStep.started_at)
            .where(
                tuple_(JourneyStep.account, JourneyStep.customer_id).in_(chunk),
                JourneyStep.started_at >= since,
                JourneyStep.status.in_(CONTACT_STATES),
            )
            .order_by(JourneyStep.started_at)
        )
        for account, customer_id, started_at in rows:
            if started_at is not None:  # it is: the query asks for a time after `since`
                found[(account, customer_id)].append(as_utc(started_at))
    return found


def lock_customers(session: Session, customers: Iterable[Customer]) -> None:
    """Hold every journey of these customers until the transaction ends (PostgreSQL), so two
    schedulers deciding steps of one customer's two bills count each other's contacts.

    Rows are locked in the order of (account, customer, id) in every scheduler, chunk after
    chunk: they wait for one another, never deadlock. SQLite runs one writer at a time and
    needs none of this.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    wanted = sorted(set(customers))
    for start in range(0, len(wanted), PAIRS_PER_QUERY):
        chunk = wanted[start : start + PAIRS_PER_QUERY]
        session.execute(
            select(BillJourney.id)
            .where(tuple_(BillJourney.account, BillJourney.customer_id).in_(chunk))
            .order_by(BillJourney.account, BillJourney.customer_id, BillJourney.id)
            .with_for_update()
        ).all()


def next_free(contacts: list[datetime], now: datetime, limit: int, days: int) -> datetime | None:
    """None when one more contact fits the limit now; else when it will."""
    window = timedelta(days=days)
    recent = sorted(t for t in contacts if t > now - window)
    if len(recent) < limit:
        return None
    return recent[len(recent) - limit] + window
