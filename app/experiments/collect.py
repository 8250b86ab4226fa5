"""An experiment's bills as `records.BillRecord`s, read from the database in four set-based
queries (renders, events, payments, payments of journey bills), never one per bill.

- A bill is counted once, from its delivered renders in the experiment: `done`, a
  customer's (not a preview), not purged (its bill, and so its due date and amount, are
  erased) and with something due (a bill in credit cannot be paid). A bill on a journey
  has a render for each step too, copies of it in the same arm: they are the same bill, not
  more of them (a late payer with three reminders would weigh four times). Which renders
  are delivered does not depend on the arm but for a version that fails: that shows as a
  broken split, as it should.
- Delivered when its first render in the experiment was done (`finished_at`), read in the
  customer's time zone (the bill's `customer.time_zone` when it gives one, else UTC), as
  the records expect; opened, watched and clicked on any of its renders.
- Paid at the first payment reported for the bill (`/v1/renders/{id}/payments`): on the
  render itself or, for a bill on a journey, on any other render of the bill (its own
  render, or a step's), wherever the billing system reported it.
- Opened, watched 75 % (the 75 or 100 % beacon, or the end) and pay click from the events
  the funnel counts: flagged ones (bots, bursts, HEAD) are left out.
- Complaints and opt-outs: the service has no report of them yet, so `complained` is None
  (the guardrail then says it has no data, rather than "no complaints").
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from app.experiments.analysis import ExperimentReport, judge
from app.experiments.records import BillRecord
from app.experiments.store import ExperimentInfo
from app.infra.database import BillJourney, Event, JourneyStep, Payment, Render, as_utc

WATCHED_MARKS = ("75", "100")


def _zone(bill: dict[str, Any]) -> ZoneInfo:
    name = (bill.get("customer") or {}).get("time_zone")
    if isinstance(name, str):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


def _bill_fields(bill: dict[str, Any]) -> tuple[date, Decimal] | None:
    """(due date, amount due) of a stored bill; None when it has nothing due or is erased."""
    fields = bill.get("bill") or {}
    try:
        due_on = date.fromisoformat(str(fields["due_on"]))
        amount = Decimal(str(fields["total"]))
    except (KeyError, ValueError, InvalidOperation):
        return None
    return (due_on, amount) if amount.is_finite() and amount > 0 else None


def bill_records(session: Session, experiment_id: str) -> list[BillRecord]:
    """Every delivered bill of the experiment, as a record (in no particular order)."""
    mine = select(Render.id).where(Render.experiment_id == experiment_id).scalar_subquery()
    renders = session.execute(
        select(
            Render.id, Render.customer_id, Render.experiment_arm, Render.bill, Render.finished_at
        ).where(
            Render.experiment_id == experiment_id,
            Render.status == "done",
            Render.purpose == "bill",
            Render.purged_at.is_(None),
            Render.finished_at.is_not(None),
        )
    ).all()
    flags = _event_flags(session, mine)
    paid = _first_payments(session, mine)
    bill_of = _bills_of_steps(session, mine)
    records: dict[str, BillRecord] = {}  # by the bill's own render
    for render_id, customer_id, arm, bill, finished_at in renders:
        fields = _bill_fields(bill or {})
        if fields is None or arm is None:
            continue
        zone = _zone(bill)
        paid_at = paid.get(render_id)
        opened, watched, clicked = flags.get(render_id, (False, False, False))
        record = BillRecord(
            customer_id=customer_id,
            arm=arm,
            due_on=fields[0],
            delivered_at=as_utc(finished_at).astimezone(zone),
            paid_at=as_utc(paid_at).astimezone(zone) if paid_at is not None else None,
            amount=fields[1],
            opened=opened,
            watched75=watched,
            pay_click=clicked,
            complained=None,
        )
        key = bill_of.get(render_id, render_id)
        seen = records.get(key)
        if seen is not None:  # another render of the same bill: one bill, first delivery
            first, later = sorted((seen, record), key=lambda r: r.delivered_at)
            record = dataclasses.replace(
                first,
                opened=first.opened or later.opened,
                watched75=first.watched75 or later.watched75,
                pay_click=first.pay_click or later.pay_click,
            )
        records[key] = record
    return list(records.values())


def _bills_of_steps(session: Session, renders: Any) -> dict[str, str]:
    """A journey step's render -> the render of the bill it reminds of."""
    rows = session.execute(
        select(JourneyStep.render_id, BillJourney.render_id)
        .join(BillJourney, BillJourney.id == JourneyStep.bill_journey_id)
        .where(JourneyStep.render_id.in_(renders))
    )
    return {step: bill for step, bill in rows}


def _event_flags(session: Session, renders: Any) -> dict[str, tuple[bool, bool, bool]]:
    def seen(condition: Any) -> Any:
        return func.max(case((condition, 1), else_=0))

    watched = or_(
        and_(Event.type == "video_progress", Event.name.in_(WATCHED_MARKS)),
        Event.type == "video_completed",
    )
    rows = session.execute(
        select(
            Event.render_id,
            seen(Event.type == "opened"),
            seen(watched),
            seen(Event.type == "pay_click"),
        )
        .where(Event.render_id.in_(renders), Event.flagged.is_(None))
        .group_by(Event.render_id)
    )
    return {r[0]: (bool(r[1]), bool(r[2]), bool(r[3])) for r in rows}


def _first_payments(session: Session, renders: Any) -> dict[str, datetime]:
    """The first payment of each render's bill: on the render, or on its journey's bill."""
    first: dict[str, datetime] = {}

    def keep(render_id: str, at: datetime | None) -> None:
        if at is not None:
            at = as_utc(at)
            if render_id not in first or at < first[render_id]:
                first[render_id] = at

    own = session.execute(
        select(Payment.render_id, func.min(Payment.paid_at))
        .where(Payment.render_id.in_(renders))
        .group_by(Payment.render_id)
    )
    for render_id, at in own:
        keep(render_id, at)
    of_bill = session.execute(
        select(JourneyStep.render_id, func.min(Payment.paid_at))
        .join(BillJourney, BillJourney.id == JourneyStep.bill_journey_id)
        .join(Payment, Payment.render_id == BillJourney.render_id)
        .where(JourneyStep.render_id.in_(renders))
        .group_by(JourneyStep.render_id)
    )
    for render_id, at in of_bill:
        keep(render_id, at)
    step_render = JourneyStep.render_id
    of_steps = session.execute(
        select(BillJourney.render_id, func.min(Payment.paid_at))
        .join(JourneyStep, JourneyStep.bill_journey_id == BillJourney.id)
        .join(Payment, Payment.render_id == step_render)
        .where(BillJourney.render_id.in_(renders))
        .group_by(BillJourney.render_id)
    )
    for render_id, at in of_steps:
        keep(render_id, at)
    return first


def judge_experiment(session: Session, info: ExperimentInfo, as_of: datetime) -> ExperimentReport:
    """The experiment's report at `as_of`, from its bills as the database has them now."""
    records = bill_records(session, info.id)
    # A metric without data yet (the guardrail, unreported; an arm with no bill) is 0/0 in
    # numpy on its way to "not enough data": expected, not worth a warning per look.
    with np.errstate(invalid="ignore", divide="ignore"):
        return judge(
            info.id,
            info.design(),
            records,
            as_of,
            control=info.control,
            overdue_window_days=info.overdue_window_days,
        )
