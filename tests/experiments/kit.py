"""What the experiment service tests share: two versions of the shipped template, bills
accepted through the API, delivered and paid at chosen moments (rows as the render job and
the payments API leave them), and the customer's events."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import update

from app.experiments.arms import Arm
from app.experiments.assignment import assign
from app.infra.database import Event, Payment, Render, new_id
from app.infra.services import Services
from app.templates.lookup import ensure_shipped
from app.templates.store import create_draft, publish
from tests.factories import make_render_request

TEMPLATE = "bill-explainer"
V1, V2 = f"{TEMPLATE}@1", f"{TEMPLATE}@2"


def two_versions(services: Services) -> None:
    """bill-explainer@2 beside the shipped @1; @1 stays the published one (@2 archived)."""
    ensure_shipped(services)
    create_draft(services, TEMPLATE, author="test", from_number=1)
    publish(services, TEMPLATE, 2, author="test")
    publish(services, TEMPLATE, 1, author="test")  # the rollback: @2 is archived


def design(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Video with the instalment offer",
        "template": TEMPLATE,
        "arms": [
            {"name": "control", "version": V1},
            {"name": "offer", "version": V2},
        ],
    }
    return body | overrides


def bill_line(customer: str, due_on: date, drop: Any = (), **overrides: Any) -> dict[str, Any]:
    return make_render_request(drop=drop, **{
        "outputs": ["microsite"], "data.customer.id": customer,
        "data.bill.issued_on": (due_on - timedelta(days=30)).isoformat(),
        "data.bill.due_on": due_on.isoformat(), **overrides,
    })  # fmt: skip


def balanced(experiment_id: str, arms: list[Arm], per_arm: int, prefix: str = "CUST") -> list[str]:
    """Customer ids the experiment's hash puts `per_arm` in each arm: a split exactly as
    designed, so that a sound split is never flagged by chance (1 in 1000 at p < 0.001)."""
    taken: dict[str, list[str]] = {arm.name: [] for arm in arms}
    i = 0
    while any(len(ids) < per_arm for ids in taken.values()):
        customer = f"{prefix}-{i:05d}"
        ids = taken[assign(experiment_id, customer, arms)]
        if len(ids) < per_arm:
            ids.append(customer)
        i += 1
    return sorted(c for ids in taken.values() for c in ids)


def batch(client: FlaskClient, auth: dict[str, str], lines: Iterable[dict[str, Any]]) -> str:
    body = "".join(json.dumps(line) + "\n" for line in lines)
    answer = client.post(
        "/v1/batches", data=body, headers=auth | {"Content-Type": "application/x-ndjson"}
    )
    assert answer.status_code == 202, answer.get_data(as_text=True)
    assert answer.get_json()["rejected"] == []
    batch_id: str = answer.get_json()["id"]
    return batch_id


def deliver(services: Services, render_ids: Iterable[str], at: datetime) -> None:
    """The renders done at `at`, as the render job leaves them."""
    with services.db.session() as session:
        session.execute(
            update(Render)
            .where(Render.id.in_(list(render_ids)))
            .values(status="done", finished_at=at)
        )


def pay(services: Services, render_id: str, at: datetime) -> None:
    with services.db.session() as session:
        session.add(Payment(id=new_id("pay"), render_id=render_id, paid_at=at, created_at=at))


def event(
    services: Services, render_id: str, type_: str, at: datetime, *, name: str | None = None,
    flagged: str | None = None,
) -> None:  # fmt: skip
    with services.db.session() as session:
        session.add(Event(render_id=render_id, type=type_, name=name, flagged=flagged, at=at))


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)
