"""Reminder journeys on real processes: nothing lost, nothing doubled, whatever restarts.

The schedule lives in the database. These tests run the real parts as separate processes,
with one controllable clock that every process reads (`BILLREEL_CLOCK_FILE`): the test moves
days forward by writing a number, and never sleeps for time to pass.

- PostgreSQL, Redis, two `billreel scheduler` processes and `worker.py` (its dispatcher sends
  the webhooks): each step starts once, with two schedulers; schedulers, workers and Redis
  are killed or restarted between the steps, and a step missed while the schedulers were down
  runs when they are back (or is skipped, when its bill was paid meanwhile).
- An embedded `billreel serve` (SQLite, in-process worker and scheduler): a payment while a
  step renders cancels its webhook; the service killed mid-render and started again sends the
  other step's webhook once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from app.access.keys import create_key
from app.infra.database import Database, JourneyStep, WebhookDelivery
from app.infra.schema import migrate
from tests.faults.test_faults import (
    Stack,
    StackFactory,
    WebhookReceiver,
    Worker,
    make_stack,  # noqa: F401 (the make_stack fixture)
    wait_until,
)
from tests.journeys.kit import JOURNEY, bill_request, move_clock, utc
from tests.paths import REPO_ROOT
from tests.pg import postgres_server, postgres_url  # noqa: F401 (fixtures)
from tests.realparts import free_port, stop_process, wait_for_port

# Two microsite steps: three days before the due date, and the day after.
TWO_STEPS = JOURNEY | {"steps": JOURNEY["steps"][:2]}
BILLS = 4
HOLD_SECONDS = 3  # the embedded service's renders stay `rendering` this long


def start(stack: Stack, name: str, *args: str, **env: str | float) -> Worker:
    """A `billreel` subcommand as a process of its own, sharing the stack's settings."""
    log = stack.tmp / f"{name}.log"
    extra = {f"BILLREEL_{key.upper()}": str(value) for key, value in env.items()}
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", *args],
            env={**stack.env, **extra},
            cwd=REPO_ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    worker = Worker(name, process, log)
    stack.workers.append(worker)
    return worker


def steps(db: Database, position: int) -> dict[str, tuple[str, str | None]]:
    """Each bill's step at `position`: (status, reason), by customer."""
    with db.session() as session:
        rows = session.execute(
            select(JourneyStep.customer_id, JourneyStep.status, JourneyStep.reason).where(
                JourneyStep.position == position
            )
        ).all()
    return {customer: (status, reason) for customer, status, reason in rows}


def deliveries(db: Database) -> Counter[str]:
    with db.session() as session:
        return Counter(session.scalars(select(WebhookDelivery.event)))


def delivered_once(db: Database, receiver: WebhookReceiver) -> bool:
    """Every webhook in the outbox reached the receiver, none twice, and each is marked sent.

    Until a delivery is marked `delivered` in the database, a worker killed right after the
    receiver's 204 leaves it to be sent again (at least once, with the same `webhook-id`), so
    a test that kills workers waits for the mark, not only for the receiver.
    """
    with db.session() as session:
        rows = session.execute(select(WebhookDelivery.id, WebhookDelivery.status)).all()
    ids = {delivery_id for delivery_id, _ in rows}
    marked = all(status == "delivered" for _, status in rows)
    return marked and set(receiver.ids) == ids and len(receiver.ids) == len(ids)


