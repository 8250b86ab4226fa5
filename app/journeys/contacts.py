"""The contact limit: how often a customer was contacted lately, over all their bills.

A contact is a step whose render was made (`rendering`) or whose webhook went out (`sent`):
a step counts from the moment it starts, so two steps deciding at once cannot both slip
under the limit. One that failed or was cancelled never reached the customer and does not
count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.infra.database import BillJourney, JourneyStep, as_utc
from app.journeys.ledger import among

CONTACT_STATES = ("rendering", "sent")

Customer = tuple[str, str]  # (account, customer id)


def _by_account(customers: Sequence[Customer]) -> dict[str, list[str]]:
    """Customer ids grouped by account: each group is one indexed lookup of an array of ids
    (`customer_id = ANY(...)` on PostgreSQL), whatever the size of the batch."""
    grouped: dict[str, set[str]] = defaultdict(set)
    for account, customer_id in customers:
        grouped[account].add(customer_id)
    return {account: sorted(ids) for account, ids in sorted(grouped.items())}


def recent_contacts(
    session: Session, customers: Sequence[Customer], since: datetime
) -> dict[Customer, list[datetime]]:
    """When each of these customers was contacted since `since`, oldest first."""
    found: dict[Customer, list[datetime]] = defaultdict(list)
    for account, ids in _by_account(customers).items():
        rows = session.execute(
            select(JourneyStep.customer_id, JourneyStep.started_at)
            .where(
                JourneyStep.account == account,
                among(session, JourneyStep.customer_id, ids),
                JourneyStep.started_at >= since,
                JourneyStep.status.in_(CONTACT_STATES),
            )
            .order_by(JourneyStep.started_at)
        )
        for customer_id, started_at in rows:
            if started_at is not None:  # it is: the query asks for a time after `since`
                found[(account, customer_id)].append(as_utc(started_at))
    return found


def lock_customers(session: Session, customers: Sequence[Customer]) -> None:
    """Hold every journey of these customers until the transaction ends (PostgreSQL), so
    two schedulers deciding steps of one customer's two bills count each other's contacts.

    Rows are locked in the order of (account, customer, id) in every scheduler: they wait
    for one another, never deadlock. SQLite runs one writer at a time and needs none of this.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for account, ids in _by_account(customers).items():
        session.execute(
            select(BillJourney.id)
            .where(BillJourney.account == account, among(session, BillJourney.customer_id, ids))
            .order_by(BillJourney.customer_id, BillJourney.id)
            .with_for_update()
        ).all()


def next_free(contacts: list[datetime], now: datetime, limit: int, days: int) -> datetime | None:
    """None when one more contact fits the limit now; else when it will."""
    window = timedelta(days=days)
    recent = sorted(t for t in contacts if t > now - window)
    if len(recent) < limit:
        return None
    return recent[len(recent) - limit] + window
