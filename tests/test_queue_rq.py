"""With BILLREEL_REDIS_URL set, renders go to RQ on a real Redis and `worker.py` does them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from app import create_app
from app.keys import create_key
from app.settings import Settings
from tests.factories import make_render_request

ROOT = Path(__file__).resolve().parents[1]


def test_render_through_rq_and_a_worker_process(redis_server: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    settings = Settings(
        data_dir=data_dir, redis_url=redis_server, public_url="https://b.example.test"
    )
    app = create_app(settings)
    services = app.extensions["billreel"]
    client = app.test_client()
    auth = {"Authorization": f"Bearer {create_key(services.db, 'rq')}"}
    request = make_render_request()
    request["outputs"] = ["microsite"]
    body: dict[str, Any] = client.post("/v1/renders", json=request, headers=auth).get_json()

    from redis import Redis
    from rq import Queue
    from rq.serializers import JSONSerializer

    queue = Queue("ondemand", connection=Redis.from_url(redis_server), serializer=JSONSerializer)
    assert queue.job_ids == [body["id"]]  # the job id is the render id

    env = {**os.environ, "BILLREEL_DATA_DIR": str(data_dir), "BILLREEL_REDIS_URL": redis_server}
    result = subprocess.run(
        [sys.executable, str(ROOT / "worker.py"), "--burst"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    done = client.get(f"/v1/renders/{body['id']}", headers=auth).get_json()
    assert done["status"] == "done", done
    assert client.get("/r/" + done["links"]["microsite"].rsplit("/", 1)[1]).status_code == 200
    services.db.dispose()


def test_worker_refuses_a_redis_that_evicts_keys(redis_server: str, tmp_path: Path) -> None:
    from redis import Redis

    connection = Redis.from_url(redis_server)
    connection.config_set("maxmemory-policy", "allkeys-lru")
    try:
        env = {**os.environ, "BILLREEL_DATA_DIR": str(tmp_path), "BILLREEL_REDIS_URL": redis_server}
        result = subprocess.run(
            [sys.executable, str(ROOT / "worker.py"), "--burst"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        connection.config_set("maxmemory-policy", "noeviction")
    assert result.returncode == 2
    assert "noeviction" in result.stderr
