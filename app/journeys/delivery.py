"""A step's render finished: the billing system is told, exactly once, or not at all.

Called by the render job in the transaction that records the render's outcome
(`app.rendering.job`). One conditional UPDATE moves the step from `rendering` to `sent` and
the `journey.step_ready` webhook joins the outbox beside it; a payment (or another stop)
that reached the step first has moved it to `cancelled`, so the UPDATE changes nothing and
no webhook is made. A render finished twice finds its step sent already: one webhook.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from app.infra.database import BillJourney, JourneyStep, Render, as_utc, utcnow
from app.infra.settings import Settings
from app.journeys.ledger import complete_finished, record
from app.journeys.store import version_by_id
from app.webhooks.outbox import enqueue_render_event

STEP_READY = "journey.step_ready"


def step_render_finished(session: Session, render: Render, settings: Settings) -> None:
    """Record the outcome of `render` on its journey step, if it is one's."""
    step = session.scalar(select(JourneyStep).where(JourneyStep.render_id == render.id))
    if step is None:
        return
    now = utcnow()
    done = render.status == "done"
    values: dict[str, Any] = {"status": "sent" if done else "failed", "finished_at": now}
    if not done:
        values["reason"] = ((render.error or {}).get("code") or render.status)[:32]
    moved = session.execute(
        update(JourneyStep)
        .where(JourneyStep.id == step.id, JourneyStep.status == "rendering")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not isinstance(moved, CursorResult) or moved.rowcount != 1:
        return  # cancelled while it rendered (paid, stopped), or told already
    if done:
        webhook_id = _announce(session, render, step, settings)
        session.execute(
            update(JourneyStep).where(JourneyStep.id == step.id).values(webhook_id=webhook_id)
        )
    record(session, step.bill_journey_id, values["status"], now, step_id=step.id,
           position=step.position, render_id=render.id, reason=values.get("reason"))  # fmt: skip
    complete_finished(session, [step.bill_journey_id], now)


def _announce(session: Session, render: Render, step: JourneyStep, settings: Settings) -> str:
    """The `journey.step_ready` webhook, to the callback URL the bill was submitted with."""
    journey, bill_render = session.execute(
        select(BillJourney, Render)
        .join(Render, Render.id == BillJourney.render_id)
        .where(BillJourney.id == step.bill_journey_id)
    ).one()
    name, number, definition = version_by_id(session, journey.journey_version_id)
    defined = definition["steps"][step.position - 1]
    extra = {
        "journey": {
            "id": journey.id,
            "name": name,
            "version": number,
            "bill_render_id": bill_render.id,
            "step": {
                "position": step.position,
                "name": defined.get("name", ""),
                "offset_days": defined["offset_days"],
                "tone": step.tone,
                "due_at": _iso(step.due_at),
            },
        }
    }
    url = bill_render.callback_url
    assert url, "a bill is put on a journey only with a callback_url"
    return enqueue_render_event(session, render, url, STEP_READY, extra, settings)


def _iso(value: datetime) -> str:
    return as_utc(value).astimezone(UTC).isoformat().replace("+00:00", "Z")
