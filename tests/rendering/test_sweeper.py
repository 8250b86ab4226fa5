"""The sweeper: renders stuck in `queued` or `rendering` past the bound get a fresh RQ job.

Real Redis; the renders are accepted through the API and then aged in the database, which
is what a lost job (Redis restarted) or a dead worker leaves behind.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import select, update

from app.access.keys import create_key
from app.infra.database import Render, WebhookDelivery, utcnow
from app.infra.services import Services
from app.infra.settings import Settings
from app.rendering.job import remove_stale_workdirs, run_render_with
from app.rendering.metrics import render_counts
from app.rendering.sweeper import stuck_renders, sweep
from app.wiring import create_app, rq_queue
from tests.factories import make_render_request

STUCK_AFTER = 60  # seconds; the renders below are aged past it, or not


@pytest.fixture
def rq_services(
    redis_server: str, tmp_path: Path
) -> Iterator[tuple[Services, FlaskClient, dict[str, str]]]:
    settings = Settings(
        data_dir=tmp_path / "var",
        redis_url=redis_server,
        public_url="https://b.example.test",
        stuck_after_seconds=STUCK_AFTER,
        voice="none",
    )
    app = create_app(settings, start_queue=False)  # renders accepted, no jobs: "lost"
    services: Services = app.extensions["billreel"]
    auth = {"Authorization": f"Bearer {create_key(services.db, 'sweep')}"}
    yield services, app.test_client(), auth
    services.db.dispose()


def accept(client: FlaskClient, auth: dict[str, str], **overrides: Any) -> str:
    request = make_render_request(outputs=["microsite"], **overrides)
    response = client.post("/v1/renders", json=request, headers=auth)
    assert response.status_code == 202, response.get_data(as_text=True)
    render_id: str = response.get_json()["id"]
    return render_id


def accept_line(client: FlaskClient, auth: dict[str, str]) -> str:
    body = json.dumps(make_render_request(outputs=["microsite"])).encode()
    response = client.post(
        "/v1/batches", data=body, headers=auth, content_type="application/x-ndjson"
    )
    assert response.status_code == 202
    return str(response.get_json()["id"])


def age(services: Services, render_id: str, seconds: float, **values: Any) -> None:
    with services.db.session() as session:
        session.execute(
            update(Render)
            .where(Render.id == render_id)
            .values(updated_at=utcnow() - timedelta(seconds=seconds), **values)
        )


def row(services: Services, render_id: str) -> Render:
    with services.db.session() as session:
        found = session.get(Render, render_id)
        assert found is not None
        return found


def test_sweep_requeues_lost_and_dead_jobs_and_gives_up_after_every_run(
    rq_services: tuple[Services, FlaskClient, dict[str, str]], redis_server: str
) -> None:
    services, client, auth = rq_services
    old = STUCK_AFTER + 5
    lost = accept(client, auth)
    batch_id = accept_line(client, auth)
    with services.db.session() as session:
        lost_line = session.scalars(select(Render.id).where(Render.batch_id == batch_id)).one()
    waiting, fresh, dead, done, tired = (accept(client, auth) for _ in range(5))
    tired_hook = accept(client, auth, callback_url="https://hooks.example.test/h")

    connection = Redis.from_url(redis_server)
    queue = rq_queue(services, connection)
    queue.enqueue(waiting, "ondemand")  # its job still waits: left alone
    queue.enqueue(dead, "ondemand")  # taken by a worker that then died
    connection.lrem("rq:queue:ondemand", 0, dead)
    connection.hset(Job.key_for(dead), "status", "started")
    for render_id in (lost, lost_line, waiting, dead):
        age(services, render_id, old)
    age(services, dead, old, status="rendering", attempts=1)
    age(services, done, old, status="done")
    runs = services.settings.render_retries + 1
    age(services, tired, old, status="rendering", attempts=runs)
    age(services, tired_hook, old, status="queued", attempts=runs)

    assert {rid for rid, _ in stuck_renders(services, STUCK_AFTER)} == {
        lost,
        lost_line,
        waiting,
        dead,
        tired,
        tired_hook,
    }
    result = sweep(services, queue)
    assert sorted(result.requeued) == sorted([lost, lost_line, dead])
    assert sorted(result.abandoned) == sorted([tired, tired_hook])
    assert fresh not in result.requeued
    ondemand = connection.lrange("rq:queue:ondemand", 0, -1)
    assert sorted(i.decode() for i in ondemand) == sorted([waiting, lost, dead])
    assert connection.lrange("rq:queue:batch", 0, -1) == [lost_line.encode()]  # its own queue
    job = Job.fetch(dead, connection=connection, serializer=JSONSerializer)
    assert job.get_status() == "queued"  # the dead worker's job replaced by a fresh one

    for render_id in (tired, tired_hook):
        gave_up = row(services, render_id)
        assert gave_up.status == "failed"
        assert gave_up.error == {
            "code": "abandoned",
            "message": f"the render did not finish in {runs} attempts",
        }
    with services.db.session() as session:
        hooks = session.scalars(select(WebhookDelivery.render_id)).all()
    assert hooks == [tired_hook]  # the billing system hears of it once
    assert render_counts(services)["failed"] == 2

    # Sweeping again finds the same renders still old in the database, but their jobs wait.
    assert sweep(services, queue).requeued == []


def test_a_stale_claim_is_taken_over_a_live_one_is_not(
    rq_services: tuple[Services, FlaskClient, dict[str, str]],
) -> None:
    services, client, auth = rq_services
    render_id = accept(client, auth)
    age(services, render_id, 1, status="rendering", attempts=1)  # a worker is on it right now
    assert run_render_with(services, render_id) == "rendering"
    assert row(services, render_id).attempts == 1

    age(services, render_id, STUCK_AFTER + 5)  # that worker went silent: it died
    assert run_render_with(services, render_id) == "done"
    assert row(services, render_id).attempts == 2


def test_work_directories_of_dead_runs_are_removed(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", stuck_after_seconds=STUCK_AFTER)
    settings.work_dir.mkdir(parents=True)
    dead, live = settings.work_dir / "render-dead", settings.work_dir / "render-live"
    for path in (dead, live):
        path.mkdir()
        (path / "frame.png").write_bytes(b"x")
    long_ago = time.time() - STUCK_AFTER - 5
    os.utime(dead, (long_ago, long_ago))
    assert remove_stale_workdirs(settings) == 1
    assert not dead.exists() and live.exists()


def test_billreel_sweep_runs_one_sweep_now(
    rq_services: tuple[Services, FlaskClient, dict[str, str]],
    redis_server: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from click.testing import CliRunner

    from app.cli import main

    services, client, auth = rq_services
    lost = accept(client, auth)
    age(services, lost, STUCK_AFTER + 5)
    settings = services.settings
    monkeypatch.setenv("BILLREEL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BILLREEL_REDIS_URL", redis_server)
    monkeypatch.setenv("BILLREEL_STUCK_AFTER_SECONDS", str(STUCK_AFTER))
    result = CliRunner().invoke(main, ["sweep"])
    assert result.exit_code == 0, result.output
    assert "stuck: 1, re-enqueued: 1, failed after every run: 0" in result.output
    assert Redis.from_url(redis_server).lrange("rq:queue:ondemand", 0, -1) == [lost.encode()]

    monkeypatch.delenv("BILLREEL_REDIS_URL")
    refused = CliRunner().invoke(main, ["sweep"])
    assert refused.exit_code != 0 and "BILLREEL_REDIS_URL" in refused.output
