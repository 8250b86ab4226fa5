"""`/dashboard/journeys`: the account's journeys and each bill's steps and decisions."""

from __future__ import annotations

from datetime import date, timedelta

from flask.testing import FlaskClient

from app.access.keys import create_key
from app.infra.services import Services
from tests.journeys.kit import JOURNEY, bill_request


def test_journeys_and_a_bills_decisions_are_shown_to_their_account_only(
    client: FlaskClient, auth: dict[str, str], api_key: str, services: Services
) -> None:
    assert client.get("/dashboard/journeys").status_code == 303  # not logged in
    assert (
        client.post("/v1/journeys/gentle/versions", json=JOURNEY, headers=auth).status_code == 201
    )
    issued = date.today()  # all of its steps still ahead
    dates = {"data.bill.issued_on": issued.isoformat(),
             "data.bill.due_on": (issued + timedelta(days=30)).isoformat()}  # fmt: skip
    bill = client.post("/v1/renders", json=bill_request(**dates), headers=auth).get_json()
    assert (
        client.post(f"/v1/renders/{bill['id']}/payments", json={}, headers=auth).status_code == 201
    )
    client.post("/dashboard/login", data={"api_key": api_key})

    listed = client.get("/dashboard/journeys")
    html = listed.get_data(as_text=True)
    assert listed.status_code == 200 and "<script" not in html.lower()
    assert "gentle" in html and "3 d before due" in html and "by the bill's rules" in html
    assert "at most 2 contacts in 7 days" in html
    journey_id = bill["journey"]["id"]
    assert f'href="/dashboard/journeys/bills/{journey_id}"' in html
    assert "stopped: the bill was paid" in html and "4 of 4" in html
    assert 'href="/dashboard/journeys"' in client.get("/dashboard").get_data(as_text=True)

    page = client.get(f"/dashboard/journeys/bills/{journey_id}").get_data(as_text=True)
    assert "gentle@1 for customer CUST-000123" in page
    assert page.count("Skipped: the bill was paid") == 4
    assert "<td>stopped</td>" in page

    other = create_key(services.db, "other")
    client.post("/dashboard/logout")
    client.post("/dashboard/login", data={"api_key": other})
    assert client.get(f"/dashboard/journeys/bills/{journey_id}").status_code == 404
    assert "gentle" not in client.get("/dashboard/journeys").get_data(as_text=True)
