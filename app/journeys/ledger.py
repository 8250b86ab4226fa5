"""The decisions kept per bill, written set-based; and a journey's end once no step is left.

Every change of a step's state writes its decision in the same transaction, so the
history of a bill is exactly what happened to it: `started` (its render was made), `sent`
(its webhook is in the outbox), `deferred` (with the new time), `skipped`, `failed`,
`cancelled` (each with its reason), and the journey's own `stopped` and `completed`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    DateTime,
    String,
    any_,
    bindparam,
    exists,
    insert,
    literal,
    null,
    select,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from app.infra.database import BillJourney, JourneyDecision, JourneyStep

LIVE_STEP_STATES = ("scheduled", "claimed", "rendering")  # a journey with one is not over
DECISION_COLUMNS = [
    "bill_journey_id",
    "step_id",
    "position",
    "at",
    "decision",
    "reason",
    "render_id",
]


def among(
    session: Session, column: InstrumentedAttribute[str], ids: Sequence[str]
) -> ColumnElement[bool]:
    """`column` is one of `ids`: one array parameter on PostgreSQL (thousands of ids
    cost one bind, not thousands), an IN list elsewhere."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(String)))
    return column.in_(list(ids))


def record_steps(
    session: Session, step_ids: Sequence[str], decision: str, reason: str | None, at: datetime
) -> None:
    """One decision per step, copied from the steps' rows by one INSERT ... SELECT."""
    if not step_ids:
        return
    rows = select(
        JourneyStep.bill_journey_id,
        JourneyStep.id,
        JourneyStep.position,
        literal(at, DateTime(timezone=True)),
        literal(decision, String),
        literal(reason, String) if reason is not None else null(),
        JourneyStep.render_id if decision in ("started", "sent", "failed") else null(),
    ).where(among(session, JourneyStep.id, step_ids))
    session.execute(insert(JourneyDecision).from_select(DECISION_COLUMNS, rows))


def record(
    session: Session, bill_journey_id: str, decision: str, at: datetime, **values: Any
) -> None:
    session.add(
        JourneyDecision(bill_journey_id=bill_journey_id, decision=decision, at=at, **values)
    )


def complete_finished(session: Session, bill_journey_ids: Sequence[str], at: datetime) -> list[str]:
    """Mark `completed` the active journeys among these with no step left to run."""
    if not bill_journey_ids:
        return []
    left = exists().where(
        JourneyStep.bill_journey_id == BillJourney.id, JourneyStep.status.in_(LIVE_STEP_STATES)
    )
    done = list(
        session.scalars(
            update(BillJourney)
            .where(
                among(session, BillJourney.id, sorted(set(bill_journey_ids))),
                BillJourney.status == "active",
                ~left,
            )
            .values(status="completed", updated_at=at)
            .returning(BillJourney.id)
            .execution_options(synchronize_session=False)
        )
    )
    for journey_id in done:
        record(session, journey_id, "completed", at)
    return done
