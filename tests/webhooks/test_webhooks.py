"""Webhooks to billing systems, over real HTTP to a receiver on 127.0.0.1 whose answers the
tests script; signatures are checked with the Standard Webhooks reference library."""

from __future__ import annotations

import itertools
import json
import os
import random
import secrets
import socket
import ssl
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from standardwebhooks import Webhook, WebhookVerificationError

from app.access.keys import authenticate, create_key
from app.infra.database import Event, Render, WebhookAttempt, WebhookDelivery, new_id, utcnow
from app.infra.errors import ConfigurationError
from app.infra.services import Services
from app.infra.settings import Settings
from app.webhooks.destinations import DestinationRefused, check_destination, is_public_address
from app.webhooks.dispatcher import deliver_due, run_dispatcher
from app.webhooks.outbox import enqueue_render_webhook
from app.webhooks.schedule import (
    BACKOFF_CEILINGS_SECONDS,
    backoff_ceiling,
    next_state,
    retry_after_delay,
    retry_delay,
)
from app.webhooks.sender import Outcome, Sender
from app.webhooks.signing import signed_headers, webhook_secrets

CURRENT_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # 24 bytes, base64
OLD_SECRET = "whsec_" + "C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
CUSTOMER_NAME = "Giulia Rossi"
BILL_NUMBER = "F-2026-11-000123"
TIMEOUT_SECONDS = 5


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Overrides conftest's: a local receiver needs private addresses and http allowed."""
    return Settings(
        data_dir=tmp_path / "var",
        public_url="https://bills.example.test",
        webhook_secrets=f"{CURRENT_SECRET},{OLD_SECRET}",
        webhook_allow_private=True,
        webhook_timeout_seconds=TIMEOUT_SECONDS,
    )


@pytest.fixture
def hooks(settings: Settings) -> Iterator[Services]:
    """The real services (SQLite in the data dir), without the Flask app."""
    services = Services.build(settings)
    yield services
    services.db.dispose()


@pytest.fixture
def key_id(hooks: Services) -> str:
    key = authenticate(hooks.db, create_key(hooks.db, "billing"))
    assert key is not None
    return key.id


# --- a receiver whose answers the test scripts -------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str = "/hooks", scheme: str = "http", host: str = "127.0.0.1") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def answer(self, *responses: int | tuple[int, dict[str, str]]) -> None:
        """Queue answers; once they run out every request gets 200."""
        for response in responses:
            self.script.append(response if isinstance(response, tuple) else (response, {}))

    def take(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        with self.lock:
            self.requests.append(Received(path, headers, body))
            return self.script.pop(0) if self.script else (200, {})


def start_receiver(ssl_context: ssl.SSLContext | None = None) -> Receiver:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    if ssl_context is not None:
        server.socket = ssl_context.wrap_socket(server.socket, server_side=True)
    receiver = Receiver(server)
    server.receiver = receiver  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        receiver: Receiver = self.server.receiver  # type: ignore[attr-defined]
        status, headers = receiver.take(self.path, dict(self.headers.items()), body)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = start_receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


# --- helpers -----------------------------------------------------------------------------


def add_render(
    services: Services, key_id: str, callback_url: str | None, *, status: str = "done"
) -> tuple[str, str | None]:
    """A finished render row and its webhook, enqueued in the same transaction."""
    with services.db.session() as session:
        render = Render(
            id=new_id("rnd"),
            api_key_id=key_id,
            token=secrets.token_urlsafe(24),
            template="bill-explainer",
            template_version="bill-explainer@1",
            outputs=["video", "microsite"],
            external_id="INV-42",
            customer_id="CUST-000123",
            callback_url=callback_url,
            bill={
                "customer": {"id": "CUST-000123", "name": CUSTOMER_NAME},
                "bill": {"number": BILL_NUMBER, "total": "84.20", "currency": "EUR"},
            },
            status=status,
            error={"code": "EncodeError", "message": f"drawtext {CUSTOMER_NAME}"}
            if status == "failed"
            else None,
            finished_at=utcnow(),
        )
        session.add(render)
        webhook_id = enqueue_render_webhook(session, render, services.settings)
    return render.id, webhook_id


def delivery(services: Services, webhook_id: str) -> WebhookDelivery:
    with services.db.session() as session:
        row = session.get(WebhookDelivery, webhook_id)
        assert row is not None
        return row


def attempts(services: Services, webhook_id: str) -> list[WebhookAttempt]:
    with services.db.session() as session:
        rows = session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == webhook_id)
            .order_by(WebhookAttempt.number)
        )
        return list(rows)


