"""Experiments as a service on SQLite: renders placed in arms at intake (single renders,
re-sends, the hold-out, journey steps), and the records read back from renders, payments
and events."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.access.keys import create_key
from app.experiments.arms import Arm
from app.experiments.assignment import assign
from app.experiments.collect import bill_records
from app.experiments.placement import HOLDOUT_OUTPUTS
from app.infra.database import JourneyStep, Render, as_utc
from app.infra.services import Services
from app.journeys.scheduler import tick
from tests.experiments.kit import V1, V2, bill_line, days_ago, deliver, design, event, pay
from tests.experiments.kit import two_versions as make_versions
from tests.journeys.conftest import (  # noqa: F401 (fixtures)
    at,
    clock_file,
    jauth,
    jclient,
    journey_app,
    jservices,
)
from tests.journeys.kit import bill_request
from tests.paths import REPO_ROOT

PURE = ("arms", "assignment", "records", "engine", "srm", "survival", "analysis", "summary")


def post(client: FlaskClient, path: str, auth: dict[str, str], body: Any = None) -> Any:
    answer = client.post(path, json=body, headers=auth) if body else client.post(path, headers=auth)
    assert answer.status_code in (200, 201, 202), answer.get_data(as_text=True)
    return answer.get_json()


def running(client: FlaskClient, auth: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    made = post(client, "/v1/experiments", auth, body)
    started: dict[str, Any] = post(client, f"/v1/experiments/{made['id']}/start", auth)
    return started


@pytest.fixture
def two_versions(services: Services) -> None:
    make_versions(services)


@pytest.fixture
def headers(services: Services) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(services.db, 'billing')}"}


def test_the_statistics_import_without_the_database() -> None:
    code = (
        "import sys\n"
        + "".join(f"import app.experiments.{m}\n" for m in PURE)
        + "assert 'sqlalchemy' not in sys.modules, 'sqlalchemy was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT)


def test_a_customer_keeps_an_arm_across_bills_and_a_hold_out_gets_the_plain_microsite(
    client: FlaskClient, services: Services, headers: dict[str, str], two_versions: None
) -> None:
    arms = [{"name": "control", "version": V1}, {"name": "offer", "version": V2},
            {"name": "holdout", "holdout": True, "weight": 2}]  # fmt: skip
    draft = post(client, "/v1/experiments", headers, design(arms=arms))
    due = date.today() + timedelta(days=10)

    def accept(customer: str, **overrides: Any) -> Render:
        body = bill_line(customer, due, outputs=["video", "microsite"], **overrides)
        made = post(client, "/v1/renders", headers, body)
        with services.db.session() as session:
            render = session.get(Render, made["id"])
            assert render is not None
            return render

    assert accept("CUST-DRAFT").experiment_id is None  # a draft takes no render
    post(client, f"/v1/experiments/{draft['id']}/start", headers)
    design_arms = [Arm("control"), Arm("offer"), Arm("holdout", 2.0, holdout=True)]
    seen: set[str] = set()
    for i in range(40):
        customer = f"CUST-{i:03d}"
        first, again = accept(customer), accept(customer, **{"data.bill.number": f"F-{i}"})
        arm = assign(draft["id"], customer, design_arms)
        assert first.experiment_arm == again.experiment_arm == arm  # every bill, every re-send
        assert first.experiment_id == draft["id"]
        seen.add(arm)
        if arm == "holdout":
            assert (first.outputs, first.template_version) == (list(HOLDOUT_OUTPUTS), V1)
        else:
            assert first.outputs == ["video", "microsite"]
            assert first.template_version == (V1 if arm == "control" else V2)
    assert seen == {"control", "offer", "holdout"}
    pinned = accept("CUST-000", template=V2)
    assert (pinned.experiment_id, pinned.template_version) == (None, V2)


def test_a_journey_step_goes_into_its_own_experiment_and_other_renders_into_the_templates(
    jclient: FlaskClient,  # noqa: F811
    jservices: Services,  # noqa: F811
    jauth: dict[str, str],  # noqa: F811
) -> None:
    make_versions(jservices)
    whole = running(jclient, jauth, design(name="whole template"))
    step = running(jclient, jauth, design(
        name="the nudge", journey="gentle", journey_step=2,
        arms=[{"name": "plain", "version": V1}, {"name": "bold", "version": V2}],
    ))  # fmt: skip
    due = (date.today() + timedelta(days=2)).isoformat()
    customers = [f"CUST-{i:02d}" for i in range(12)]
    bills = [
        post(jclient, "/v1/renders", jauth,
             bill_request(**{"data.customer.id": c, "data.bill.due_on": due}))
        for c in customers
    ]  # fmt: skip
    with jservices.db.session() as session:
        steps = session.execute(
            select(JourneyStep.render_id, JourneyStep.customer_id, JourneyStep.position,
                   JourneyStep.due_at)
        ).all()  # fmt: skip
        firsts = session.execute(
            select(Render.customer_id, Render.experiment_id, Render.experiment_arm).where(
                Render.id.in_([b["id"] for b in bills])
            )
        ).all()
    whole_arms = [Arm("control"), Arm("offer")]
    assert {(c, e, a) for c, e, a in firsts} == {
        (c, whole["id"], assign(whole["id"], c, whole_arms)) for c in customers
    }
    # Each step on its own day (the contact limit lets one a day through): steps 1 and 3
    # name NAME and go into the template's experiment, step 2 into its own, step 4 names
    # bill-explainer@1 and into none.
    for position in (1, 2, 3, 4):
        moment = max(as_utc(s.due_at) for s in steps if s.position == position)
        started = tick(jservices, None, now=moment + timedelta(minutes=1)).started
        assert len(started) == len(customers), position
    with jservices.db.session() as session:
        made = {
            (r.customer_id, r.id): r
            for r in session.scalars(select(Render).where(Render.id.in_([s[0] for s in steps])))
        }
    for render_id, customer, position, _ in steps:
        render = made[(customer, render_id)]
        if position == 2:
            arm = assign(step["id"], customer, [Arm("plain"), Arm("bold")])
            expected = (step["id"], arm, V1 if arm == "plain" else V2)
        elif position == 4:
            expected = (None, None, V1)
        else:
            arm = assign(whole["id"], customer, whole_arms)
            expected = (whole["id"], arm, V1 if arm == "control" else V2)
        assert (render.experiment_id, render.experiment_arm, render.template_version) == expected

    # A payment reported on the bill's own render counts for its steps' renders too.
    deliver(jservices, [s[0] for s in steps if s.position == 2], days_ago(0.5))
    pay(jservices, bills[0]["id"], days_ago(0.25))
    with jservices.db.session() as session:
        records = {r.customer_id: r for r in bill_records(session, step["id"])}
    assert set(records) == set(customers)
    assert [c for c, r in records.items() if r.paid_at is not None] == [customers[0]]


def test_records_come_from_delivered_renders_their_bills_payments_and_unflagged_events(
    client: FlaskClient, services: Services, headers: dict[str, str], two_versions: None
) -> None:
    exp = running(client, headers, design())
    due = date.today() - timedelta(days=3)
    ids = {
        name: post(client, "/v1/renders", headers, bill_line(name, due, **extra))["id"]
        for name, extra in {
            "paid": {"data.customer.time_zone": "Europe/Rome"},
            "watched": {},
            "queued": {},
            "purged": {},
            "credit": {"data.bill.total": "-5.00", "drop": ["data.bill.lines"]},
        }.items()
    }
    deliver(services, [i for n, i in ids.items() if n != "queued"], days_ago(9))
    with services.db.session() as session:
        session.execute(
            update(Render).where(Render.id == ids["purged"]).values(purged_at=days_ago(1))
        )
    pay(services, ids["paid"], days_ago(6))
    pay(services, ids["paid"], days_ago(2))  # a second payment: the first one counts
    event(services, ids["paid"], "opened", days_ago(8))
    event(services, ids["paid"], "pay_click", days_ago(6), flagged="bot")  # not counted
    event(services, ids["watched"], "video_progress", days_ago(8), name="75")
    event(services, ids["watched"], "video_progress", days_ago(8), name="50")
    with services.db.session() as session:
        records = {r.customer_id: r for r in bill_records(session, exp["id"])}
    assert set(records) == {"paid", "watched"}
    paid, watched = records["paid"], records["watched"]
    assert str(paid.delivered_at.tzinfo) == "Europe/Rome"
    assert paid.paid_at is not None
    assert abs((paid.paid_at - paid.delivered_at).total_seconds() / 86400 - 3) < 0.01
    assert (paid.opened, paid.watched75, paid.pay_click) == (True, False, False)
    assert (watched.opened, watched.watched75, watched.paid_at) == (False, True, None)
    assert paid.due_on == due and str(paid.amount) == "84.20"
    assert paid.complained is None  # the service has no report of complaints yet
