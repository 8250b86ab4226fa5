"""Faults a billing night meets, each survived by real processes.

Every test runs `worker.py` processes against a redis-server of its own (on a free port,
without persistence: a restart loses every job) and a SQLite database in a temporary data
directory; the API is the real app in this process. Renders are microsite-only, so the
tests spend their time on the fault, not on video encoding. `BILLREEL_RENDER_HOLD_SECONDS`
keeps a render in `rendering` long enough to kill or stop its worker mid-render.

Waits poll with a generous bound (the machine may be busy); no test asserts on elapsed time.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest
import trustme
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.access.keys import create_key
from app.infra.database import Render, WebhookDelivery
from app.infra.services import Services
from app.infra.settings import Settings
from app.wiring import create_app
from tests.factories import make_render_request
from tests.paths import REPO_ROOT
from tests.realparts import free_port, require, stop_process, wait_for_port
from tests.s3server import (
    MotoServer,
    moto_server_fixture,  # noqa: F401 (the moto_server fixture)
    s3_bucket_fixture,  # noqa: F401 (the s3_bucket fixture)
    s3_client,
)

WAIT_SECONDS = 240.0  # bound of every wait; a busy 2-core machine is slow, never this slow
POLL_SECONDS = 0.2
HOLD_SECONDS = 4  # a render stays `rendering` this long after rendering, before storing
OVERLAP_SECONDS = 8  # the first of two workers holds the render while the second takes it
S3_DOWN_SECONDS = 30.0  # the issue's outage, for real

T = TypeVar("T")


def wait_until(
    check: Callable[[], T],
    what: str,
    workers: tuple[Worker, ...] = (),
    timeout: float = WAIT_SECONDS,
) -> T:
    """Poll `check` until it returns something true; fail naming `what` (and worker logs)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        for worker in workers:
            if worker.process.poll() is not None:
                raise AssertionError(f"{what}: {worker.name} exited early\n{worker.log_tail()}")
        if time.monotonic() > deadline:
            logs = "\n".join(w.log_tail() for w in workers)
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        time.sleep(POLL_SECONDS)


# --- the parts ---------------------------------------------------------------------------


def start_redis_on(port: int, directory: Path) -> subprocess.Popen[bytes]:
    """redis-server on a given port (a restart must come back where the workers look)."""
    args = [require("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    args += ["--appendonly", "no", "--dir", str(directory), "--logfile", "redis.log"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, process=process)
    return process


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, chars: int = 3000) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} ---\n{text[-chars:]}"

    def kill_machine(self) -> None:
        """SIGKILL the worker and every process under it (its work horse): a machine dies."""
        pids = [self.process.pid]
        for pid in pids:  # grows while it is walked: children, then theirs
            children = Path(f"/proc/{pid}/task/{pid}/children")
            if children.exists():
                pids += [int(child) for child in children.read_text().split()]
        for pid in reversed(pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=30)


class WebhookReceiver:
    """A billing system's https endpoint: answers 204 and keeps each `webhook-id` it got.

    Its certificate comes from a throwaway CA that the workers trust through SSL_CERT_FILE.
    """

    def __init__(self, directory: Path) -> None:
        self.ids: list[str] = []
        received = self.ids

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append(self.headers.get("webhook-id", ""))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        self.ca_file = directory / "webhook-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Outage:
    """A TCP proxy in front of a real server that can go down (connections refused) and up.

    While down, the port stays bound but does not listen, so a client gets "connection
    refused" at once, just as from a stopped S3 endpoint; open connections are cut.
    """

    def __init__(self, target_port: int) -> None:
        self._target = target_port
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.up()

    def up(self) -> None:
        self._socket.listen(64)
        self._socket.settimeout(POLL_SECONDS)
        self._stop.clear()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def down(self) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self._socket.close()
        with self._lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()
        held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        held.bind(("127.0.0.1", self.port))  # bound, not listening: connections refused
        self._socket = held

    def close(self) -> None:
        self._stop.set()
        self._socket.close()
        with self._lock:
            for conn in self._conns:
                conn.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            upstream = socket.create_connection(("127.0.0.1", self._target))
            with self._lock:
                self._conns += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@dataclass
