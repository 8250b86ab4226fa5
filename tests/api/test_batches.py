"""`/v1/batches`: NDJSON billing runs, per-line rejections, counts, results in input order."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.infra.database import Render
from app.infra.services import Services
from app.rendering.job import run_render_with
from tests.api.test_renders import assert_problem
from tests.factories import make_render_request
from tests.paths import REPO_ROOT

NDJSON = "application/x-ndjson"


def ndjson(*lines: Any) -> bytes:
    return b"".join(
        (line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n" for line in lines
    )


def post_batch(client: FlaskClient, auth: dict[str, str], body: bytes, **headers: str) -> Any:
    return client.post("/v1/batches", data=body, headers={**auth, **headers}, content_type=NDJSON)


def request_for(n: int) -> dict[str, Any]:
    request = make_render_request()
    request["external_id"] = f"ext-{n}"
    request["data"]["customer"]["id"] = f"CUST-{n}"
    request["outputs"] = ["microsite"]
    return request


def test_batch_accepts_good_lines_and_rejects_bad_ones_by_line_number(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    bad_total = request_for(3)
    bad_total["data"]["bill"]["total"] = "not-money"
    body = ndjson(request_for(1), b"{not json", bad_total, request_for(4))
    response = post_batch(client, auth, body)
    assert response.status_code == 202
    result = response.get_json()
    assert result["accepted"] == 2
    assert [r["line"] for r in result["rejected"]] == [2, 3]
    assert result["rejected"][0]["errors"][0]["pointer"] == ""
    assert result["rejected"][1]["errors"][0]["pointer"] == "/data/bill/total"
    assert response.headers["Location"] == f"/v1/batches/{result['id']}"


def test_blank_lines_keep_numbering(client: FlaskClient, auth: dict[str, str]) -> None:
    body = ndjson(request_for(1)) + b"\n" + ndjson(b"[]")
    result = post_batch(client, auth, body).get_json()
    assert result["accepted"] == 1
    assert [r["line"] for r in result["rejected"]] == [3]


def test_overlong_line_is_rejected_and_the_rest_read(api_key_factory: Any) -> None:
    client, auth = api_key_factory(max_batch_line_bytes=4096)
    long_line = request_for(2)
    long_line["data"]["extra"] = {"notes": "y" * 10000}
    result = post_batch(client, auth, ndjson(request_for(1), long_line, request_for(3))).get_json()
    assert result["accepted"] == 2
    assert result["rejected"][0]["line"] == 2
    assert "longer than 4096 bytes" in result["rejected"][0]["errors"][0]["detail"]


def test_batch_status_codes(
    client: FlaskClient, auth: dict[str, str], api_key_factory: Any
) -> None:
    assert_problem(
        client.post("/v1/batches", data=b"", headers=auth, content_type="application/json"), 415
    )
    assert_problem(post_batch(client, auth, b"\n\n"), 422)
    assert_problem(
        client.post("/v1/batches", data=ndjson(request_for(1)), content_type=NDJSON), 401
    )
    small_client, small_auth = api_key_factory(max_batch_bytes=1000)
    assert_problem(
        post_batch(small_client, small_auth, ndjson(request_for(1), request_for(2))), 413
    )
    assert_problem(client.get("/v1/batches/bat_unknown", headers=auth), 404)
    assert_problem(client.get("/v1/batches/bat_unknown/results", headers=auth), 404)


def test_counts_results_and_analytics(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    result = post_batch(client, auth, ndjson(*(request_for(n) for n in range(1, 6)))).get_json()
    batch_id = result["id"]
    counts = client.get(f"/v1/batches/{batch_id}", headers=auth).get_json()
    assert counts["queued"] == 5 and counts["done"] == 0 and counts["accepted"] == 5
    with services.db.session() as session:
        first = session.query(Render).filter_by(batch_id=batch_id, line=1).one()
    assert run_render_with(services, first.id) == "done"
    counts = client.get(f"/v1/batches/{batch_id}", headers=auth).get_json()
    assert (counts["queued"], counts["done"]) == (4, 1)
    response = client.get(f"/v1/batches/{batch_id}/results", headers=auth)
    assert response.mimetype == NDJSON
    lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert [line["external_id"] for line in lines] == [f"ext-{n}" for n in range(1, 6)]
    assert set(lines[0]) == {"id", "external_id", "customer_id", "status", "links"}
    assert lines[0]["status"] == "done" and lines[1]["status"] == "queued"
    assert lines[0]["links"]["microsite"].startswith("https://bills.example.test/r/")
    analytics = client.get(f"/v1/batches/{batch_id}/analytics", headers=auth).get_json()
    assert analytics["funnel"]["delivered"] == 1
    assert set(analytics["funnel"]) == {
        "delivered",
        "opened",
        "video_started",
        "video_completed",
        "pay_click",
        "paid",
    }


def test_batch_idempotency_replays_without_new_renders(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    body = ndjson(request_for(1), request_for(2))
    first = post_batch(client, auth, body, **{"Idempotency-Key": "night-run"})
    again = post_batch(client, auth, body, **{"Idempotency-Key": "night-run"})
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    with services.db.session() as session:
        assert session.query(Render).count() == 2
    assert_problem(
        post_batch(client, auth, ndjson(request_for(3)), **{"Idempotency-Key": "night-run"}), 422
    )


PROBE = """
import json, resource, sys, tempfile
from pathlib import Path
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request
from app.wiring import create_app
from app.access.keys import create_key
from app.infra.settings import Settings
from tests.factories import make_render_request
from tests.api.test_batches import RepeatedLines

