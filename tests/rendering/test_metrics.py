"""Prometheus `/metrics`: what workers record anywhere adds up in the API's scrape."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from app.access.keys import create_key
from app.infra.services import Services
from app.infra.settings import Settings
from app.wiring import create_app
from tests.factories import make_render_request
from tests.paths import REPO_ROOT

# Another process (a worker on another machine, as far as Redis can tell) records two runs.
RECORD = """
from app.rendering.metrics import observe_render
from app.infra.services import Services
from app.infra.settings import Settings
services = Services.build(Settings.from_env())
observe_render(services, ["video", "microsite"], "done", None, 31.5)
observe_render(services, ["video"], "failed", "TemplateError", 3.2)
"""


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a (valid) exposition, keyed by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_add_up_across_processes_through_redis(redis_server: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    settings = Settings(data_dir=data_dir, redis_url=redis_server, metrics_token="scrape-me")
    app = create_app(settings)
    services: Services = app.extensions["billreel"]
    client = app.test_client()
    auth = {"Authorization": f"Bearer {create_key(services.db, 'metrics')}"}
    for _ in range(2):  # no worker runs: both wait in the on-demand queue
        assert (
            client.post("/v1/renders", json=make_render_request(), headers=auth).status_code == 202
        )

    env = {**os.environ, "BILLREEL_DATA_DIR": str(data_dir), "BILLREEL_REDIS_URL": redis_server}
    subprocess.run([sys.executable, "-c", RECORD], env=env, cwd=REPO_ROOT, check=True, timeout=120)

    assert client.get("/metrics").status_code == 401
    response = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    found = samples(response.get_data(as_text=True))

    both = (("outputs", "microsite,video"), ("status", "done"))
    assert found[("billreel_render_seconds_count", both)] == 1
    assert found[("billreel_render_seconds_sum", both)] == 31.5
    assert found[("billreel_render_seconds_bucket", (("le", "30.0"), *both))] == 0
    assert found[("billreel_render_seconds_bucket", (("le", "45.0"), *both))] == 1
    assert found[("billreel_render_seconds_bucket", (("le", "+Inf"), *both))] == 1
    failed = (("outputs", "video"), ("status", "failed"))
    assert found[("billreel_render_seconds_count", failed)] == 1
    assert found[("billreel_render_failures_total", (("reason", "TemplateError"),))] == 1
    assert found[("billreel_queue_depth", (("queue", "ondemand"),))] == 2
    assert found[("billreel_queue_depth", (("queue", "batch"),))] == 0
    assert found[("billreel_renders", (("status", "queued"),))] == 2
    assert found[("billreel_renders_stuck", ())] == 0
    assert found[("billreel_workers", ())] == 0
    services.db.dispose()


def test_metrics_of_the_embedded_in_process_worker(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path / "var"))
    services: Services = app.extensions["billreel"]
    client = app.test_client()
    auth = {"Authorization": f"Bearer {create_key(services.db, 'inproc')}"}
    request = make_render_request(outputs=["microsite"])
    render_id = client.post("/v1/renders", json=request, headers=auth).get_json()["id"]
    deadline = time.monotonic() + 120
    while client.get(f"/v1/renders/{render_id}", headers=auth).get_json()["status"] != "done":
        assert time.monotonic() < deadline, "the in-process render did not finish"
        time.sleep(0.2)

    found = samples(client.get("/metrics").get_data(as_text=True))  # open: no token set
    done = (("outputs", "microsite"), ("status", "done"))
    assert found[("billreel_render_seconds_count", done)] >= 1
    assert found[("billreel_renders", (("status", "done"),))] == 1
    assert found[("billreel_queue_depth", (("queue", "ondemand"),))] == 0
    assert services.queue is not None
    services.queue.close()
    services.db.dispose()