class Stack:
    """Redis, the database, the API (in this process) and the worker processes of one test."""

    tmp: Path
    env: dict[str, str]
    app: Flask
    client: FlaskClient
    auth: dict[str, str]
    redis_port: int
    redis: subprocess.Popen[bytes]
    workers: list[Worker] = field(default_factory=list)

    @property
    def services(self) -> Services:
        services: Services = self.app.extensions["billreel"]
        return services

    @property
    def redis_url(self) -> str:
        return self.env["BILLREEL_REDIS_URL"]

    def start_worker(self, name: str, **env: str | float) -> Worker:
        log = self.tmp / f"{name}.log"
        extra = {f"BILLREEL_{key.upper()}": str(value) for key, value in env.items()}
        with open(log, "wb") as handle:
            process = subprocess.Popen(
                [sys.executable, str(REPO_ROOT / "worker.py")],
                env={**self.env, **extra},
                cwd=REPO_ROOT,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        worker = Worker(name, process, log)
        self.workers.append(worker)
        return worker

    def workers_registered(self) -> int:
        from redis import Redis
        from rq import Worker as RQWorker

        with Redis.from_url(self.redis_url) as connection:
            return len(RQWorker.all(connection=connection))

    def restart_redis(self) -> None:
        """Stop Redis (every job in it is lost: no persistence) and start it on the same port."""
        stop_process(self.redis)
        self.redis = start_redis_on(self.redis_port, self.tmp / "redis")

    def submit(self, callback_url: str | None = None) -> str:
        request = make_render_request(outputs=["microsite"])
        if callback_url:
            request["callback_url"] = callback_url
        response = self.client.post("/v1/renders", json=request, headers=self.auth)
        assert response.status_code == 202, response.get_data(as_text=True)
        render_id: str = response.get_json()["id"]
        return render_id

    def submit_batch(self, count: int) -> list[str]:
        lines = []
        for n in range(count):
            request = make_render_request(outputs=["microsite"], external_id=f"line-{n}")
            lines.append(json.dumps(request))
        response = self.client.post(
            "/v1/batches",
            data="\n".join(lines).encode(),
            headers=self.auth,
            content_type="application/x-ndjson",
        )
        assert response.status_code == 202, response.get_data(as_text=True)
        with self.services.db.session() as session:
            ids = session.scalars(
                select(Render.id).where(Render.batch_id == response.get_json()["id"])
            ).all()
        return list(ids)

    def render(self, render_id: str) -> Render:
        with self.services.db.session() as session:
            row = session.get(Render, render_id)
            assert row is not None
            session.expunge(row)
            return row

    def statuses(self, ids: list[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for render_id in ids:
            status = self.render(render_id).status
            counts[status] = counts.get(status, 0) + 1
        return counts

    def deliveries(self, render_id: str) -> list[str]:
        with self.services.db.session() as session:
            return list(
                session.scalars(
                    select(WebhookDelivery.id).where(WebhookDelivery.render_id == render_id)
                ).all()
            )

    def output_files(self, render_id: str) -> list[str]:
        base = self.services.settings.files_dir / "renders" / render_id
        return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())


StackFactory = Callable[..., Stack]


@pytest.fixture
def make_stack(tmp_path: Path) -> Iterator[StackFactory]:
    """Build the stack with `BILLREEL_*` settings (lower-case names) shared by all its parts."""
    stacks: list[Stack] = []

    def build(**settings: str | float) -> Stack:
        port = free_port()
        (tmp_path / "redis").mkdir()
        redis = start_redis_on(port, tmp_path / "redis")
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "BILLREEL_DATA_DIR": str(tmp_path / "var"),
            "BILLREEL_REDIS_URL": f"redis://127.0.0.1:{port}/0",
            "BILLREEL_PUBLIC_URL": "https://bills.example.test",
            "BILLREEL_SECRET_KEY": "faults-test-secret",
            "BILLREEL_VOICE": "none",
            "BILLREEL_WEBHOOK_ALLOW_PRIVATE": "true",
            "BILLREEL_WEBHOOK_POLL_SECONDS": "1",
            "BILLREEL_SWEEP_INTERVAL_SECONDS": "1",
        }
        env.update({f"BILLREEL_{key.upper()}": str(value) for key, value in settings.items()})
        app = create_app(Settings.from_env(env))
        key = create_key(app.extensions["billreel"].db, "faults")
        stack = Stack(
            tmp_path, env, app, app.test_client(), {"Authorization": f"Bearer {key}"}, port, redis
        )
        stacks.append(stack)
        return stack

    yield build
    for stack in stacks:
        for worker in stack.workers:
            if worker.process.poll() is None:
                worker.kill_machine()
        stop_process(stack.redis)
        stack.services.db.dispose()


# --- the faults --------------------------------------------------------------------------


def test_sigkill_mid_render_still_completes_with_one_output_and_one_webhook(
    make_stack: StackFactory,
) -> None:
    stack = make_stack()
    receiver = WebhookReceiver(stack.tmp)
    stack.env["SSL_CERT_FILE"] = str(receiver.ca_file)
    try:
        doomed = stack.start_worker("doomed", render_hold_seconds=HOLD_SECONDS)
        render_id = stack.submit(callback_url=receiver.url)
        wait_until(lambda: stack.render(render_id).status == "rendering", "a claim", (doomed,))
        doomed.kill_machine()
        assert stack.render(render_id).status == "rendering"  # left behind by the dead worker

        # A surviving worker's sweeper finds the render silent past its bound and re-runs it.
        survivor = stack.start_worker("survivor", stuck_after_seconds=3)
        wait_until(lambda: stack.render(render_id).status == "done", "the re-run", (survivor,))
        wait_until(lambda: receiver.ids, "the webhook", (survivor,))
        row = stack.render(render_id)
        assert row.attempts == 2
        assert stack.output_files(render_id) == ["site/index.html"]
        assert len(stack.deliveries(render_id)) == 1
        assert set(receiver.ids) == set(stack.deliveries(render_id))  # one webhook id
    finally:
        receiver.close()


def test_sigterm_lets_the_current_render_finish_then_the_worker_exits(
    make_stack: StackFactory,
) -> None:
    stack = make_stack()
    worker = stack.start_worker("worker", render_hold_seconds=HOLD_SECONDS)
    current = stack.submit()
    wait_until(lambda: stack.render(current).status == "rendering", "a claim", (worker,))
    following = stack.submit()
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=WAIT_SECONDS) == 0, worker.log_tail()
    assert stack.render(current).status == "done", worker.log_tail()
    assert stack.output_files(current) == ["site/index.html"]
    assert stack.render(following).status == "queued"  # not started: it waits for a worker


