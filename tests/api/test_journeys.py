"""`/v1/journeys`: journeys saved as versions, validated, pinned by the bills that name them."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.access.keys import create_key
from app.infra.database import BillJourney, JourneyDecision, JourneyStep
from app.infra.services import Services
from tests.journeys.kit import JOURNEY, bill_request

PROBLEM = "application/problem+json"


def save(client: FlaskClient, auth: dict[str, str], name: str, body: Any, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(f"/v1/journeys/{name}/versions", json=body, headers=auth | headers)


def pointers(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    return {e["pointer"]: e["detail"] for e in response.get_json()["errors"]}


def test_each_save_is_the_next_version_and_bills_pin_the_one_they_named(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    first = save(client, auth, "gentle", JOURNEY)
    assert first.status_code == 201
    assert first.headers["Location"] == "/v1/journeys/gentle/versions/1"
    body = first.get_json()
    assert (body["ref"], body["author"]) == ("gentle@1", "test")
    assert body["definition"]["quiet_hours"] == {"start": "21:00:00", "end": "08:00:00"}
    assert body["definition"]["contact_limit"] == {"contacts": 2, "days": 7}
    on_first = client.post("/v1/renders", json=bill_request(), headers=auth).get_json()

    shorter = JOURNEY | {"steps": JOURNEY["steps"][:2]}
    assert save(client, auth, "gentle", shorter).get_json()["ref"] == "gentle@2"
    on_newest = client.post("/v1/renders", json=bill_request(), headers=auth).get_json()
    pinned = client.post("/v1/renders", json=bill_request("gentle@1"), headers=auth).get_json()
    assert [r["journey"]["journey"] for r in (on_first, on_newest, pinned)] == [
        "gentle@1", "gentle@2", "gentle@1",
    ]  # fmt: skip
    lengths = [
        len(client.get(f"/v1/renders/{r['id']}/journey", headers=auth).get_json()["steps"])
        for r in (on_first, on_newest)
    ]
    assert lengths == [4, 2]

    listed = client.get("/v1/journeys", headers=auth).get_json()["data"]
    assert [(j["name"], j["latest"], len(j["definition"]["steps"])) for j in listed] == [
        ("gentle", 2, 2)
    ]
    versions = client.get("/v1/journeys/gentle/versions", headers=auth).get_json()["data"]
    assert [v["version"] for v in versions] == [2, 1]
    one = client.get("/v1/journeys/gentle/versions/1", headers=auth)
    assert one.get_json()["definition"] == body["definition"]
    for missing in ("/v1/journeys/nope/versions", "/v1/journeys/gentle/versions/9"):
        assert client.get(missing, headers=auth).status_code == 404


def test_a_journey_is_refused_with_every_problem_at_its_pointer(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    steps = [
        {"offset_days": 1, "template": "bill-explainer"},
        {"offset_days": 1, "template": "bill-explainer", "tone": "thanks"},
    ]
    errors = pointers(save(client, auth, "gentle", {"steps": steps, "colour": "red"}))
    assert set(errors) == {"/steps/1/tone", "/colour"}
    errors = pointers(save(client, auth, "gentle", {"steps": steps[:1] * 2, "send_at": "22:30"}))
    assert errors == {
        "/steps/1/offset_days": "must be greater than the step's before it",
        "/send_at": "must not fall in the quiet hours",
    }
    unknown = {"steps": [{"offset_days": 1, "template": "no-such-template"}]}
    assert set(pointers(save(client, auth, "gentle", unknown))) == {"/steps/0/template"}
    assert set(pointers(save(client, auth, "Gentle_1", JOURNEY))) == {"/name"}
    zone = JOURNEY | {"time_zone": "Europe/Atlantis"}
    assert pointers(save(client, auth, "gentle", zone))["/time_zone"].startswith("is not an IANA")
    assert client.get("/v1/journeys", headers=auth).get_json()["data"] == []  # nothing saved


def test_idempotency_key_replays_a_save_and_refuses_another_body(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    first = save(client, auth, "gentle", JOURNEY, **{"Idempotency-Key": "save-1"})
    again = save(client, auth, "gentle", JOURNEY, **{"Idempotency-Key": "save-1"})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    other = JOURNEY | {"description": "changed"}
    assert save(client, auth, "gentle", other, **{"Idempotency-Key": "save-1"}).status_code == 422
    assert client.get("/v1/journeys", headers=auth).get_json()["data"][0]["latest"] == 1


def test_a_render_naming_a_journey_needs_one_that_exists_and_a_callback(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    save(client, auth, "gentle", JOURNEY)
    unknown = bill_request("nope", template="no-such-template")
    assert set(pointers(client.post("/v1/renders", json=unknown, headers=auth))) == {
        "/journey", "/template",
    }  # fmt: skip
    no_callback = bill_request()
    del no_callback["callback_url"]
    assert pointers(client.post("/v1/renders", json=no_callback, headers=auth)) == {
        "/callback_url": "is required when a journey is named"
    }
    bad_zone = bill_request(**{"data.customer.time_zone": "Moon/Base"})
    assert set(pointers(client.post("/v1/renders", json=bad_zone, headers=auth))) == {
        "/data/customer/time_zone"
    }
    plain = client.post("/v1/renders", json=bill_request(drop=["journey"]), headers=auth)
    assert "journey" not in plain.get_json()  # a render without one looks as before
    assert (
        client.get(f"/v1/renders/{plain.get_json()['id']}/journey", headers=auth).status_code == 404
    )


def test_journeys_belong_to_their_account_and_billing_keys(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    save(client, auth, "gentle", JOURNEY)
    bill = client.post("/v1/renders", json=bill_request(), headers=auth).get_json()
    other = {"Authorization": f"Bearer {create_key(services.db, 'other')}"}
    assert client.get("/v1/journeys", headers=other).get_json()["data"] == []
    assert client.get(f"/v1/renders/{bill['id']}/journey", headers=other).status_code == 404
    assert client.post(f"/v1/renders/{bill['id']}/journey/cancel", headers=other).status_code == 404
    refused = client.post("/v1/renders", json=bill_request(), headers=other)
    assert set(pointers(refused)) == {"/journey"}
    marketing = {"Authorization": f"Bearer {create_key(services.db, 'studio', 'marketing')}"}
    assert save(client, marketing, "gentle", JOURNEY).status_code == 403


def test_a_billing_run_puts_its_lines_on_journeys_and_erasure_removes_them(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    save(client, auth, "gentle", JOURNEY)
    lines = [
        bill_request(**{"data.bill.number": "F-1"}),
        bill_request("nope", **{"data.bill.number": "F-2"}),
        bill_request(drop=["journey"], **{"data.bill.number": "F-3"}),
    ]
    response = client.post(
        "/v1/batches",
        data="\n".join(json.dumps(line) for line in lines),
        headers=auth,
        content_type="application/x-ndjson",
    )
    body = response.get_json()
    assert (body["accepted"], [r["line"] for r in body["rejected"]]) == (2, [2])
    assert body["rejected"][0]["errors"][0]["pointer"] == "/journey"

    def count(model: Any) -> int:
        with services.db.session() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

    assert (count(BillJourney), count(JourneyStep)) == (1, 4)
    assert client.delete("/v1/customers/CUST-000123", headers=auth).status_code == 204
    assert (count(BillJourney), count(JourneyStep), count(JourneyDecision)) == (0, 0, 0)