def later(days: float = 10) -> Any:
    """A clock far enough ahead that every pending delivery is due (no sleeping)."""
    moment = utcnow() + timedelta(days=days)
    return lambda: moment


def as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- delivery and signatures -------------------------------------------------------------


def test_done_render_is_posted_signed_with_every_secret(
    hooks: Services, key_id: str, receiver: Receiver
) -> None:
    render_id, webhook_id = add_render(hooks, key_id, receiver.url())
    assert webhook_id is not None and webhook_id.startswith("msg_")

    assert deliver_due(hooks) == 1

    [request] = receiver.requests
    assert request.path == "/hooks"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["webhook-id"] == webhook_id
    signatures = request.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
    # During a rotation the receiver may hold either secret: both signatures verify.
    for secret in (CURRENT_SECRET, OLD_SECRET):
        payload = Webhook(secret).verify(request.body, request.headers)
        assert payload["type"] == "render.done"
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 32).verify(request.body, request.headers)

    data = payload["data"]
    assert data["id"] == render_id
    assert data["status"] == "done"
    assert data["template"] == "bill-explainer@1"
    assert data["external_id"] == "INV-42"
    assert data["customer_id"] == "CUST-000123"
    assert data["links"]["microsite"].startswith("https://bills.example.test/r/")
    assert data["links"]["video"].endswith("/video.mp4")
    for moment in (payload["timestamp"], data["created_at"], data["finished_at"]):
        assert datetime.fromisoformat(moment).tzinfo is not None
    text = request.body.decode("utf-8")
    for private in (CUSTOMER_NAME, BILL_NUMBER, "84.20"):
        assert private not in text

    row = delivery(hooks, webhook_id)
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 1, 200)
    assert row.delivered_at is not None and row.claim_token is None
    [attempt] = attempts(hooks, webhook_id)
    assert attempt.status_code == 200 and attempt.error_class is None
    assert attempt.duration_ms >= 0
    assert deliver_due(hooks) == 0  # nothing is due any more
    assert delivered_events(hooks, render_id) == 1  # the funnel's delivery step, once


def delivered_events(services: Services, render_id: str) -> int:
    with services.db.session() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(Event)
                .where(Event.render_id == render_id, Event.type == "webhook_delivered")
            )
            or 0
        )


def test_failed_render_payload_carries_the_error_code_only(
    hooks: Services, key_id: str, receiver: Receiver
) -> None:
    add_render(hooks, key_id, receiver.url(), status="failed")
    deliver_due(hooks)
    [request] = receiver.requests
    payload = Webhook(CURRENT_SECRET).verify(request.body, request.headers)
    assert payload["type"] == "render.failed"
    assert payload["data"]["error"] == {"code": "EncodeError"}
    assert CUSTOMER_NAME not in request.body.decode("utf-8")


def test_a_retry_sends_the_same_id_and_the_same_body(
    hooks: Services, key_id: str, receiver: Receiver
) -> None:
    _, webhook_id = add_render(hooks, key_id, receiver.url())
    assert webhook_id is not None
    receiver.answer(500)
    before = utcnow()

    assert deliver_due(hooks) == 1
    row = delivery(hooks, webhook_id)
    assert (row.status, row.attempts, row.last_status_code) == ("pending", 1, 500)
    assert row.last_error == "HTTP 500"
    assert as_utc(row.next_attempt_at) > before
    assert deliver_due(hooks) == 0  # not due yet

    assert deliver_due(hooks, clock=later()) == 1
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == webhook_id
    assert first.body == second.body
    Webhook(CURRENT_SECRET).verify(second.body, second.headers)
    row = delivery(hooks, webhook_id)
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 2, 200)
    assert [(a.number, a.status_code, a.error_class) for a in attempts(hooks, webhook_id)] == [
        (1, 500, "http_status"),
        (2, 200, None),
    ]