def test_schedulers_workers_and_redis_restarted_lose_no_step_and_send_none_twice(
    make_stack: StackFactory,  # noqa: F811
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    clock_file = tmp_path / "clock"
    move_clock(clock_file, utc("2026-11-20T12:00"))
    receiver = WebhookReceiver(tmp_path)
    stack = make_stack(
        database_url=postgres_url,
        clock_file=clock_file,
        scheduler_poll_seconds=0.2,
        scheduler_batch_steps=1,  # the two schedulers take turns, step by step
    )
    stack.env["SSL_CERT_FILE"] = str(receiver.ca_file)
    db = stack.services.db
    try:
        saved = stack.client.post(
            "/v1/journeys/gentle/versions", json=TWO_STEPS, headers=stack.auth
        )
        assert saved.status_code == 201
        bills = {}
        for n in range(BILLS):
            request = bill_request(callback_url=receiver.url, **{"data.customer.id": f"C-{n}"})
            response = stack.client.post("/v1/renders", json=request, headers=stack.auth)
            assert response.status_code == 202, response.get_data(as_text=True)
            bills[f"C-{n}"] = response.get_json()["id"]
        worker = stack.start_worker("worker-1")
        schedulers = [start(stack, f"scheduler-{n}", "scheduler") for n in (1, 2)]
        every = (worker, *schedulers)
        wait_until(lambda: deliveries(db)["render.done"] == BILLS, "the bills' renders", every)

        move_clock(clock_file, utc("2026-11-27T09:01"))  # the first step is due
        wait_until(lambda: deliveries(db)["journey.step_ready"] == BILLS, "step 1", every)
        wait_until(lambda: delivered_once(db, receiver), "step 1's webhooks", every)
        assert set(steps(db, 1).values()) == {("sent", None)}

        # Everything goes down: a worker dies with its machine, the schedulers are stopped.
        worker.kill_machine()
        schedulers[0].kill_machine()
        schedulers[1].process.send_signal(signal.SIGTERM)
        assert schedulers[1].process.wait(timeout=60) == 0, schedulers[1].log_tail()
        move_clock(clock_file, utc("2026-12-01T09:01"))  # step 2 is due while they are down
        paid = stack.client.post(f"/v1/renders/{bills['C-0']}/payments", json={},
                                 headers=stack.auth)  # fmt: skip
        assert paid.status_code == 201
        assert steps(db, 2)["C-0"] == ("skipped", "paid")

        # A scheduler comes back: the missed steps run; their jobs are lost with Redis.
        back = start(stack, "scheduler-3", "scheduler")
        wait_until(
            lambda: sorted(steps(db, 2).values()).count(("rendering", None)) == BILLS - 1,
            "step 2 started",
            (back,),
        )
        stack.restart_redis()
        survivor = stack.start_worker("worker-2", stuck_after_seconds=2)
        every = (survivor, back)
        wait_until(lambda: deliveries(db)["journey.step_ready"] == 2 * BILLS - 1, "step 2", every)
        wait_until(lambda: delivered_once(db, receiver), "step 2's webhooks", every)
        assert steps(db, 2) == {
            "C-0": ("skipped", "paid"), "C-1": ("sent", None), "C-2": ("sent", None),
            "C-3": ("sent", None),
        }  # fmt: skip
        for customer, render_id in bills.items():
            body = stack.client.get(f"/v1/renders/{render_id}/journey", headers=stack.auth)
            started = [
                d["step"] for d in body.get_json()["decisions"] if d["decision"] == "started"
            ]
            assert started == ([1] if customer == "C-0" else [1, 2]), body.get_json()
    finally:
        receiver.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """What an embedded `billreel serve` is started with: its settings, a key, a receiver."""
    receiver = WebhookReceiver(tmp_path)
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    db = Database(f"sqlite:///{data_dir / 'billreel.db'}")
    migrate(db.engine)
    key = create_key(db, "billing")
    port = free_port()
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "SSL_CERT_FILE": str(receiver.ca_file),
        "BILLREEL_DATA_DIR": str(data_dir),
        "BILLREEL_PORT": str(port),
        "BILLREEL_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "BILLREEL_CLOCK_FILE": str(tmp_path / "clock"),
        "BILLREEL_VOICE": "none",
        "BILLREEL_WEBHOOK_ALLOW_PRIVATE": "true",
        "BILLREEL_WEBHOOK_POLL_SECONDS": "1",
        "BILLREEL_SWEEP_INTERVAL_SECONDS": "1",
        "BILLREEL_SCHEDULER_POLL_SECONDS": "0.2",
        "BILLREEL_INPROCESS_WORKERS": "4",  # the bills' renders and the steps' at once
        "BILLREEL_RENDER_HOLD_SECONDS": str(HOLD_SECONDS),
        "BILLREEL_STUCK_AFTER_SECONDS": str(HOLD_SECONDS + 1),
    }
    env.pop("BILLREEL_REDIS_URL", None)
    env.pop("BILLREEL_DATABASE_URL", None)
    try:
        yield {"env": env, "port": port, "key": key, "db": db, "receiver": receiver,
               "clock": tmp_path / "clock", "tmp": tmp_path}  # fmt: skip
    finally:
        receiver.close()
        db.dispose()


