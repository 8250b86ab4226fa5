"""A bill on a journey, in one process on SQLite: each step's render when it is due, its
signed webhook once, and the stop rules; the clock is moved, never waited for."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from app.infra.database import JourneyStep, Render, WebhookDelivery
from app.infra.services import Services
from app.journeys.scheduler import tick
from app.rendering.job import run_render_with
from tests.journeys.kit import CALLBACK, bill_request, utc

Mover = Callable[[datetime], None]


def submit(client: FlaskClient, auth: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = client.post("/v1/renders", json=bill_request(**overrides), headers=auth)
    assert response.status_code == 202, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def journey(client: FlaskClient, auth: dict[str, str], render_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/renders/{render_id}/journey", headers=auth)
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def step_render(services: Services, render_id: str) -> Render:
    with services.db.session() as session:
        row = session.get(Render, render_id)
        assert row is not None
        session.expunge(row)
        return row


def webhooks(services: Services, event: str = "journey.step_ready") -> list[dict[str, Any]]:
    with services.db.session() as session:
        rows = session.scalars(select(WebhookDelivery).where(WebhookDelivery.event == event))
        return [json.loads(row.payload) | {"_url": row.url} for row in rows]


def decisions(body: dict[str, Any]) -> list[tuple[int | None, str, str | None]]:
    return [(d["step"], d["decision"], d["reason"]) for d in body["decisions"]]


def test_each_step_renders_when_due_is_announced_once_and_a_payment_stops_the_rest(
    jclient: FlaskClient, jauth: dict[str, str], jservices: Services, at: Mover
) -> None:
    at(utc("2026-11-20T12:00"))
    bill = submit(jclient, jauth)
    assert bill["journey"] == {
        "id": bill["journey"]["id"], "journey": "gentle@1", "status": "active", "step": None,
    }  # fmt: skip
    body = journey(jclient, jauth, bill["id"])
    assert [s["status"] for s in body["steps"]] == ["scheduled"] * 4
    # 10:00 in Rome (UTC+1) on the step's day; the rules make the day after the due date a nudge.
    assert [(s["due_at"], s["tone"]) for s in body["steps"]] == [
        ("2026-11-27T09:00:00Z", "pay"),
        ("2026-12-01T09:00:00Z", "nudge"),
        ("2026-12-07T09:00:00Z", "firm"),
        ("2026-12-15T09:00:00Z", "firm"),
    ]
    assert body["steps"][0]["window_ends_at"] == "2026-11-30T09:00:00Z"  # 3 days' grace

    at(utc("2026-11-27T08:59"))
    assert tick(jservices, None).claimed == 0  # not yet
    at(utc("2026-11-27T09:01"))
    first = tick(jservices, None)
    assert (first.claimed, len(first.started)) == (1, 1)
    render = step_render(jservices, first.started[0])
    assert (render.status, render.forced_tone, render.callback_url) == ("queued", "pay", None)
    assert render.template_version == "bill-explainer@1" and render.template_version_id
    assert render.bill == step_render(jservices, bill["id"]).bill  # the bill, as submitted
    assert tick(jservices, None).claimed == 0  # started once

    assert run_render_with(jservices, render.id) == "done"
    assert run_render_with(jservices, render.id) == "done"  # a second run changes nothing
    [sent] = webhooks(jservices)
    assert sent["_url"] == CALLBACK and sent["type"] == "journey.step_ready"
    assert sent["data"]["id"] == render.id
    assert sent["data"]["links"] == {"microsite": f"https://bills.example.test/r/{render.token}"}
    assert sent["data"]["journey"]["step"] == {
        "position": 1, "name": "friendly reminder", "offset_days": -3, "tone": "pay",
        "due_at": "2026-11-27T09:00:00Z",
    }  # fmt: skip
    assert sent["data"]["journey"]["bill_render_id"] == bill["id"]
    assert webhooks(jservices, "render.done") == []  # the step's own webhook says it
    page = jclient.get(f"/r/{render.token}")
    assert page.status_code == 200 and b"status-pay" in page.data

    at(utc("2026-12-01T09:01"))
    second = tick(jservices, None)
    assert len(second.started) == 1
    assert step_render(jservices, second.started[0]).forced_tone == "nudge"
    # Paid while the nudge waits for a worker: its render is cancelled, no webhook goes.
    paid = jclient.post(f"/v1/renders/{bill['id']}/payments", json={}, headers=jauth)
    assert paid.status_code == 201
    assert step_render(jservices, second.started[0]).status == "cancelled"
    assert run_render_with(jservices, second.started[0]) == "cancelled"
    assert len(webhooks(jservices)) == 1

    body = journey(jclient, jauth, bill["id"])
    assert (body["status"], body["stop_reason"]) == ("stopped", "paid")
    assert [(s["status"], s["reason"]) for s in body["steps"]] == [
        ("sent", None), ("cancelled", "paid"), ("skipped", "paid"), ("skipped", "paid"),
    ]  # fmt: skip
    assert body["steps"][0]["links"]["microsite"].endswith(render.token)
    assert body["steps"][0]["webhook_id"] == webhooks_ids(jservices)[0]
    assert decisions(body) == [
        (1, "started", None), (1, "sent", None), (2, "started", None),
        (None, "stopped", "paid"), (2, "cancelled", "paid"), (3, "skipped", "paid"),
        (4, "skipped", "paid"),
    ]  # fmt: skip
    at(utc("2026-12-07T09:01"))
    assert tick(jservices, None).claimed == 0  # nothing left to run


def webhooks_ids(services: Services) -> list[str]:
    with services.db.session() as session:
        return list(
            session.scalars(
                select(WebhookDelivery.id).where(WebhookDelivery.event == "journey.step_ready")
            )
        )


def test_a_step_missed_overnight_waits_for_the_morning_and_one_too_late_is_skipped(
    jclient: FlaskClient, jauth: dict[str, str], jservices: Services, at: Mover
) -> None:
    at(utc("2026-11-20T12:00"))
    bill = submit(jclient, jauth)
    at(utc("2026-11-27T20:30"))  # 21:30 in Rome: the service was down all day
    result = tick(jservices, None)
    assert (result.claimed, result.deferred, result.started) == (1, 1, [])
    [deferred] = [d for d in journey(jclient, jauth, bill["id"])["decisions"]]
    assert (deferred["decision"], deferred["reason"]) == ("deferred", "quiet_hours")
    assert deferred["until"] == "2026-11-28T07:00:00Z"  # 08:00 in Rome
    at(utc("2026-11-28T06:59"))
    assert tick(jservices, None).claimed == 0
    at(utc("2026-11-28T07:00"))
    assert len(tick(jservices, None).started) == 1

    at(utc("2026-12-04T09:30"))  # the nudge's window (3 days' grace) closed at 09:00
    late = tick(jservices, None)
    assert late.skipped == {"late": 1} and late.started == []
    steps = journey(jclient, jauth, bill["id"])["steps"]
    assert [(s["status"], s["reason"]) for s in steps[:3]] == [
        ("rendering", None), ("skipped", "late"), ("scheduled", None),
    ]  # fmt: skip


def test_a_bill_paid_or_in_credit_never_starts_and_one_submitted_late_skips_past_steps(
    jclient: FlaskClient, jauth: dict[str, str], at: Mover
) -> None:
    at(utc("2026-11-20T12:00"))
    paid = submit(jclient, jauth, **{"data.bill.status": "paid"})
    body = journey(jclient, jauth, paid["id"])
    assert (body["status"], body["stop_reason"]) == ("stopped", "paid")
    assert {(s["status"], s["reason"]) for s in body["steps"]} == {("skipped", "paid")}
    at(utc("2026-12-05T12:00"))  # submitted after the first two steps' windows closed
    late = submit(jclient, jauth, **{"data.bill.number": "F-2", "data.bill.status": "overdue"})
    body = journey(jclient, jauth, late["id"])
    assert body["status"] == "active"
    assert [s["status"] for s in body["steps"]] == ["skipped", "skipped", "scheduled", "scheduled"]


def test_the_billing_system_cancels_a_journey_once(
    jclient: FlaskClient, jauth: dict[str, str], jservices: Services, at: Mover
) -> None:
    at(utc("2026-11-20T12:00"))
    bill = submit(jclient, jauth)
    cancelled = jclient.post(f"/v1/renders/{bill['id']}/journey/cancel", headers=jauth)
    assert cancelled.status_code == 200
    assert (cancelled.get_json()["status"], cancelled.get_json()["stop_reason"]) == (
        "stopped", "cancelled",
    )  # fmt: skip
    again = jclient.post(f"/v1/renders/{bill['id']}/journey/cancel", headers=jauth)
    assert again.get_json() == cancelled.get_json()
    at(utc("2026-11-27T09:01"))
    assert tick(jservices, None).claimed == 0
    with jservices.db.session() as session:
        states = set(session.scalars(select(JourneyStep.status)))
    assert states == {"skipped"}