def test_a_redirect_is_not_followed(hooks: Services, key_id: str, receiver: Receiver) -> None:
    _, webhook_id = add_render(hooks, key_id, receiver.url())
    assert webhook_id is not None
    receiver.answer((302, {"Location": receiver.url("/elsewhere")}))

    deliver_due(hooks)

    assert [r.path for r in receiver.requests] == ["/hooks"]
    row = delivery(hooks, webhook_id)
    assert (row.status, row.last_status_code) == ("pending", 302)
    assert row.last_error is not None and "redirect" in row.last_error
    assert attempts(hooks, webhook_id)[0].error_class == "redirect"


def test_410_gone_disables_the_endpoint(hooks: Services, key_id: str, receiver: Receiver) -> None:
    _, first = add_render(hooks, key_id, receiver.url())
    _, second = add_render(hooks, key_id, receiver.url())
    assert first is not None and second is not None
    receiver.answer(410)

    assert deliver_due(hooks, limit=1) == 1
    assert deliver_due(hooks, clock=later()) == 0  # the other delivery is stopped too

    assert len(receiver.requests) == 1
    assert delivery(hooks, first).status == "disabled"
    assert delivery(hooks, second).status == "disabled"


def test_429_waits_for_retry_after(hooks: Services, key_id: str, receiver: Receiver) -> None:
    _, webhook_id = add_render(hooks, key_id, receiver.url())
    assert webhook_id is not None
    receiver.answer((429, {"Retry-After": "7200"}))
    before = utcnow()

    deliver_due(hooks)

    row = delivery(hooks, webhook_id)
    assert (row.status, row.last_status_code) == ("pending", 429)
    wait = as_utc(row.next_attempt_at) - before
    assert timedelta(hours=2) <= wait <= timedelta(hours=2, minutes=1)


