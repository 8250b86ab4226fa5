"""A bill submitted with a journey: its steps become scheduled rows, in the caller's
transaction (the render's), so a bill is never accepted without its schedule.

Each step's time, tone, render id and link token are fixed here. A bill with nothing to
collect (paid, in credit) stops at once; a step whose time has already passed beyond its
grace (an overdue bill submitted late) is recorded as skipped, too late.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.delivery.links import new_token
from app.infra.database import BillJourney, JourneyDecision, JourneyStep, Render, new_id
from app.journeys.store import VersionInfo
from app.journeys.timing import step_times, tone_on, zone


def nothing_to_collect(bill: dict[str, Any]) -> str | None:
    """Why a bill needs no reminder at all: `paid`, or `nothing_due` (in credit, or zero)."""
    body = bill["bill"]
    if body["status"] == "paid":
        return "paid"
    if Decimal(str(body["total"])) <= 0:
        return "nothing_due"
    return None


def enroll(session: Session, render: Render, version: VersionInfo, now: datetime) -> BillJourney:
    """Put the bill of `render` (just accepted, not yet committed) on `version`."""
    definition = version.definition
    bill = render.bill
    tz_name = bill["customer"].get("time_zone") or definition.time_zone
    tz = zone(tz_name)
    due_on = date.fromisoformat(bill["bill"]["due_on"])
    stop_reason = nothing_to_collect(bill)
    journey = BillJourney(
        id=new_id("bjn"),
        account=render.api_key_id,
        customer_id=render.customer_id,
        render_id=render.id,
        journey_version_id=version.id,
        time_zone=tz_name,
        due_on=due_on,
        status="stopped" if stop_reason else "active",
        stop_reason=stop_reason,
        stopped_at=now if stop_reason else None,
        created_at=now,
        updated_at=now,
    )
    session.add(journey)
    times = step_times(
        due_on,
        [step.offset_days for step in definition.steps],
        definition.send_at,
        tz,
        definition.quiet_hours,
        timedelta(days=definition.grace_days),
    )
    decisions: list[JourneyDecision] = []
    scheduled = 0
    for position, (step, (due_at, ends_at)) in enumerate(
        zip(definition.steps, times, strict=True), 1
    ):
        reason = stop_reason or ("late" if ends_at <= now else None)
        row = JourneyStep(
            id=new_id("jst"),
            bill_journey_id=journey.id,
            position=position,
            account=journey.account,
            customer_id=journey.customer_id,
            template=step.template,
            tone=step.tone if step.tone != "rules" else tone_on(bill, due_at.astimezone(tz).date()),
            outputs=list(step.outputs),
            due_at=due_at,
            window_ends_at=ends_at,
            status="skipped" if reason else "scheduled",
            reason=reason,
            render_id=new_id("rnd"),
            token=new_token(),
            finished_at=now if reason else None,
        )
        session.add(row)
        if reason:
            decisions.append(_decision(journey, row, "skipped", reason, now))
        else:
            scheduled += 1
    if stop_reason:
        decisions.append(JourneyDecision(bill_journey_id=journey.id, at=now, decision="stopped",
                                         reason=stop_reason))  # fmt: skip
    elif not scheduled:  # every step was already too late
        journey.status = "completed"
        decisions.append(JourneyDecision(bill_journey_id=journey.id, at=now, decision="completed"))
    session.add_all(decisions)
    return journey


def _decision(
    journey: BillJourney, step: JourneyStep, decision: str, reason: str | None, at: datetime
) -> JourneyDecision:
    return JourneyDecision(
        bill_journey_id=journey.id,
        step_id=step.id,
        position=step.position,
        at=at,
        decision=decision,
        reason=reason,
    )
