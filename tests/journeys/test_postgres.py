"""The journeys on a real PostgreSQL server: the flow and limits again, and schedulers racing.

A bill's whole journey and a deferred step (from test_flow and test_limits) are collected a
second time, with the app on a fresh PostgreSQL database of their own (tests/pg.py); then
several schedulers, each with its own engine and connections, tick at once over the same
due steps: SKIP LOCKED gives each step to one of them, and the customer locks keep the
contact limit over bills decided at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.infra.database import JourneyDecision, JourneyStep, Render
from app.infra.services import Services
from app.infra.settings import Settings
from app.journeys.scheduler import tick
from app.wiring import create_app
from tests.journeys.kit import bill_request, move_clock, utc
from tests.journeys.test_flow import (  # noqa: F401 (collected again, on PostgreSQL)
    test_each_step_renders_when_due_is_announced_once_and_a_payment_stops_the_rest,
)
from tests.journeys.test_limits import (  # noqa: F401
    test_a_step_over_the_limit_waits_until_a_contact_ages_out_when_it_is_still_in_time,
)
from tests.pg import postgres_server, postgres_url  # noqa: F401 (fixtures)

SCHEDULERS = 3
CUSTOMERS = 5
BILLS = 45  # nine of each customer's, their first steps due at once: the limit lets two go
BATCH = 4  # small batches, so the schedulers interleave many times


def _settings(tmp_path: Path, clock_file: Path, database_url: str, name: str) -> Settings:
    return Settings(
        data_dir=tmp_path / name,
        public_url="https://bills.example.test",
        clock_file=clock_file,
        database_url=database_url,
        scheduler_batch_steps=BATCH,
    )


@pytest.fixture
def journey_app(tmp_path: Path, clock_file: Path, postgres_url: str) -> Iterator[Flask]:  # noqa: F811
    """Overrides the conftest's: the same app on PostgreSQL."""
    app = create_app(_settings(tmp_path, clock_file, postgres_url, "var"), start_queue=False)
    assert app.extensions["billreel"].db.engine.dialect.name == "postgresql"
    yield app
    app.extensions["billreel"].db.dispose()


def test_schedulers_at_once_start_each_step_once_and_keep_the_limit_across_bills(
    jclient: FlaskClient,
    jauth: dict[str, str],
    jservices: Services,
    tmp_path: Path,
    clock_file: Path,
) -> None:
    move_clock(clock_file, utc("2026-11-20T12:00"))
    for n in range(BILLS):
        request = bill_request(
            **{"data.customer.id": f"C-{n % CUSTOMERS}", "data.bill.number": f"F-{n}"}
        )
        assert jclient.post("/v1/renders", json=request, headers=jauth).status_code == 202
    move_clock(clock_file, utc("2026-11-27T09:01"))
    url = jservices.settings.effective_database_url
    fleet = [
        Services.build(_settings(tmp_path, clock_file, url, f"s{n}")) for n in range(SCHEDULERS)
    ]
    started: list[list[str]] = [[] for _ in fleet]
    ready = threading.Barrier(len(fleet))

    def run(n: int) -> None:
        ready.wait()
        while (result := tick(fleet[n], None)).claimed:
            started[n] += result.started

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(fleet))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for services in fleet:
        services.db.dispose()
    everything = [render for mine in started for render in mine]
    assert len(everything) == len(set(everything)) == 2 * CUSTOMERS  # each once, 2 a customer
    assert sum(1 for mine in started if mine) > 1  # the schedulers did share the work
    with jservices.db.session() as session:
        renders = session.scalar(select(func.count()).select_from(Render).where(
            Render.id.in_(everything)))  # fmt: skip
        starts = session.execute(
            select(JourneyDecision.step_id, func.count())
            .where(JourneyDecision.decision == "started")
            .group_by(JourneyDecision.step_id)
        ).all()
        states = session.execute(
            select(JourneyStep.customer_id, JourneyStep.status, JourneyStep.reason)
            .where(JourneyStep.position == 1)
            .order_by(JourneyStep.customer_id, JourneyStep.status)
        ).all()
    assert renders == len(everything) == len(starts) and {n for _, n in starts} == {1}
    by_customer: dict[str, list[tuple[str, str | None]]] = {}
    for customer, status, reason in states:
        by_customer.setdefault(customer, []).append((status, reason))
    assert len(by_customer) == CUSTOMERS
    for decided in by_customer.values():  # whichever schedulers took the three bills
        assert sorted(decided) == [("rendering", None)] * 2 + [("skipped", "contact_limit")] * 7