def serve(served: dict[str, Any], name: str) -> Worker:
    log = served["tmp"] / f"{name}.log"
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve"],
            env=served["env"], cwd=REPO_ROOT, stdout=handle, stderr=subprocess.STDOUT,
        )  # fmt: skip
    wait_for_port(served["port"], timeout=120, process=process)
    return Worker(name, process, log)


def test_a_payment_mid_render_cancels_the_webhook_and_a_restarted_service_sends_one(
    served: dict[str, Any],
) -> None:
    base = f"http://127.0.0.1:{served['port']}"
    auth = {"Authorization": f"Bearer {served['key']}"}
    db, receiver = served["db"], served["receiver"]
    move_clock(served["clock"], utc("2026-11-20T12:00"))
    service = serve(served, "serve-1")
    try:
        saved = requests.post(f"{base}/v1/journeys/gentle/versions", json=TWO_STEPS,
                              headers=auth, timeout=30)  # fmt: skip
        assert saved.status_code == 201
        bills = {}
        for customer in ("PAYS", "WAITS"):
            request = bill_request(callback_url=receiver.url, **{"data.customer.id": customer})
            response = requests.post(f"{base}/v1/renders", json=request, headers=auth, timeout=30)
            assert response.status_code == 202, response.text
            bills[customer] = response.json()["id"]

        def done(render_id: str) -> bool:
            got = requests.get(f"{base}/v1/renders/{render_id}", headers=auth, timeout=30)
            return bool(got.json()["status"] == "done")

        # The bills' own renders are made (and their render.done queued) before any step.
        wait_until(lambda: all(done(b) for b in bills.values()), "the bills rendered", (service,))
        move_clock(served["clock"], utc("2026-11-27T09:01"))
        wait_until(
            lambda: set(steps(db, 1).values()) == {("rendering", None)}, "step 1", (service,)
        )
        with db.session() as session:
            renders = dict(
                session.execute(
                    select(JourneyStep.customer_id, JourneyStep.render_id).where(
                        JourneyStep.position == 1
                    )
                ).all()
            )

        def rendering(customer: str) -> bool:
            got = requests.get(f"{base}/v1/renders/{renders[customer]}", headers=auth, timeout=30)
            return bool(got.json()["status"] == "rendering")

        wait_until(lambda: rendering("PAYS") and rendering("WAITS"), "both mid-render", (service,))
        paid = requests.post(f"{base}/v1/renders/{bills['PAYS']}/payments", json={},
                             headers=auth, timeout=30)  # fmt: skip
        assert paid.status_code == 201
        service.kill_machine()  # mid-render: the other step's render is lost with the process
        assert steps(db, 1)["WAITS"] == ("rendering", None)

        service = serve(served, "serve-2")
        wait_until(lambda: steps(db, 1)["WAITS"] == ("sent", None), "the restart", (service,))
        wait_until(lambda: delivered_once(db, receiver), "its webhook", (service,))
        assert steps(db, 1)["PAYS"] == ("cancelled", "paid")
        assert deliveries(db) == {"render.done": 2, "journey.step_ready": 1}
        paid_journey = requests.get(f"{base}/v1/renders/{bills['PAYS']}/journey", headers=auth,
                                    timeout=30).json()  # fmt: skip
        assert [(d["step"], d["decision"], d["reason"]) for d in paid_journey["decisions"]] == [
            (1, "started", None), (None, "stopped", "paid"), (1, "cancelled", "paid"),
            (2, "skipped", "paid"),
        ]  # fmt: skip
    finally:
        if service.process.poll() is None:
            service.process.terminate()
        stop_process(service.process)
