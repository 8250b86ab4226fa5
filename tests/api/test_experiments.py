"""`/v1/experiments`: made, started, judged from renders and payments, and the winner
published by a key that may publish templates (a billing key may not)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.access.keys import make_key
from app.experiments.arms import Arm
from app.experiments.assignment import assign
from app.infra.database import ApiKey, Render
from app.infra.services import Services
from app.templates.store import get_version
from tests.experiments.kit import (
    TEMPLATE,
    V1,
    V2,
    balanced,
    batch,
    bill_line,
    days_ago,
    deliver,
    design,
    pay,
    two_versions,
)

PROBLEM = "application/problem+json"


@pytest.fixture
def keys(services: Services) -> dict[str, dict[str, str]]:
    """A billing key and an admin key of the same account."""
    two_versions(services)
    billing = make_key(services.db, "billing system", "billing")
    admin = make_key(services.db, "credit manager", "admin")
    with services.db.session() as session:
        session.execute(
            update(ApiKey).where(ApiKey.id == admin.info.id).values(account_id=billing.info.id)
        )
    return {
        "billing": {"Authorization": f"Bearer {billing.secret}"},
        "admin": {"Authorization": f"Bearer {admin.secret}"},
    }


def pointers(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    return {e["pointer"]: e["detail"] for e in response.get_json()["errors"]}


def test_bad_designs_are_refused_naming_the_field(
    client: FlaskClient, keys: dict[str, dict[str, str]]
) -> None:
    auth = keys["billing"]

    def post(body: dict[str, Any]) -> Any:
        return client.post("/v1/experiments", json=body, headers=auth)

    assert "/arms" in pointers(post(design(arms=[{"name": "only", "version": V1}])))
    wrong = post(design(arms=[{"name": "a", "version": V1}, {"name": "b", "version": "other@1"}]))
    assert "/arms/1/version" in pointers(wrong)
    nine = f"{TEMPLATE}@9"
    missing = post(design(arms=[{"name": "a", "version": V1}, {"name": "b", "version": nine}]))
    assert "/arms/1/version" in pointers(missing)
    assert "/template" in pointers(post(design(template=V1)))
    assert "/control" in pointers(post(design(control="nobody")))
    held = design(
        arms=[{"name": "a", "version": V1}, {"name": "h", "holdout": True, "version": V2}]
    )
    assert "/arms/1/version" in pointers(post(held))
    assert "/arms/0/weight" in pointers(post(design(arms=[
        {"name": "a", "version": V1, "weight": 0}, {"name": "b", "version": V2}])))  # fmt: skip
    assert "/journey" in pointers(post(design(journey="no-such-journey", journey_step=1)))
    assert "/journey" in pointers(post(design(journey_step=2)))
    assert "/overdue_window_days" in pointers(post(design(overdue_window_days=0)))
    assert "/colour" in pointers(post(design(colour="red")))
    assert client.get("/v1/experiments", headers=auth).get_json() == {"data": []}


def test_an_experiment_splits_a_run_and_its_report_finds_the_winner_an_admin_publishes(
    client: FlaskClient, services: Services, keys: dict[str, dict[str, str]]
) -> None:
    auth, admin = keys["billing"], keys["admin"]
    made = client.post(
        "/v1/experiments", json=design(), headers=auth | {"Idempotency-Key": "exp-1"}
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    again = client.post(
        "/v1/experiments", json=design(), headers=auth | {"Idempotency-Key": "exp-1"}
    )
    assert again.get_json()["id"] == made.get_json()["id"]  # the same one, not a second
    experiment = made.get_json()
    assert made.headers["Location"] == f"/v1/experiments/{experiment['id']}"
    assert (experiment["state"], experiment["control"]) == ("draft", "control")
    assert [(a["name"], a["version"], a["control"]) for a in experiment["arms"]] == [
        ("control", V1, True), ("offer", V2, False),
    ]  # fmt: skip
    exp_id = experiment["id"]
    started = client.post(f"/v1/experiments/{exp_id}/start", headers=auth)
    assert started.status_code == 200 and started.get_json()["state"] == "running"
    rival = client.post("/v1/experiments", json=design(name="rival"), headers=auth).get_json()
    clash = client.post(f"/v1/experiments/{rival['id']}/start", headers=auth)
    assert clash.status_code == 409 and clash.mimetype == PROBLEM

    # A run of 800 customers, 400 in each arm, due five days ago; a line naming NAME@N is
    # in no experiment.
    due = date.today() - timedelta(days=5)
    arms = [Arm("control"), Arm("offer")]
    customers = balanced(exp_id, arms, 400)
    batch_id = batch(client, auth, [bill_line(c, due) for c in customers]
                     + [bill_line("CUST-PINNED", due, template=V2)])  # fmt: skip
    with services.db.session() as session:
        renders = session.execute(
            select(Render.id, Render.customer_id, Render.experiment_id, Render.experiment_arm,
                   Render.template_version).where(Render.batch_id == batch_id)
        ).all()  # fmt: skip
    by_customer = {r.customer_id: r for r in renders}
    pinned = by_customer.pop("CUST-PINNED")
    assert (pinned.experiment_id, pinned.experiment_arm, pinned.template_version) == (
        None,
        None,
        V2,
    )
    for customer, r in by_customer.items():
        arm = assign(exp_id, customer, arms)
        assert (r.experiment_id, r.experiment_arm) == (exp_id, arm)
        assert r.template_version == (V1 if arm == "control" else V2)

    # Delivered 20 days ago; the offer's customers pay before the due date four times in
    # five, control's one time in five.
    deliver(services, [r.id for r in renders], days_ago(20))
    for i, (_, r) in enumerate(sorted(by_customer.items())):
        share = 4 if r.experiment_arm == "offer" else 1
        if i % 5 < share:
            pay(services, r.id, days_ago(10))
    body = client.get(f"/v1/experiments/{exp_id}", headers=auth).get_json()
    report = body["report"]
    assert (report["status"], report["winner"]) == ("winner", "offer")
    assert report["srm"] == {"observed": [400, 400], "expected": [400.0, 400.0],
                             "p_value": 1.0, "flagged": False}  # fmt: skip
    control, offer = report["arms"]
    assert control["control"] and control["lift"] is None
    assert 0.1 < control["conversion"] < 0.3 < 0.7 < offer["conversion"] < 0.9
    assert offer["interval"]["low"] < offer["conversion"] < offer["interval"]["high"]
    assert offer["lift"] > 1 and offer["lift_interval"]["low"] > 0
    assert offer["chance_to_beat_control"] > 0.99 and offer["verdict"] == "better"
    assert offer["expected_loss"] < 0.01
    assert offer["median_days"]["days"] == pytest.approx(10, abs=0.1)
    assert control["median_days"]["days"] is None  # most of control has not paid yet
    assert offer["log_rank_p"] < 0.001
    assert [p["day"] for p in report["curves"][1]["points"]][:3] == [0, 3, 7]

    # Publishing needs a key that may publish templates: a billing key gets 403.
    refused = client.post(f"/v1/experiments/{exp_id}/publish-winner", headers=auth)
    assert refused.status_code == 403 and refused.mimetype == PROBLEM
    assert get_version(services.db, TEMPLATE, 1).state == "published"
    published = client.post(f"/v1/experiments/{exp_id}/publish-winner", headers=admin)
    assert published.status_code == 200, published.get_data(as_text=True)
    answer = published.get_json()
    assert answer["published"] == V2
    assert (answer["experiment"]["state"], answer["experiment"]["winner"]) == ("stopped", "offer")
    assert get_version(services.db, TEMPLATE, 2).state == "published"
    # Stopped: new renders are in no experiment, and it does not start again.
    after = batch(client, auth, [bill_line(customers[0], due)])
    with services.db.session() as session:
        assert session.scalar(select(Render.experiment_id).where(Render.batch_id == after)) is None
    assert client.post(f"/v1/experiments/{exp_id}/start", headers=auth).status_code == 409
    listed = client.get("/v1/experiments", headers=auth).get_json()["data"]
    assert [e["name"] for e in listed] == ["rival", "Video with the instalment offer"]


def test_another_accounts_experiment_is_not_found_and_no_winner_is_a_conflict(
    client: FlaskClient, services: Services, keys: dict[str, dict[str, str]]
) -> None:
    made = client.post("/v1/experiments", json=design(), headers=keys["billing"]).get_json()
    other = {"Authorization": f"Bearer {make_key(services.db, 'other', 'admin').secret}"}
    assert client.get(f"/v1/experiments/{made['id']}", headers=other).status_code == 404
    assert client.post(f"/v1/experiments/{made['id']}/stop", headers=other).status_code == 404
    empty = client.get(f"/v1/experiments/{made['id']}", headers=keys["billing"]).get_json()
    assert empty["report"]["status"] == "keep_going"
    assert [a["customers"] for a in empty["report"]["arms"]] == [0, 0]
    none = client.post(f"/v1/experiments/{made['id']}/publish-winner", headers=keys["admin"])
    assert none.status_code == 409 and "keep_going" in none.get_json()["detail"]
    stopped = client.post(f"/v1/experiments/{made['id']}/stop", headers=keys["billing"])
    assert stopped.get_json()["state"] == "stopped"