def test_two_dispatchers_deliver_each_webhook_once(
    hooks: Services, key_id: str, receiver: Receiver
) -> None:
    ids = {add_render(hooks, key_id, receiver.url())[1] for _ in range(6)}
    start = threading.Barrier(2)
    made: list[int] = []

    def dispatch() -> None:
        start.wait()
        made.append(deliver_due(hooks))

    threads = [threading.Thread(target=dispatch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(made) == 6
    assert sorted(r.headers["webhook-id"] for r in receiver.requests) == sorted(ids)  # type: ignore[type-var]
    with hooks.db.session() as session:
        statuses = session.scalars(select(WebhookDelivery.status)).all()
        assert list(statuses) == ["delivered"] * 6
        assert session.scalar(select(func.count()).select_from(WebhookAttempt)) == 6


def test_a_claimed_delivery_is_not_taken_by_another_dispatcher(
    hooks: Services, key_id: str, receiver: Receiver
) -> None:
    _, webhook_id = add_render(hooks, key_id, receiver.url())
    with hooks.db.session() as session:  # as if another dispatcher held it right now
        session.execute(
            update(WebhookDelivery).values(
                claimed_until=utcnow() + timedelta(minutes=5), claim_token="other"
            )
        )
    assert deliver_due(hooks) == 0
    assert receiver.requests == []
    # A lease that ran out (its dispatcher died) is taken over.
    assert deliver_due(hooks, clock=later(days=0.01)) == 1
    assert delivery(hooks, webhook_id).status == "delivered"  # type: ignore[arg-type]


def test_run_dispatcher_stops_when_told(hooks: Services, key_id: str, receiver: Receiver) -> None:
    add_render(hooks, key_id, receiver.url())
    stop = threading.Event()
    thread = threading.Thread(target=run_dispatcher, args=(hooks, stop, 0.05))
    thread.start()
    received = threading.Event()
    for _ in range(200):
        if receiver.requests:
            received.set()
            break
        stop.wait(0.05)
    stop.set()
    thread.join(timeout=10)
    assert received.is_set() and not thread.is_alive()


# --- the outbox --------------------------------------------------------------------------


def test_a_render_outcome_is_enqueued_once(
    hooks: Services, key_id: str, receiver: Receiver
) -> None:
    render_id, webhook_id = add_render(hooks, key_id, receiver.url())
    with hooks.db.session() as session:  # the render finished again (a re-run)
        render = session.get(Render, render_id)
        assert render is not None
        assert enqueue_render_webhook(session, render, hooks.settings) == webhook_id
        assert enqueue_render_webhook(session, render, hooks.settings) == webhook_id
    with hooks.db.session() as session:
        count = session.scalar(select(func.count()).select_from(WebhookDelivery))
    assert count == 1


def test_a_finished_render_job_enqueues_its_webhook(
    hooks: Services, key_id: str, receiver: Receiver
) -> None:
    from app.rendering.job import run_render_with

    render_id, _ = add_render(hooks, key_id, receiver.url(), status="queued")
    with hooks.db.session() as session:
        session.execute(
            update(Render).where(Render.id == render_id).values(template="no-such-template")
        )
    assert run_render_with(hooks, render_id) == "failed"
    assert run_render_with(hooks, render_id) == "failed"  # a second run changes nothing
    with hooks.db.session() as session:
        rows = session.scalars(select(WebhookDelivery)).all()
    [row] = rows
    assert (row.render_id, row.event, row.status) == (render_id, "render.failed", "pending")
    assert json.loads(row.payload)["data"]["error"] == {"code": "TemplateNotFound"}


def test_no_webhook_without_callback_or_before_the_end(hooks: Services, key_id: str) -> None:
    assert add_render(hooks, key_id, None)[1] is None
    assert add_render(hooks, key_id, "https://hooks.example.test/", status="rendering")[1] is None


# --- destinations ------------------------------------------------------------------------


def test_a_private_address_is_refused_without_connecting(hooks: Services, key_id: str) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    port = listener.getsockname()[1]
    _, webhook_id = add_render(hooks, key_id, f"https://127.0.0.1:{port}/hooks")
    assert webhook_id is not None
    guarded = Sender(timeout_seconds=TIMEOUT_SECONDS, allow_private=False)

    assert deliver_due(hooks, sender=guarded) == 1

    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody ever connected
    listener.close()
    row = delivery(hooks, webhook_id)
    assert row.status == "failed"  # refused for good: retrying cannot help
    assert attempts(hooks, webhook_id)[0].error_class == "destination_refused"


def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    zone = {
        "hooks.billing.example": ["10.1.2.3"],
        "mixed.billing.example": ["93.184.216.34", "fd00::1"],
        "public.billing.example": ["93.184.216.34", "2606:2800:220:1::1"],
    }

    def resolver(host: str, port: int) -> list[str]:
        return zone[host]

    for host in ("hooks.billing.example", "mixed.billing.example"):
        with pytest.raises(DestinationRefused):
            check_destination(f"https://{host}/h", allow_private=False, resolver=resolver)
    dest = check_destination(
        "https://public.billing.example:8443/h?x=1", allow_private=False, resolver=resolver
    )
    assert (dest.address, dest.port, dest.target) == ("93.184.216.34", 8443, "/h?x=1")
    assert dest.host_header == "public.billing.example:8443"
    refused = Sender(timeout_seconds=1, allow_private=False, resolver=resolver).send(
        "https://hooks.billing.example/h", {}, b"{}"
    )
    assert (refused.error_class, refused.permanent) == ("destination_refused", True)


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "127.0.0.1",
        "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
        "169.254.169.254",
        "100.64.0.1",
        "224.0.0.251",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "64:ff9b::a00:1",
        "2002:a00:1::1",
    ],
)
def test_non_public_addresses(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:2800:220:1::1"])
def test_public_addresses(address: str) -> None:
    assert is_public_address(address)


def test_http_and_credentials_are_refused() -> None:
    def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    for url in ("http://hooks.example/h", "https://user:pw@hooks.example/h", "ftp://x/"):
        with pytest.raises(DestinationRefused):
            check_destination(url, allow_private=False, resolver=resolver)
    # Only the setting for closed networks and tests lets http through.
    assert check_destination("http://hooks.example/h", allow_private=True, resolver=resolver)


def test_https_connects_to_the_checked_address_and_verifies_the_name(
    hooks: Services, key_id: str, tmp_path: Path
) -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("hooks.billing.test").configure_cert(server_context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    tls = start_receiver(server_context)
    try:
        # The name resolves (through the injected resolver) to the receiver's address; the
        # connection goes there while TLS checks the certificate against the name.
        names = {"hooks.billing.test": ["127.0.0.1"], "other.billing.test": ["127.0.0.1"]}
        sender = Sender(
            timeout_seconds=TIMEOUT_SECONDS,
            allow_private=True,
            resolver=lambda host, port: names[host],
            ca_certs=str(ca_file),
        )
        _, good = add_render(hooks, key_id, tls.url(scheme="https", host="hooks.billing.test"))
        _, bad = add_render(hooks, key_id, tls.url(scheme="https", host="other.billing.test"))
        assert good is not None and bad is not None

        assert deliver_due(hooks, sender=sender) == 2

        [request] = tls.requests
        assert request.headers["Host"] == f"hooks.billing.test:{tls.port}"
        Webhook(CURRENT_SECRET).verify(request.body, request.headers)
        assert delivery(hooks, good).status == "delivered"
        assert attempts(hooks, bad)[0].error_class == "tls_error"
    finally:
        tls.server.shutdown()
        tls.server.server_close()


def test_connection_refused_is_retried(hooks: Services, key_id: str) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    _, webhook_id = add_render(hooks, key_id, f"http://127.0.0.1:{port}/h")
    assert webhook_id is not None
    deliver_due(hooks)
    row = delivery(hooks, webhook_id)
    assert (row.status, row.last_status_code) == ("pending", None)
    assert attempts(hooks, webhook_id)[0].error_class == "connect_error"


# --- the schedule ------------------------------------------------------------------------


def test_backoff_ceilings_grow_and_jitter_stays_under_them() -> None:
    ceilings = [backoff_ceiling(n) for n in range(1, len(BACKOFF_CEILINGS_SECONDS) + 3)]
    assert ceilings[0] == timedelta(seconds=5)
    growing = ceilings[: len(BACKOFF_CEILINGS_SECONDS)]
    assert all(a < b for a, b in itertools.pairwise(growing))
    assert ceilings[-1] == ceilings[-2] == timedelta(hours=10)
    first = [retry_delay(n, random.Random(7)) for n in range(1, 12)]
    again = [retry_delay(n, random.Random(7)) for n in range(1, 12)]
    assert first == again  # deterministic for a seeded generator
    for n, delay in enumerate(first, start=1):
        assert timedelta(seconds=1) <= delay <= backoff_ceiling(n)


def test_a_failing_endpoint_is_tried_for_three_days_then_given_up() -> None:
    window = timedelta(seconds=Settings().webhook_retry_window_seconds)
    assert window == timedelta(days=3)
    rng = random.Random(42)
    created = now = datetime(2026, 11, 1, tzinfo=UTC)
    failure = Outcome(status_code=503, duration_ms=10, error_class="http_status")
    times = [now]
    for n in range(1, 500):
        state = next_state(failure, attempts=n, created_at=created, now=now, window=window, rng=rng)
        if state.status != "pending":
            break
        assert state.next_attempt_at is not None and state.next_attempt_at > now
        now = state.next_attempt_at
        times.append(now)
    assert state.status == "failed"
    assert times[-1] == created + window  # the last try is made as the window closes
    assert 8 <= len(times) <= 60


def test_next_state_for_each_kind_of_answer() -> None:
    now = datetime(2026, 11, 1, 12, tzinfo=UTC)
    rng = random.Random(1)
    window = timedelta(days=3)

    def after(outcome: Outcome, attempts: int = 1) -> Any:
        return next_state(
            outcome, attempts=attempts, created_at=now, now=now, window=window, rng=rng
        )

    assert after(Outcome(204, 5)).status == "delivered"
    assert after(Outcome(410, 5, "http_status")).status == "disabled"
    assert after(Outcome(None, 5, "destination_refused", permanent=True)).status == "failed"
    limited = after(Outcome(429, 5, "http_status", retry_after="120"))
    assert limited.next_attempt_at == now + timedelta(seconds=120)
    too_long = after(Outcome(429, 5, "http_status", retry_after=str(30 * 24 * 3600)))
    assert too_long.next_attempt_at == now + window  # never past the window
    no_header = after(Outcome(429, 5, "http_status"))
    assert no_header.next_attempt_at is not None
    assert no_header.next_attempt_at <= now + backoff_ceiling(1)


def test_retry_after_as_seconds_or_http_date() -> None:
    now = datetime(2026, 11, 1, 12, tzinfo=UTC)
    assert retry_after_delay("30", now) == timedelta(seconds=30)
    date = format_datetime(now + timedelta(minutes=10), usegmt=True)
    assert retry_after_delay(date, now) == timedelta(minutes=10)
    assert retry_after_delay(format_datetime(now - timedelta(hours=1), usegmt=True), now) == (
        timedelta(0)
    )
    assert retry_after_delay("soon", now) is None
    assert retry_after_delay(None, now) is None


# --- secrets -----------------------------------------------------------------------------


def test_a_secret_is_made_once_per_data_dir_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    [secret] = webhook_secrets(settings)
    assert secret.startswith("whsec_")
    assert webhook_secrets(settings) == [secret]
    path = tmp_path / "var" / "webhook-secret.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["webhook-secret.key"]
    headers = signed_headers([secret], "msg_1", b'{"a":1}')
    assert Webhook(secret).verify(b'{"a":1}', headers) == {"a": 1}


@pytest.mark.parametrize("value", ["secret", "whsec_not base64!", "whsec_" + "QUJD", " , "])
def test_a_bad_configured_secret_is_named(tmp_path: Path, value: str) -> None:
    settings = Settings(data_dir=tmp_path, webhook_secrets=value)
    with pytest.raises(ConfigurationError, match="BILLREEL_WEBHOOK_SECRETS"):
        webhook_secrets(settings)


def test_allow_private_from_the_environment() -> None:
    for text, expected in (("true", True), ("0", False), ("false", False)):
        settings = Settings.from_env({"BILLREEL_WEBHOOK_ALLOW_PRIVATE": text})
        assert Sender.from_settings(settings).allow_private is expected
    assert Sender.from_settings(Settings.from_env({})).allow_private is False


# --- the delivery log --------------------------------------------------------------------


def test_the_delivery_log_is_shown_to_the_render_owner_only(
    client: FlaskClient, services: Services, auth: dict[str, str], api_key: str, receiver: Receiver
) -> None:
    key = authenticate(services.db, api_key)
    assert key is not None
    render_id, webhook_id = add_render(services, key.id, receiver.url())
    receiver.answer(500)
    deliver_due(services)
    deliver_due(services, clock=later())

    response = client.get(f"/v1/renders/{render_id}/webhooks", headers=auth)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["render_id"] == render_id
    [entry] = body["deliveries"]
    assert entry["id"] == webhook_id
    assert (entry["type"], entry["status"], entry["attempt_count"]) == (
        "render.done",
        "delivered",
        2,
    )
    assert [a["status_code"] for a in entry["attempts"]] == [500, 200]
    assert entry["attempts"][0]["error_class"] == "http_status"
    text = json.dumps(body)
    assert "whsec_" not in text and CUSTOMER_NAME not in text

    other = {"Authorization": f"Bearer {create_key(services.db, 'other')}"}
    assert client.get(f"/v1/renders/{render_id}/webhooks", headers=other).status_code == 404
    assert client.get("/v1/renders/rnd_unknown/webhooks", headers=auth).status_code == 404