def test_two_workers_given_the_same_render_make_one_output(make_stack: StackFactory) -> None:
    from redis import Redis
    from rq.job import Job
    from rq.serializers import JSONSerializer

    stack = make_stack()
    first = stack.start_worker("first", render_hold_seconds=OVERLAP_SECONDS)
    second = stack.start_worker("second", render_hold_seconds=OVERLAP_SECONDS)
    wait_until(lambda: stack.workers_registered() == 2, "two idle workers", (first, second))
    render_id = stack.submit()
    with Redis.from_url(stack.redis_url) as connection:
        connection.rpush("rq:queue:ondemand", render_id)  # the same job handed out twice
        wait_until(
            lambda: connection.llen("rq:queue:ondemand") == 0, "both copies taken", (first, second)
        )
        wait_until(lambda: stack.render(render_id).status == "done", "the render", (first, second))
        job = Job.fetch(render_id, connection=connection, serializer=JSONSerializer)
        wait_until(lambda: len(job.results()) == 2, "both runs to end", (first, second))
        outcomes = sorted(str(result.return_value) for result in job.results())
    # One run rendered; the other found the render claimed and left it alone.
    assert outcomes == ["done", "rendering"]
    assert stack.render(render_id).attempts == 1
    assert stack.output_files(render_id) == ["site/index.html"]


def test_redis_restarted_mid_batch_loses_no_render(make_stack: StackFactory) -> None:
    stack = make_stack()
    worker = stack.start_worker("worker", render_hold_seconds=1, stuck_after_seconds=3)
    ids = stack.submit_batch(6)
    wait_until(lambda: stack.statuses(ids).get("done", 0) >= 1, "the first render", (worker,))
    assert stack.statuses(ids).get("queued", 0) >= 1  # mid-batch: some still wait
    stack.restart_redis()  # no persistence: every queued job is gone

    wait_until(lambda: stack.statuses(ids) == {"done": 6}, "every render", (worker,))
    for render_id in ids:
        assert stack.output_files(render_id) == ["site/index.html"]


def test_s3_down_for_30_seconds_retries_then_succeeds(
    make_stack: StackFactory, moto_server: MotoServer, s3_bucket: str
) -> None:
    outage = Outage(moto_server.port)
    try:
        # The s3_bucket fixture put dummy AWS credentials in the environment the workers get.
        stack = make_stack(s3_bucket=s3_bucket, s3_endpoint_url=outage.url)
        # Each run retries the store for 15 s, then hands the render back to RQ's Retry.
        worker = stack.start_worker("worker", storage_retry_seconds=15)
        wait_until(lambda: stack.workers_registered() == 1, "the worker", (worker,))
        outage.down()
        back_at = time.monotonic() + S3_DOWN_SECONDS
        render_id = stack.submit()
        wait_until(lambda: stack.render(render_id).attempts >= 1, "a first run", (worker,))
        wait_until(lambda: time.monotonic() >= back_at, "the end of the outage", (worker,))
        assert stack.render(render_id).status in ("queued", "rendering")  # not failed
        outage.up()

        wait_until(lambda: stack.render(render_id).status == "done", "the render", (worker,))
        assert stack.render(render_id).attempts >= 2, worker.log_tail()  # RQ ran it again
        stored = s3_client(moto_server.endpoint_url).list_objects_v2(
            Bucket=s3_bucket, Prefix=f"renders/{render_id}/"
        )
        assert [o["Key"] for o in stored["Contents"]] == [f"renders/{render_id}/site/index.html"]
    finally:
        outage.close()
