"""`GET /v1/batches/{id}/analytics`: funnel counts and rates, by version and tone, time to pay."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from app.infra.database import Render, utcnow
from app.infra.services import Services
from tests.eventkit import BROWSER, OVERDUE, beacon, make_batch, request_for, visit

CREDIT = {
    "data.bill.total": "-12.00",
    "data.bill.lines": [{"label": "Rimborso", "category": "other", "amount": "-12.00"}],
}


def test_batch_analytics_counts_rates_tones_and_time_to_pay(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    batch_id, renders = make_batch(
        client,
        auth,
        services,
        [request_for(1), request_for(2), request_for(3, **OVERDUE), request_for(4, **OVERDUE)],
        finished_ago=timedelta(hours=3),
    )
    a, b, c, _ = renders
    for render in (a, b, c):
        assert visit(client, f"/r/{render.token}").status_code == 200
    beacon(client, a.token, "video_started")
    beacon(client, a.token, "video_progress", "25")
    beacon(client, a.token, "video_progress", "50")
    beacon(client, c.token, "video_started")
    beacon(client, c.token, "video_progress", "25")
    beacon(client, a.token, "video_completed")
    assert visit(client, f"/r/{a.token}/pay").status_code == 302
    cta = client.post(
        f"/r/{c.token}/cta/paperless",
        headers={"User-Agent": BROWSER, "Sec-Fetch-Site": "same-origin"},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert cta.status_code == 303
    visit(client, f"/r/{b.token}/pay", ua="Barracuda Sentinel (EE)")  # a bot: not counted
    paid_at = (utcnow() - timedelta(hours=1)).isoformat()
    payment = {"paid_at": paid_at, "reference": "r1"}
    assert (
        client.post(f"/v1/renders/{a.id}/payments", json=payment, headers=auth).status_code == 201
    )

    response = client.get(f"/v1/batches/{batch_id}/analytics", headers=auth)
    assert response.status_code == 200
    body = response.get_json()
    assert body["batch_id"] == batch_id
    assert body["funnel"] == {
        "delivered": 4,
        "opened": 3,
        "video_started": 2,
        "video_completed": 1,
        "pay_click": 1,
        "paid": 1,
    }
    assert body["rates"]["opened"] == 0.75 and body["rates"]["paid"] == 0.25
    assert body["video_progress"] == {"25": 2, "50": 1, "75": 0, "100": 0}
    assert body["cta"] == {"paperless": 1}
    tones = {part["tone"]: part for part in body["by_tone"]}
    assert list(tones) == ["nudge", "pay"]  # in the fixed tone order
    assert tones["pay"]["funnel"]["paid"] == 1 and tones["pay"]["rates"]["paid"] == 0.5
    assert tones["nudge"]["funnel"]["opened"] == 1 and tones["nudge"]["rates"]["opened"] == 0.5
    (version,) = body["by_template_version"]
    assert version["template_version"].startswith("bill-explainer@")
    assert version["funnel"]["delivered"] == 4
    buckets = {b["bucket"]: b["count"] for b in body["time_to_pay"]["buckets"]}
    assert buckets["1h_to_1d"] == 1 and sum(buckets.values()) == 1
    assert 7000 < body["time_to_pay"]["median_seconds"] < 7400

    exported = client.get(f"/v1/batches/{batch_id}/analytics?format=csv", headers=auth)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    assert batch_id in exported.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    overall = {r["step"]: r for r in rows if r["dimension"] == "all"}
    assert overall["opened"]["count"] == "3" and overall["opened"]["rate"] == "0.75"
    assert overall["delivered"]["rate"] == "1.0"
    progress = {r["step"]: r["count"] for r in rows if r["dimension"] == "video_progress"}
    assert progress == {"25": "2", "50": "1", "75": "0", "100": "0"}
    assert [(r["step"], r["count"]) for r in rows if r["dimension"] == "cta"] == [
        ("paperless", "1")
    ]
    nudge = {r["step"]: r["count"] for r in rows if r["group"] == "nudge"}
    assert nudge["delivered"] == "2" and nudge["opened"] == "1"
    assert sum(int(r["count"]) for r in rows if r["dimension"] == "time_to_pay") == 1


def test_every_tone_and_template_version_has_its_own_funnel(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    requests = [
        request_for(1, **OVERDUE),
        request_for(2, **{**OVERDUE, "data.bill.days_overdue": 60}),  # long overdue: firm
        request_for(3, **{"data.bill.status": "paid"}),
        request_for(4, **CREDIT),
        request_for(5),
    ]
    batch_id, renders = make_batch(client, auth, services, requests)
    with services.db.session() as session:
        row = session.get(Render, renders[4].id)
        assert row is not None
        row.template_version = "bill-explainer@0"  # an older version of the same template
    body = client.get(f"/v1/batches/{batch_id}/analytics", headers=auth).get_json()
    assert [p["tone"] for p in body["by_tone"]] == ["nudge", "firm", "thanks", "credit", "pay"]
    assert all(p["funnel"]["delivered"] == 1 for p in body["by_tone"])
    versions = {
        p["template_version"]: p["funnel"]["delivered"] for p in body["by_template_version"]
    }
    assert versions.pop("bill-explainer@0") == 1 and list(versions.values()) == [4]
    # Reading the analytics wrote nothing: the tones were worked out, not stored.
    with services.db.session() as session:
        assert set(session.scalars(select(Render.tone).where(Render.batch_id == batch_id))) == {
            None
        }


def test_renders_not_done_are_not_delivered_and_errors_are_problems(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    batch_id, (render, _) = make_batch(client, auth, services, [request_for(1), request_for(2)])
    with services.db.session() as session:
        row = session.get(Render, render.id)
        assert row is not None
        row.status = "failed"
    body = client.get(f"/v1/batches/{batch_id}/analytics", headers=auth).get_json()
    assert body["funnel"]["delivered"] == 1
    bad = client.get(f"/v1/batches/{batch_id}/analytics?format=xml", headers=auth)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["pointer"] == "/format"
    assert client.get("/v1/batches/bat_nope/analytics", headers=auth).status_code == 404
    assert client.get(f"/v1/batches/{batch_id}/analytics").status_code == 401
