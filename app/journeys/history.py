"""A bill's journey as the API and the dashboard show it: its steps and every decision.

Plain records, easy to query from elsewhere too (the credit manager's figures): a step's
position, template, tone, time, state and reason, its render once made, and the decisions
in the order they were taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.infra.database import BillJourney, JourneyDecision, JourneyStep, as_utc
from app.journeys.store import version_by_id

RECENT_JOURNEYS = 50


@dataclass(frozen=True)
class StepRecord:
    position: int
    name: str
    offset_days: int
    template: str
    tone: str
    outputs: list[str]
    due_at: datetime
    window_ends_at: datetime
    status: str
    reason: str | None
    render_id: str | None  # once its render was made
    token: str | None  # ... and its tracked link
    started_at: datetime | None
    finished_at: datetime | None
    webhook_id: str | None


@dataclass(frozen=True)
class DecisionRecord:
    at: datetime
    position: int | None
    decision: str
    reason: str | None
    render_id: str | None
    until: datetime | None


@dataclass(frozen=True)
class BillJourneyRecord:
    id: str
    journey: str
    version: int
    render_id: str  # the bill's first render
    customer_id: str
    time_zone: str
    due_on: date
    status: str
    stop_reason: str | None
    stopped_at: datetime | None
    created_at: datetime
    steps: list[StepRecord]
    decisions: list[DecisionRecord]

    @property
    def ref(self) -> str:
        return f"{self.journey}@{self.version}"


def _when(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


def bill_journey(session: Session, bill_journey_id: str) -> BillJourneyRecord | None:
    row = session.get(BillJourney, bill_journey_id)
    if row is None:
        return None
    name, number, definition = version_by_id(session, row.journey_version_id)
    defined = definition["steps"]
    steps = [
        StepRecord(
            position=s.position,
            name=defined[s.position - 1].get("name", ""),
            offset_days=defined[s.position - 1]["offset_days"],
            template=s.template,
            tone=s.tone,
            outputs=list(s.outputs),
            due_at=as_utc(s.due_at),
            window_ends_at=as_utc(s.window_ends_at),
            status=s.status,
            reason=s.reason,
            render_id=s.render_id if s.started_at is not None else None,
            token=s.token if s.started_at is not None else None,
            started_at=_when(s.started_at),
            finished_at=_when(s.finished_at),
            webhook_id=s.webhook_id,
        )
        for s in session.scalars(
            select(JourneyStep)
            .where(JourneyStep.bill_journey_id == row.id)
            .order_by(JourneyStep.position)
        )
    ]
    decisions = [
        DecisionRecord(as_utc(d.at), d.position, d.decision, d.reason, d.render_id, _when(d.until))
        for d in session.scalars(
            select(JourneyDecision)
            .where(JourneyDecision.bill_journey_id == row.id)
            .order_by(JourneyDecision.id)
        )
    ]
    return BillJourneyRecord(
        id=row.id, journey=name, version=number, render_id=row.render_id,
        customer_id=row.customer_id, time_zone=row.time_zone, due_on=row.due_on,
        status=row.status, stop_reason=row.stop_reason, stopped_at=_when(row.stopped_at),
        created_at=as_utc(row.created_at), steps=steps, decisions=decisions,
    )  # fmt: skip


@dataclass(frozen=True)
class JourneyLine:
    """One bill's journey in a list: where it stands."""

    id: str
    render_id: str
    customer_id: str
    status: str
    stop_reason: str | None
    created_at: datetime
    steps_done: int
    steps: int


def recent(session: Session, account: str, limit: int = RECENT_JOURNEYS) -> list[JourneyLine]:
    """The account's newest bill journeys, with how many of their steps are over."""
    over = func.sum(
        case((JourneyStep.status.in_(("sent", "skipped", "failed", "cancelled")), 1), else_=0)
    )
    rows = session.execute(
        select(BillJourney, func.count(JourneyStep.id), over)
        .join(JourneyStep, JourneyStep.bill_journey_id == BillJourney.id)
        .where(BillJourney.account == account)
        .group_by(BillJourney.id)
        .order_by(BillJourney.created_at.desc(), BillJourney.id)
        .limit(limit)
    ).all()
    return [
        JourneyLine(
            j.id,
            j.render_id,
            j.customer_id,
            j.status,
            j.stop_reason,
            as_utc(j.created_at),
            int(done or 0),
            int(total),
        )
        for j, total, done in rows
    ]


def journey_id_of_render(session: Session, render_id: str) -> tuple[str, int | None] | None:
    """(bill journey id, step position or None for the bill's first render) of a render."""
    first = session.scalar(select(BillJourney.id).where(BillJourney.render_id == render_id))
    if first is not None:
        return first, None
    step = session.execute(
        select(JourneyStep.bill_journey_id, JourneyStep.position).where(
            JourneyStep.render_id == render_id
        )
    ).first()
    return (step[0], int(step[1])) if step is not None else None
