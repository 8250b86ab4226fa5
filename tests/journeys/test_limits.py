"""The contact limit, counted over all of a customer's bills, and the microsite's stop rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask.testing import FlaskClient

from app.infra.services import Services
from app.journeys.scheduler import tick
from app.rendering.job import run_render_with
from tests.journeys.kit import JOURNEY, bill_request, utc

Mover = Callable[[datetime], None]


def submit(client: FlaskClient, auth: dict[str, str], **overrides: Any) -> str:
    response = client.post("/v1/renders", json=bill_request(**overrides), headers=auth)
    assert response.status_code == 202, response.get_data(as_text=True)
    render_id: str = response.get_json()["id"]
    return render_id


def steps(client: FlaskClient, auth: dict[str, str], render_id: str) -> list[tuple[str, Any]]:
    body = client.get(f"/v1/renders/{render_id}/journey", headers=auth).get_json()
    return [(s["status"], s["reason"]) for s in body["steps"]]


def test_the_default_limit_counts_every_bill_of_the_customer(
    jclient: FlaskClient, jauth: dict[str, str], jservices: Services, at: Mover
) -> None:
    at(utc("2026-11-20T12:00"))
    bills = [submit(jclient, jauth, **{"data.bill.number": f"F-{n}"}) for n in range(3)]
    other = submit(jclient, jauth, **{"data.customer.id": "CUST-OTHER"})
    at(utc("2026-11-27T09:01"))
    result = tick(jservices, None)
    assert len(result.started) == 3  # two of the customer's bills, and the other customer's
    # The third bill's reminder could go only once a contact is 7 days old: past its window.
    assert result.skipped == {"contact_limit": 1}
    firsts = [steps(jclient, jauth, b)[0] for b in bills]
    assert sorted(firsts) == [("rendering", None), ("rendering", None),
                              ("skipped", "contact_limit")]  # fmt: skip
    assert steps(jclient, jauth, other)[0] == ("rendering", None)


def test_a_step_over_the_limit_waits_until_a_contact_ages_out_when_it_is_still_in_time(
    jclient: FlaskClient, jauth: dict[str, str], jservices: Services, at: Mover
) -> None:
    limited = JOURNEY | {"contact_limit": {"contacts": 1, "days": 3}}
    saved = jclient.post("/v1/journeys/sparing/versions", json=limited, headers=jauth)
    assert saved.status_code == 201
    at(utc("2026-11-20T12:00"))
    early = submit(jclient, jauth, journey="sparing")
    # Due three days later: its first step falls on the day the first contact turns 3 days old.
    later = submit(jclient, jauth, journey="sparing",
                   **{"data.bill.number": "F-LATER", "data.bill.due_on": "2026-12-03"})  # fmt: skip
    at(utc("2026-11-27T09:00:30"))
    assert len(tick(jservices, None).started) == 1
    at(utc("2026-11-30T09:00:10"))
    waiting = tick(jservices, None)
    assert (waiting.deferred, waiting.started) == (1, [])
    body = jclient.get(f"/v1/renders/{later}/journey", headers=jauth).get_json()
    [deferred] = body["decisions"]
    assert (deferred["decision"], deferred["reason"]) == ("deferred", "contact_limit")
    assert deferred["until"].startswith("2026-11-30T09:00:30")  # 3 days after the first contact
    at(utc("2026-11-30T09:00:31"))
    assert len(tick(jservices, None).started) == 1
    assert steps(jclient, jauth, later)[0] == ("rendering", None)
    assert steps(jclient, jauth, early)[0] == ("rendering", None)


def test_a_plan_or_a_promise_on_the_microsite_stops_the_journey_but_a_bot_does_not(
    jclient: FlaskClient, jauth: dict[str, str], jservices: Services, at: Mover
) -> None:
    at(utc("2026-11-20T12:00"))
    asked = {"instalments": "instalment_plan", "promise_to_pay": "promise_to_pay"}
    for n, (action, reason) in enumerate(asked.items()):
        render_id = submit(jclient, jauth, **{"data.bill.number": f"F-{n}"})
        assert run_render_with(jservices, render_id) == "done"
        token = (
            jclient.get(f"/v1/renders/{render_id}", headers=jauth)
            .get_json()["links"]["microsite"]
            .rsplit("/", 1)[-1]
        )
        page = jclient.get(f"/r/{token}")
        assert f'action="{token}/cta/{action}"'.encode() in page.data
        bot = jclient.post(f"/r/{token}/cta/{action}", headers={
            "Sec-Fetch-Site": "same-origin", "User-Agent": "Googlebot/2.1"})  # fmt: skip
        assert bot.status_code == 303
        assert steps(jclient, jauth, render_id)[0] == ("scheduled", None)
        person = jclient.post(f"/r/{token}/cta/{action}", headers={"Sec-Fetch-Site": "same-origin"})
        assert person.status_code == 303
        body = jclient.get(f"/v1/renders/{render_id}/journey", headers=jauth).get_json()
        assert (body["status"], body["stop_reason"]) == ("stopped", reason)
        assert {s["reason"] for s in body["steps"]} == {reason}
