"""`POST /v1/renders/{id}/payments`: the billing system reports a payment; it closes the funnel."""

from __future__ import annotations

import threading
from datetime import UTC, timedelta, timezone

from flask import Flask
from flask.testing import FlaskClient

from app.infra.database import utcnow
from app.infra.services import Services
from tests.eventkit import flags, make_batch, request_for


def test_the_same_payment_is_recorded_once(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    batch_id, (render,) = make_batch(client, auth, services, [request_for(1)])
    url = f"/v1/renders/{render.id}/payments"
    body = {"amount": "84.20", "currency": "EUR", "reference": "pay-77"}
    first = client.post(url, json=body, headers=auth)
    assert first.status_code == 201, first.get_data(as_text=True)
    payment = first.get_json()
    assert payment["id"].startswith("pay_") and payment["amount"] == "84.20"
    assert payment["render_id"] == render.id and payment["paid_at"].endswith("Z")
    # The same reference again (a retry, a re-sent file): the same payment, 200, no new event.
    again = client.post(url, json={**body, "amount": "84.2"}, headers=auth)
    assert again.status_code == 200 and again.get_json() == payment
    # An Idempotency-Key replays the first answer.
    keyed = {**auth, "Idempotency-Key": "k-1"}
    replay = [client.post(url, json={"amount": "1.00"}, headers=keyed) for _ in range(2)]
    assert replay[0].status_code == 201 and replay[1].headers["Idempotent-Replayed"] == "true"
    assert replay[0].get_json()["id"] == replay[1].get_json()["id"]
    assert flags(services, render.id) == [("paid", None), ("paid", None)]
    funnel = client.get(f"/v1/batches/{batch_id}/analytics", headers=auth).get_json()["funnel"]
    assert funnel["paid"] == 1 and funnel["delivered"] == 1


def test_a_reference_names_one_payment_only(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    _, (render,) = make_batch(client, auth, services, [request_for(1)])
    url = f"/v1/renders/{render.id}/payments"
    assert (
        client.post(url, json={"amount": "84.20", "reference": "r"}, headers=auth).status_code
        == 201
    )
    clash = client.post(url, json={"amount": "10.00", "reference": "r"}, headers=auth)
    assert clash.status_code == 422
    assert clash.mimetype == "application/problem+json"
    assert [e["pointer"] for e in clash.get_json()["errors"]] == ["/amount"]


def test_bad_payments_are_refused_with_every_problem_named(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    _, (render,) = make_batch(client, auth, services, [request_for(1)])
    url = f"/v1/renders/{render.id}/payments"
    future = (utcnow() + timedelta(days=1)).isoformat()
    cases = [
        ({"amount": "1,00", "paid_at": "2020-01-01"}, {"/amount", "/paid_at"}),
        ({"currency": "eur", "surprise": 1}, {"/currency", "/surprise"}),
        ({"paid_at": future}, {"/paid_at"}),
        ({"currency": "USD"}, {"/currency"}),  # the bill is in EUR
        ({"currency": "XYZ"}, {"/currency"}),
        ({"amount": "84.205", "currency": "EUR"}, {"/amount"}),  # EUR has two decimals
        ({"reference": ""}, {"/reference"}),
    ]
    for body, pointers in cases:
        answer = client.post(url, json=body, headers=auth)
        assert answer.status_code == 422, body
        assert {e["pointer"] for e in answer.get_json()["errors"]} == pointers, body
    assert (
        client.post(url, data="{", headers=auth, content_type="application/json").status_code == 400
    )
    assert client.post(url, data="x", headers=auth, content_type="text/plain").status_code == 415
    assert flags(services, render.id) == []


def test_payments_belong_to_the_key_that_made_the_render(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    from app.access.keys import create_key

    _, (render,) = make_batch(client, auth, services, [request_for(1)])
    other = {"Authorization": f"Bearer {create_key(services.db, 'other')}"}
    url = f"/v1/renders/{render.id}/payments"
    assert client.post(url, json={}, headers=other).status_code == 404
    assert client.post(url, json={}).status_code == 401
    assert client.post("/v1/renders/rnd_nope/payments", json={}, headers=auth).status_code == 404
    assert flags(services, render.id) == []


def test_time_to_pay_counts_from_delivery(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    batch_id, renders = make_batch(
        client, auth, services, [request_for(n) for n in range(3)], finished_ago=timedelta(days=2)
    )
    for render, hours_ago in zip(renders, (47, 24, 1), strict=True):
        paid_at = (utcnow() - timedelta(hours=hours_ago)).isoformat()
        answer = client.post(
            f"/v1/renders/{render.id}/payments", json={"paid_at": paid_at}, headers=auth
        )
        assert answer.status_code == 201
    waits = client.get(f"/v1/batches/{batch_id}/analytics", headers=auth).get_json()["time_to_pay"]
    assert waits["paid"] == 3
    buckets = {b["bucket"]: b["count"] for b in waits["buckets"]}
    assert (buckets["1h_to_1d"], buckets["1d_to_3d"]) == (1, 2)
    assert 23.9 * 3600 < waits["median_seconds"] < 24.1 * 3600
    assert 46.9 * 3600 < waits["p90_seconds"] < 47.1 * 3600


def test_the_same_reference_reported_twice_at_once_is_one_payment(
    app: Flask, auth: dict[str, str], services: Services
) -> None:
    client = app.test_client()
    _, renders = make_batch(client, auth, services, [request_for(n) for n in range(4)])
    for render in renders:
        barrier = threading.Barrier(2)
        answers: list[int] = []

        def report(
            render_id: str = render.id,
            wait: threading.Barrier = barrier,
            answers: list[int] = answers,
        ) -> None:
            own = app.test_client()  # one client per thread, as two billing workers would be
            wait.wait()
            body = {"reference": "dup", "amount": "84.20"}
            answer = own.post(f"/v1/renders/{render_id}/payments", json=body, headers=auth)
            answers.append(answer.status_code)

        threads = [threading.Thread(target=report) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(answers) == [200, 201]
        assert flags(services, render.id) == [("paid", None)]


def test_a_payment_time_with_another_offset_is_kept_as_the_same_moment(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    _, (render,) = make_batch(client, auth, services, [request_for(1)])
    moment = (utcnow() - timedelta(hours=3)).replace(microsecond=0)
    rome = moment.astimezone(timezone(timedelta(hours=2)))
    answer = client.post(
        f"/v1/renders/{render.id}/payments", json={"paid_at": rome.isoformat()}, headers=auth
    )
    assert answer.status_code == 201
    assert answer.get_json()["paid_at"] == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