count = int(sys.argv[1])
app = create_app(Settings(data_dir=Path(tempfile.mkdtemp()) / "var"), start_queue=False)
auth = {"Authorization": "Bearer " + create_key(app.extensions["billreel"].db, "probe")}
request = make_render_request(outputs=["microsite"])
line = json.dumps(request).encode() + b"\\n"
environ = EnvironBuilder(
    path="/v1/batches", method="POST", headers=auth, content_type="application/x-ndjson"
).get_environ()
environ["wsgi.input"] = RepeatedLines(line, count)
environ["CONTENT_LENGTH"] = str(len(line) * count)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
response = app.test_client().open(Request(environ))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"status": response.status_code, "accepted": response.get_json()["accepted"],
                  "body_bytes": len(line) * count, "growth_bytes": (after - before) * 1024}))
"""


class RepeatedLines(io.RawIOBase):
    """A request body made on the fly, so the sender itself holds only one line."""

    def __init__(self, line: bytes, count: int) -> None:
        self._line, self._left, self._buffer = line, count, b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while len(self._buffer) < len(target) and self._left:
            self._buffer += self._line
            self._left -= 1
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


@pytest.mark.timeout(900)  # a memory test: on a busy machine its 100,000 lines take minutes
def test_100k_line_batch_is_streamed_in_flat_memory() -> None:
    """100,000 lines in a fresh process: its peak memory grows far less than the body's size."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "100000"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["status"] == 202
    assert report["accepted"] == 100_000
    assert report["growth_bytes"] < 80 * 1024 * 1024, report
    assert report["body_bytes"] > 150 * 1024 * 1024, report  # holding it would show


def test_cancel_stops_queued_renders_lets_running_ones_finish_and_is_idempotent(
    client: FlaskClient, auth: dict[str, str], services: Services, api_key_factory: Any
) -> None:
    accepted = post_batch(client, auth, ndjson(*(request_for(n) for n in range(1, 5))))
    batch_id = accepted.get_json()["id"]
    with services.db.session() as session:
        ids = [r.id for r in session.query(Render).filter_by(batch_id=batch_id).order_by("line")]
    assert run_render_with(services, ids[0]) == "done"
    with services.db.session() as session:  # a worker has just claimed the second one
        session.get(Render, ids[1]).status = "rendering"  # type: ignore[union-attr]

    response = client.post(f"/v1/batches/{batch_id}/cancel", headers=auth)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["queued"], body["rendering"], body["done"], body["cancelled"]) == (0, 1, 1, 2)
    assert body["cancelled_at"] is not None
    # A cancelled render's job may still be in Redis: when a worker takes it, nothing renders.
    assert run_render_with(services, ids[2]) == "cancelled"
    again = client.post(f"/v1/batches/{batch_id}/cancel", headers=auth)
    assert again.status_code == 200 and again.get_json() == body
    assert client.get(f"/v1/batches/{batch_id}", headers=auth).get_json() == body
    results = client.get(f"/v1/batches/{batch_id}/results", headers=auth).get_data(as_text=True)
    statuses = [json.loads(line)["status"] for line in results.splitlines()]
    assert statuses == ["done", "rendering", "cancelled", "cancelled"]
    render = client.get(f"/v1/renders/{ids[3]}", headers=auth).get_json()
    assert render["status"] == "cancelled"

    other_client, other_auth = api_key_factory()
    assert_problem(other_client.post(f"/v1/batches/{batch_id}/cancel", headers=other_auth), 404)
    assert_problem(client.post("/v1/batches/bat_unknown/cancel", headers=auth), 404)


class ProgressProbe:
    """A render queue (the `RenderQueue` protocol) that notes the batch's progress per chunk."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.seen: list[tuple[int, int, int]] = []  # (chunk size, batch's accepted, rows)

    def enqueue_many(self, render_ids: list[str], priority: str) -> None:
        from app.infra.database import Batch

        assert priority == "batch"
        with self.services.db.session() as session:
            render = session.get(Render, render_ids[0])
            assert render is not None
            batch = session.get(Batch, render.batch_id)
            assert batch is not None
            stored = session.query(Render).filter_by(batch_id=batch.id).count()
            self.seen.append((len(render_ids), batch.accepted, stored))

    def close(self) -> None:
        return None


def test_fan_out_in_chunks_shows_progress_while_the_body_is_read(api_key_factory: Any) -> None:
    client, auth = api_key_factory(batch_chunk_lines=2)
    services: Services = client.application.extensions["billreel"]
    probe = ProgressProbe(services)
    services.queue = probe  # type: ignore[assignment]
    post_batch(client, auth, ndjson(*(request_for(n) for n in range(1, 6))))
    # Each chunk is committed (renders and the count so far) before it is enqueued.
    assert probe.seen == [(2, 2, 2), (2, 4, 4), (1, 5, 5)]
