"""With BILLREEL_REDIS_URL set, renders go to RQ on a real Redis and `worker.py` does them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from rq import Queue
from rq.exceptions import DuplicateJobError
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import update

from app.access.keys import create_key
from app.infra.database import Render, as_utc
from app.infra.queue import FAILURE_TTL_SECONDS, RETRY_INTERVALS_SECONDS
from app.infra.settings import Settings
from app.wiring import create_app
from tests.factories import make_render_request
from tests.paths import REPO_ROOT


def test_ondemand_first_invalid_template_fails_at_once(redis_server: str, tmp_path: Path) -> None:
    """One burst worker: jobs are ids with per-queue limits; on-demand jumps a billing run;
    a render whose template is gone fails at once with a clear error and no retry."""
    data_dir = tmp_path / "var"
    settings = Settings(
        data_dir=data_dir,
        redis_url=redis_server,
        public_url="https://b.example.test",
        voice="none",
        batch_result_ttl_seconds=120,
    )
    app = create_app(settings)
    services = app.extensions["billreel"]
    client = app.test_client()
    auth = {"Authorization": f"Bearer {create_key(services.db, 'rq')}"}
    request = make_render_request(outputs=["microsite"])

    # A billing run is queued first, then a customer clicks: one on-demand render.
    lines = [make_render_request(outputs=["microsite"], external_id=f"l{n}") for n in (1, 2)]
    body = "\n".join(json.dumps(line) for line in lines).encode()
    batch = client.post(
        "/v1/batches", data=body, headers=auth, content_type="application/x-ndjson"
    ).get_json()
    ondemand: dict[str, Any] = client.post("/v1/renders", json=request, headers=auth).get_json()
    broken: dict[str, Any] = client.post("/v1/renders", json=request, headers=auth).get_json()
    with services.db.session() as session:  # accepted before versions, for a template now gone
        session.execute(
            update(Render)
            .where(Render.id == broken["id"])
            .values(template="no-such-template", template_version_id=None)
        )

    connection = Redis.from_url(redis_server)
    queues = {
        name: Queue(name, connection=connection, serializer=JSONSerializer)
        for name in ("ondemand", "batch")
    }
    assert queues["ondemand"].job_ids == [ondemand["id"], broken["id"]]  # job id = render id
    batch_ids = queues["batch"].job_ids
    assert len(batch_ids) == 2
    job = queues["ondemand"].fetch_job(ondemand["id"])
    assert job is not None and job.args == [ondemand["id"]]  # only the id, as JSON
    assert (job.timeout, job.ttl, job.result_ttl, job.failure_ttl) == (
        settings.render_timeout_seconds,
        24 * 3600,
        settings.result_ttl_seconds,
        FAILURE_TTL_SECONDS,
    )
    assert job.retries_left == settings.render_retries
    assert job.retry_intervals == list(RETRY_INTERVALS_SECONDS)
    batch_job = queues["batch"].fetch_job(batch_ids[0])
    assert batch_job is not None and batch_job.result_ttl == 120  # per queue
    with pytest.raises(DuplicateJobError):  # unique=True: a render is never queued twice
        services.queue.enqueue(ondemand["id"], "ondemand")

    env = {
        **os.environ,
        "BILLREEL_DATA_DIR": str(data_dir),
        "BILLREEL_REDIS_URL": redis_server,
        "BILLREEL_VOICE": "none",
    }
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "worker.py"), "--burst"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]

    done = client.get(f"/v1/renders/{ondemand['id']}", headers=auth).get_json()
    assert done["status"] == "done", done
    assert client.get("/r/" + done["links"]["microsite"].rsplit("/", 1)[1]).status_code == 200
    counts = client.get(f"/v1/batches/{batch['id']}", headers=auth).get_json()
    assert counts["done"] == 2, counts
    with services.db.session() as session:
        finished = {
            rid: as_utc(session.get(Render, rid).finished_at)
            for rid in [ondemand["id"], *batch_ids]
        }
    # The worker listens on ["ondemand", "batch"]: the later click ran before the billing run.
    assert finished[ondemand["id"]] < min(finished[rid] for rid in batch_ids)

    failed = client.get(f"/v1/renders/{broken['id']}", headers=auth).get_json()
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "TemplateNotFound"
    assert "no-such-template" in failed["error"]["message"]
    broken_job = Job.fetch(broken["id"], connection=connection, serializer=JSONSerializer)
    assert broken_job.get_status() == "finished"  # not failed, not scheduled: no RQ retry
    with services.db.session() as session:
        assert session.get(Render, broken["id"]).attempts == 1
    services.db.dispose()


def test_worker_refuses_a_redis_that_evicts_keys(redis_server: str, tmp_path: Path) -> None:
    connection = Redis.from_url(redis_server)
    connection.config_set("maxmemory-policy", "allkeys-lru")
    try:
        env = {**os.environ, "BILLREEL_DATA_DIR": str(tmp_path), "BILLREEL_REDIS_URL": redis_server}
        result = subprocess.run(
            [sys.executable, str(REPO_ROOT / "worker.py"), "--burst"],
            env=env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        connection.config_set("maxmemory-policy", "noeviction")
    assert result.returncode == 2
    assert "maxmemory-policy is 'allkeys-lru'" in result.stderr
    assert "noeviction" in result.stderr


def test_a_chunk_is_enqueued_in_one_pipeline_as_the_same_unique_jobs(
    redis_server: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "var", redis_url=redis_server)
    app = create_app(settings)
    services = app.extensions["billreel"]
    connection = Redis.from_url(redis_server)
    services.queue.enqueue("rnd_single", "batch")
    services.queue.enqueue_many(["rnd_single", "rnd_a", "rnd_b"], "batch")
    queue = Queue("batch", connection=connection, serializer=JSONSerializer)
    assert queue.job_ids == ["rnd_single", "rnd_a", "rnd_b"]  # the duplicate was not queued
    single, bulk = (queue.fetch_job(job_id) for job_id in ("rnd_single", "rnd_a"))
    assert single is not None and bulk is not None
    assert bulk.args == ["rnd_a"] and bulk.func_name == single.func_name
    for attribute in ("timeout", "ttl", "result_ttl", "failure_ttl", "retries_left", "origin"):
        assert getattr(bulk, attribute) == getattr(single, attribute), attribute
    assert bulk.retry_intervals == single.retry_intervals
    assert bulk.get_status() == "queued" and bulk.enqueued_at is not None
    services.db.dispose()


def test_a_chunk_writes_the_very_hashes_rq_writes_and_a_worker_runs_them(
    redis_server: str, tmp_path: Path
) -> None:
    """`enqueue_many` writes RQ's job hashes by a script: field for field what RQ's own
    enqueue writes, but for the render id and the moments of creation and enqueueing."""
    settings = Settings(data_dir=tmp_path / "var", redis_url=redis_server)
    app = create_app(settings)
    services = app.extensions["billreel"]
    connection = Redis.from_url(redis_server)
    services.queue.enqueue("rnd_by_rq", "ondemand")
    services.queue.enqueue_many(["rnd_by_script", "rnd_by_rq"], "ondemand")
    by_rq, by_script = (connection.hgetall(f"rq:job:{n}") for n in ("rnd_by_rq", "rnd_by_script"))
    moments = {b"created_at", b"enqueued_at"}
    assert set(by_rq) == set(by_script) and moments <= set(by_rq)
    for field in set(by_rq) - moments - {b"data", b"description"}:
        assert by_rq[field] == by_script[field], field
    assert zlib.decompress(by_script[b"data"]) == zlib.decompress(by_rq[b"data"]).replace(
        b"rnd_by_rq", b"rnd_by_script"
    )
    assert by_script[b"description"] == by_rq[b"description"].replace(b"by_rq", b"by_script")
    assert connection.ttl("rq:job:rnd_by_script") == connection.ttl("rq:job:rnd_by_rq") > 0
    queue = Queue("ondemand", connection=connection, serializer=JSONSerializer)
    assert queue.job_ids == ["rnd_by_rq", "rnd_by_script"]
    job = queue.fetch_job("rnd_by_script")
    assert job is not None and job.args == ["rnd_by_script"] and job.kwargs == {}
    assert job.func_name == "app.rendering.job.run_render"
    services.db.dispose()
