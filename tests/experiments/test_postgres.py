"""The experiment service on a real PostgreSQL server, where starts and batches can race.

Two experiments of one account on one template started at the same moment, on connections
of their own: the partial unique index lets exactly one run, every round. Then a billing
run read while the winner runs places every line by the assignment's hash.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app.access.keys import make_key
from app.experiments import store
from app.experiments.arms import Arm
from app.experiments.assignment import assign
from app.infra.database import Render
from app.infra.services import Services
from app.infra.settings import Settings
from app.templates.lookup import find_version
from app.wiring import create_app
from tests.experiments.kit import TEMPLATE, V1, V2, batch, bill_line, two_versions
from tests.pg import postgres_server, postgres_url  # noqa: F401 (fixtures)

ROUNDS = 8


@pytest.fixture
def pg_app(tmp_path: Path, postgres_url: str) -> Iterator[Flask]:  # noqa: F811
    settings = Settings(
        data_dir=tmp_path / "var", public_url="https://bills.example.test",
        database_url=postgres_url,
    )  # fmt: skip
    app = create_app(settings, start_queue=False)
    assert app.extensions["billreel"].db.engine.dialect.name == "postgresql"
    yield app
    app.extensions["billreel"].db.dispose()


def _arms(services: Services) -> list[store.ArmSpec]:
    return [
        store.ArmSpec(name, version_id=v.id, version_ref=v.ref)
        for name, v in (("a", find_version(services, V1)), ("b", find_version(services, V2)))
    ]


def _start_at_once(services: Services, account: str, rivals: list[str]) -> list[str]:
    """Start every rival in a thread of its own, released together; how each one ended."""
    outcomes: list[str] = []
    ready = threading.Barrier(len(rivals))

    def start(experiment_id: str) -> None:
        ready.wait()
        try:
            store.start(services.db, account, experiment_id)
            outcomes.append("running")
        except store.AlreadyRunning:
            outcomes.append("refused")

    threads = [threading.Thread(target=start, args=(r,)) for r in rivals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_two_starts_at_once_run_one_experiment_and_a_run_is_placed_by_the_hash(
    pg_app: Flask,
) -> None:
    services: Services = pg_app.extensions["billreel"]
    two_versions(services)
    arms = _arms(services)
    for n in range(ROUNDS):
        account = make_key(services.db, f"account {n}").info.account
        rivals = [
            store.create(services.db, account, name=f"rival {i}", template=TEMPLATE, arms=arms,
                         control=None, author="test", overdue_window_days=7).id
            for i in range(2)
        ]  # fmt: skip
        outcomes = _start_at_once(services, account, rivals)
        assert sorted(outcomes) == ["refused", "running"], n
        states = sorted(store.get(services.db, account, r).state for r in rivals)
        assert states == ["draft", "running"]

    other = next(e for e in store.list_experiments(services.db, account) if e.state == "running")
    billing = make_key(services.db, "billing")
    mine = store.create(services.db, billing.info.account, name="split", template=TEMPLATE,
                        arms=arms, control=None, author="test", overdue_window_days=7)  # fmt: skip
    store.start(services.db, mine.account, mine.id)
    customers = [f"CUST-{i:03d}" for i in range(60)]
    key = {"Authorization": f"Bearer {billing.secret}"}
    lines = [bill_line(c, date(2026, 11, 30)) for c in customers]
    batch_id = batch(pg_app.test_client(), key, lines)
    with services.db.session() as session:
        rows = session.execute(
            select(Render.customer_id, Render.experiment_id, Render.experiment_arm).where(
                Render.batch_id == batch_id
            )
        ).all()
    assert {c: (e, a) for c, e, a in rows} == {
        c: (mine.id, assign(mine.id, c, [Arm("a"), Arm("b")])) for c in customers
    }
    assert other.account != mine.account  # another account's experiment placed nothing
