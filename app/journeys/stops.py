"""Stop rules: a bill's journey stops at once, in the transaction of what stopped it.

- `paid`: the billing system reported a payment (`POST /v1/renders/{id}/payments`);
- `instalment_plan`, `promise_to_pay`: the customer asked for one on the microsite;
- `cancelled`: the billing system cancelled the journey (`POST /v1/renders/{id}/journey/cancel`);
- `nothing_due` (and `paid`) at enrollment: a bill with nothing to collect never starts.

Its scheduled steps become skipped; a step whose render is being made becomes cancelled, so
its webhook is never sent (`app.journeys.delivery`). The steps are locked before the journey
row, in the order the scheduler takes them, so a stop and a tick wait for each other and
never deadlock. Their renders still queued are cancelled after the commit
(`cancel_renders`): nobody waits for them any more.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import CursorResult, case, select, update
from sqlalchemy.orm import Session

from app.infra.database import BillJourney, Database, JourneyStep, Render, utcnow
from app.journeys.history import journey_id_of_render
from app.journeys.ledger import among, record

StopReason = Literal["paid", "instalment_plan", "promise_to_pay", "cancelled"]
# Calls to action on the microsite that stop the customer's journey, and why.
STOPPING_ACTIONS: dict[str, StopReason] = {
    "instalments": "instalment_plan",
    "promise_to_pay": "promise_to_pay",
}


def stop(
    session: Session, bill_journey_id: str, reason: StopReason, now: datetime | None = None
) -> list[str] | None:
    """Stop the journey; None when it was not active (stopped or completed already), else the
    render ids of the steps cancelled mid-render."""
    now = now or utcnow()
    live = session.execute(
        select(JourneyStep.id, JourneyStep.position, JourneyStep.status, JourneyStep.render_id)
        .where(
            JourneyStep.bill_journey_id == bill_journey_id,
            JourneyStep.status.in_(("scheduled", "rendering")),
        )
        .order_by(JourneyStep.id)
        .with_for_update()
    ).all()
    stopped = session.execute(
        update(BillJourney)
        .where(BillJourney.id == bill_journey_id, BillJourney.status == "active")
        .values(status="stopped", stop_reason=reason, stopped_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not isinstance(stopped, CursorResult) or stopped.rowcount != 1:
        return None
    record(session, bill_journey_id, "stopped", now, reason=reason)
    if not live:
        return []
    session.execute(
        update(JourneyStep)
        .where(among(session, JourneyStep.id, [row.id for row in live]))
        .values(
            status=case((JourneyStep.status == "scheduled", "skipped"), else_="cancelled"),
            reason=reason,
            finished_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    for row in sorted(live, key=lambda r: r.position):
        decision = "skipped" if row.status == "scheduled" else "cancelled"
        render_id = row.render_id if decision == "cancelled" else None
        record(session, bill_journey_id, decision, now, step_id=row.id, position=row.position,
               reason=reason, render_id=render_id)  # fmt: skip
    return [row.render_id for row in live if row.status == "rendering"]


def stop_for_render(
    session: Session, render_id: str, reason: StopReason, now: datetime | None = None
) -> list[str] | None:
    """Stop the journey of the bill `render_id` belongs to, if it has one."""
    found = journey_id_of_render(session, render_id)
    return stop(session, found[0], reason, now) if found else None


def cancel_renders(db: Database, render_ids: list[str]) -> int:
    """Cancel the renders of cancelled steps that no worker has taken yet."""
    if not render_ids:
        return 0
    now = utcnow()
    with db.session() as session:
        result = session.execute(
            update(Render)
            .where(among(session, Render.id, render_ids), Render.status == "queued")
            .values(status="cancelled", finished_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount if isinstance(result, CursorResult) else 0
