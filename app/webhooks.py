"""Webhooks to billing systems: an outbox in the database, Standard Webhooks signatures,
delivery with backoff, and a dispatcher that several processes may run at once.

    render done/failed ──same transaction──▶ WebhookDelivery (pending; id and body fixed)
    deliver_due ──claim with a lease──▶ check the destination ──signed POST──▶ WebhookAttempt
        2xx delivered · 410 disabled · 429 waits Retry-After · else backoff until the window ends

Delivery is at least once: a dispatcher that dies mid-request leaves its lease to expire and
the attempt is made again, with the same `webhook-id`, so receivers can drop duplicates.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import ipaddress
import json
import logging
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import urllib3
from sqlalchemy import (
    CursorResult,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.elements import ColumnElement
from standardwebhooks import Webhook

from app.analytics import record
from app.db import Base, Database, Render, as_utc, new_id, utcnow
from app.errors import ConfigurationError
from app.settings import Settings

if TYPE_CHECKING:
    from app.services import Services

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 32  # a generated secret; the spec allows 24 to 64 bytes
SECRET_MIN_BYTES, SECRET_MAX_BYTES = 24, 64
SECRET_FILE = "webhook-secret.key"  # noqa: S105 - a file name
# Longest wait after the 1st, 2nd, ... failed attempt, the Standard Webhooks reference
# schedule; the last ceiling repeats until the retry window (a setting, 3 days) ends.
BACKOFF_CEILINGS_SECONDS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600)
MIN_RETRY_DELAY_SECONDS = 1
LEASE_SECONDS = 300  # a claimed delivery is one dispatcher's for this long, well over one attempt
CLAIM_CANDIDATES = 10  # due rows looked at per claim; others may be taking some of them
DISPATCH_BATCH = 100  # attempts per `deliver_due` call of the dispatcher loop
MAX_ERROR_CHARS = 200
USER_AGENT = "billreel-webhooks/1"


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return as_utc(value).astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- the outbox --------------------------------------------------------------------------


class WebhookDelivery(Base):
    """One webhook message: its id is the `webhook-id`, reused by every retry."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("render_id", "event", name="uq_webhook_render_event"),
        Index("ix_webhook_due", "status", "next_attempt_at"),
        Index("ix_webhook_key_url", "api_key_id", "url"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    render_id: Mapped[str] = mapped_column(ForeignKey("renders.id", ondelete="CASCADE"))
    api_key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"))
    url: Mapped[str] = mapped_column(Text)
    event: Mapped[str] = mapped_column(String(32))
    # The exact body, fixed at enqueue time so every retry sends (and signs) the same bytes.
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)
    claim_token: Mapped[str | None] = mapped_column(String(32), default=None)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(String(MAX_ERROR_CHARS), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)


class WebhookAttempt(Base):
    """One try of a delivery: what came back, how long it took, which kind of error."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    duration_ms: Mapped[int] = mapped_column(Integer)
    error_class: Mapped[str | None] = mapped_column(String(40), default=None)


def webhook_base_url(settings: Settings) -> str:
    """Base of the links in a payload: no request is at hand when a render finishes."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return f"http://{settings.host}:{settings.port}"


def render_payload(render: Render, base_url: str, at: datetime) -> bytes:
    """The event body: the render as the API shows it, minus anything from the bill."""
    # Imported here: app.links imports app.services, which imports this module for its tables.
    from app.links import public_links

    error = render.error or None
    data: dict[str, Any] = {
        "id": render.id,
        "status": render.status,
        "template": render.template_version or render.template,
        "external_id": render.external_id,
        "customer_id": render.customer_id,
        "outputs": list(render.outputs),
        "links": public_links(base_url, render.token, list(render.outputs)),
        # Only the code: a renderer's message may quote the bill (GET the render for it).
        "error": {"code": error.get("code")} if error else None,
        "batch_id": render.batch_id,
        "created_at": _iso(render.created_at),
        "finished_at": _iso(render.finished_at),
    }
    body = {"type": f"render.{render.status}", "timestamp": _iso(at), "data": data}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def enqueue_render_webhook(session: Session, render: Render, settings: Settings) -> str | None:
    """Add the webhook for a finished render to the outbox, in the caller's transaction.

    Returns its id, or None when the render has no callback URL or has not finished. Calling
    it again for the same outcome (a render finished twice) returns the first id: the
    insert skips on the (render_id, event) unique key instead of failing the transaction.
    """
    if not render.callback_url or render.status not in ("done", "failed"):
        return None
    session.flush()  # the render row first: the delivery refers to it, and it fills defaults
    event = f"render.{render.status}"
    existing = _delivery_id(session, render.id, event)
    if existing is not None:
        return existing
    now = utcnow()
    values = {
        "id": new_id("msg"),
        "render_id": render.id,
        "api_key_id": render.api_key_id,
        "url": render.callback_url,
        "event": event,
        "payload": render_payload(render, webhook_base_url(settings), now),
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
    }
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(WebhookDelivery).values(**values)
        session.execute(statement.on_conflict_do_nothing(index_elements=["render_id", "event"]))
    else:
        session.add(WebhookDelivery(**values))
        session.flush()
    return _delivery_id(session, render.id, event)


def _delivery_id(session: Session, render_id: str, event: str) -> str | None:
    return session.scalar(
        select(WebhookDelivery.id).where(
            WebhookDelivery.render_id == render_id, WebhookDelivery.event == event
        )
    )


# --- signing -----------------------------------------------------------------------------


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _check_secret(value: str, where: str) -> str:
    problem = f"{where}: a webhook secret is 'whsec_' then base64 of 24 to 64 random bytes"
    if not value.startswith(SECRET_PREFIX):
        raise ConfigurationError(problem)
    try:
        raw = base64.b64decode(value[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError(problem) from exc
    if not SECRET_MIN_BYTES <= len(raw) <= SECRET_MAX_BYTES:
        raise ConfigurationError(problem)
    return value


def webhook_secrets(settings: Settings) -> list[str]:
    """The signing secrets, current first; while rotating, every one of them signs."""
    if settings.webhook_secrets:
        parts = [part.strip() for part in settings.webhook_secrets.split(",") if part.strip()]
        if not parts:
            raise ConfigurationError("BILLREEL_WEBHOOK_SECRETS: no secret given")
        return [
            _check_secret(part, f"BILLREEL_WEBHOOK_SECRETS, secret {n}")
            for n, part in enumerate(parts, start=1)
        ]
    return [_stored_secret(settings.data_dir)]


def _stored_secret(data_dir: Path) -> str:
    """A secret made once per data directory and kept there, readable by its owner only."""
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        draft = data_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(new_secret() + "\n")
        try:
            # A hard link appears whole or not at all: when two processes race, the first
            # wins and neither can read a half-written file.
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return _check_secret(path.read_text(encoding="ascii").strip(), str(path))


def signature_header(
    signing_secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes
) -> str:
    """`webhook-signature`: `v1,<base64 HMAC-SHA256 of id.timestamp.body>` per secret."""
    at = datetime.fromtimestamp(timestamp, UTC)
    text = body.decode("utf-8")
    return " ".join(Webhook(secret).sign(msg_id, at, text) for secret in signing_secrets)


def signed_headers(
    signing_secrets: Sequence[str], msg_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": signature_header(signing_secrets, msg_id, stamp, body),
    }


# --- destinations ------------------------------------------------------------------------

Resolver = Callable[[str, int], Sequence[str]]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the host name resolves to (IPv4 and IPv6), in the system's order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class DestinationRefused(Exception):
    """The callback URL may not be called: its scheme, its credentials or its addresses."""


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str  # as written in the URL: for Host, SNI and the certificate check
    port: int
    target: str  # path and query
    address: str  # the checked address the connection is made to

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def is_public_address(text: str) -> bool:
    """False for private, loopback, link-local, multicast, reserved and unspecified addresses."""
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address):
        # Addresses that carry an IPv4 address are judged by it.
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif address.sixtofour is not None:
            address = address.sixtofour
        elif address in _NAT64:
            address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def check_destination(url: str, *, allow_private: bool, resolver: Resolver) -> Destination:
    """Parse the callback URL and resolve it; refuse it unless every address is public.

    Raises `DestinationRefused`, or `OSError` when the name does not resolve (transient).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme != "https" and not (allow_private and scheme == "http"):
        raise DestinationRefused("the callback URL must use https")
    if parts.username is not None or parts.password is not None:
        raise DestinationRefused("the callback URL must not carry credentials")
    host = parts.hostname
    if not host:
        raise DestinationRefused("the callback URL has no host")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise DestinationRefused("the callback URL has an invalid port") from exc
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        ipaddress.ip_address(host)
        addresses: Sequence[str] = [host]
    except ValueError:
        addresses = resolver(host, port)
    if not addresses:
        raise OSError("the host name has no address")
    # Every address is checked, not just the first: which one a client picks is not ours
    # to predict, and one private address among public ones is enough to refuse.
    if not allow_private and not all(is_public_address(a) for a in addresses):
        raise DestinationRefused("the callback host resolves to a non-public address")
    return Destination(scheme, host, port, target, addresses[0])


# --- sending -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one attempt gave: a status code, or an error class and a short reason."""

    status_code: int | None
    duration_ms: int
    error_class: str | None = None
    error: str | None = None
    retry_after: str | None = None  # the raw Retry-After header of a 429
    permanent: bool = False  # the destination is refused: retrying cannot help

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Sender:
    """POSTs a signed body to a callback URL, connecting only to the address it checked.

    The name is resolved once, every address is checked, and the connection goes to the
    checked address with the URL's host name for SNI, the certificate and `Host`. Checking
    and then letting the HTTP client resolve again would leave a window in which the name
    could be re-pointed at an internal address (DNS rebinding); pinning closes it.
    """

    def __init__(
        self,
        *,
        timeout_seconds: float,
        allow_private: bool = False,
        resolver: Resolver = system_resolver,
        ca_certs: str | None = None,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.allow_private = allow_private
        self.resolver = resolver
        self.ca_certs = ca_certs

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> Sender:
        options: dict[str, Any] = {
            "timeout_seconds": settings.webhook_timeout_seconds,
            "allow_private": settings.webhook_allow_private,
        }
        return cls(**(options | overrides))

    def send(self, url: str, headers: dict[str, str], body: bytes) -> Outcome:
        started = time.monotonic()

        def elapsed() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            dest = check_destination(url, allow_private=self.allow_private, resolver=self.resolver)
        except DestinationRefused as exc:
            return Outcome(None, elapsed(), "destination_refused", str(exc), permanent=True)
        except (OSError, UnicodeError):
            return Outcome(None, elapsed(), "dns_error", "the callback host name did not resolve")
        pool = self._pool(dest)
        try:
            response = pool.urlopen(
                "POST",
                dest.target,
                body=body,
                headers={**headers, "Host": dest.host_header},
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
            # The body is not needed: what a receiver sends back is never read.
            status = response.status
            retry_after = response.headers.get("Retry-After")
            response.close()
        except Exception as exc:  # every failure of an attempt is recorded, none escapes
            error_class, reason = _classify(exc, self.timeout_seconds)
            return Outcome(None, elapsed(), error_class, reason)
        finally:
            pool.close()
        if 200 <= status < 300:
            return Outcome(status, elapsed())
        if 300 <= status < 400:
            return Outcome(status, elapsed(), "redirect", f"redirect not followed (HTTP {status})")
        return Outcome(status, elapsed(), "http_status", f"HTTP {status}", retry_after=retry_after)

    def _pool(self, dest: Destination) -> urllib3.HTTPConnectionPool:
        timeout = urllib3.Timeout(total=self.timeout_seconds)
        if dest.scheme == "http":
            return urllib3.HTTPConnectionPool(
                dest.address, dest.port, timeout=timeout, retries=False, maxsize=1
            )
        return urllib3.HTTPSConnectionPool(
            dest.address,
            dest.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            ca_certs=self.ca_certs,
            server_hostname=dest.host,
            assert_hostname=dest.host,
        )


def _classify(exc: Exception, timeout_seconds: float) -> tuple[str, str]:
    """A short class and reason for a failed attempt; never the receiver's own words."""
    from urllib3 import exceptions as e

    if isinstance(exc, e.SSLError):
        return "tls_error", "the TLS handshake or certificate check failed"
    # Before timeouts: urllib3's NewConnectionError subclasses its ConnectTimeoutError.
    if isinstance(exc, e.NewConnectionError | ConnectionError):
        return "connect_error", "the connection was refused or could not be made"
    if isinstance(exc, e.TimeoutError | TimeoutError):
        return "timeout", f"no answer within {timeout_seconds:g} s"
    if isinstance(exc, e.ProtocolError):
        return "protocol_error", "the connection broke or the answer was not HTTP"
    return "error", type(exc).__name__[:MAX_ERROR_CHARS]


# --- when to try again -------------------------------------------------------------------


def backoff_ceiling(attempts: int) -> timedelta:
    """The longest wait after `attempts` failed attempts (1 = after the first)."""
    index = min(max(attempts, 1), len(BACKOFF_CEILINGS_SECONDS)) - 1
    return timedelta(seconds=BACKOFF_CEILINGS_SECONDS[index])


def retry_delay(attempts: int, rng: random.Random) -> timedelta:
    """Full jitter: anywhere up to the ceiling, so that when an endpoint comes back after an
    outage its backlog arrives spread out rather than all at once."""
    ceiling = backoff_ceiling(attempts).total_seconds()
    return timedelta(seconds=max(MIN_RETRY_DELAY_SECONDS, rng.uniform(0, ceiling)))


def retry_after_delay(header: str | None, now: datetime) -> timedelta | None:
    """Retry-After as seconds or as an HTTP date; None when absent or unreadable."""
    if header is None:
        return None
    text = header.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return max(timedelta(0), as_utc(when) - now)


@dataclass(frozen=True)
class NextState:
    status: str
    next_attempt_at: datetime | None = None  # only for `pending`


def next_state(
    outcome: Outcome,
    *,
    attempts: int,
    created_at: datetime,
    now: datetime,
    window: timedelta,
    rng: random.Random,
) -> NextState:
    """Where a delivery goes after its `attempts`-th attempt ended with `outcome`."""
    if outcome.ok:
        return NextState("delivered")
    if outcome.status_code == 410:
        return NextState("disabled")
    deadline = as_utc(created_at) + window
    if outcome.permanent or now >= deadline:
        return NextState("failed")
    delay = retry_after_delay(outcome.retry_after, now) if outcome.status_code == 429 else None
    if delay is None:
        delay = retry_delay(attempts, rng)
    delay = max(delay, timedelta(seconds=MIN_RETRY_DELAY_SECONDS))
    # The last try is made when the window closes, so the total is the window, no more.
    return NextState("pending", min(now + delay, deadline))


# --- the dispatcher ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Claim:
    id: str
    render_id: str
    api_key_id: str
    url: str
    payload: bytes
    attempts: int
    created_at: datetime
    token: str


def _due(now: datetime) -> ColumnElement[bool]:
    row = WebhookDelivery
    return (
        (row.status == "pending")
        & (row.next_attempt_at <= now)
        & or_(row.claimed_until.is_(None), row.claimed_until < now)
    )


def _rowcount(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def _claim_next(db: Database, now: datetime) -> _Claim | None:
    """Take one due delivery with a lease. The UPDATE re-checks that the row is still due,
    so of two dispatchers racing for it exactly one changes it (PostgreSQL re-evaluates the
    WHERE on the locked row; SQLite runs one writer at a time)."""
    with db.session() as session:
        candidates = session.scalars(
            select(WebhookDelivery.id)
            .where(_due(now))
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(CLAIM_CANDIDATES)
        ).all()
    for candidate in candidates:
        token = secrets.token_hex(16)
        with db.session() as session:
            claimed = session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == candidate, _due(now))
                .values(claimed_until=now + timedelta(seconds=LEASE_SECONDS), claim_token=token)
                .execution_options(synchronize_session=False)
            )
            if _rowcount(claimed) != 1:
                continue
            row = session.get(WebhookDelivery, candidate)
            assert row is not None
            return _Claim(
                row.id,
                row.render_id,
                row.api_key_id,
                row.url,
                row.payload,
                row.attempts,
                as_utc(row.created_at),
                token,
            )
    return None


def _record(
    db: Database,
    claim: _Claim,
    outcome: Outcome,
    state: NextState,
    started_at: datetime,
    now: datetime,
) -> None:
    number = claim.attempts + 1
    with db.session() as session:
        session.add(
            WebhookAttempt(
                delivery_id=claim.id,
                number=number,
                at=started_at,
                status_code=outcome.status_code,
                duration_ms=outcome.duration_ms,
                error_class=outcome.error_class,
            )
        )
        values: dict[str, Any] = {
            "status": state.status,
            "attempts": number,
            "last_status_code": outcome.status_code,
            "last_error": (outcome.error or None) and outcome.error[:MAX_ERROR_CHARS],
            "claimed_until": None,
            "claim_token": None,
            "updated_at": now,
        }
        if state.next_attempt_at is not None:
            values["next_attempt_at"] = state.next_attempt_at
        if state.status == "delivered":
            values["delivered_at"] = now
        result = session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == claim.id, WebhookDelivery.claim_token == claim.token)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(result) != 1:
            # The lease ran out and another dispatcher owns the row now; it records its own.
            log.warning("webhook lease lost", extra={"webhook_id": claim.id})
            return
        if state.status == "delivered":
            # The billing system has the bill now: the funnel's delivery step, and the
            # moment the bot-burst rule measures visits from.
            record(session, claim.render_id, "webhook_delivered", at=now)
        if state.status == "disabled":
            # 410 Gone: the endpoint asked to be left alone; stop its other pending deliveries.
            session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.api_key_id == claim.api_key_id,
                    WebhookDelivery.url == claim.url,
                    WebhookDelivery.status == "pending",
                    WebhookDelivery.id != claim.id,
                )
                .values(
                    status="disabled",
                    last_error="the endpoint answered 410 Gone to another delivery",
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )


def deliver_due(
    services: Services,
    limit: int = DISPATCH_BATCH,
    *,
    sender: Sender | None = None,
    clock: Callable[[], datetime] = utcnow,
    rng: random.Random | None = None,
) -> int:
    """Make one attempt for each due delivery, up to `limit`; returns the attempts made.

    Safe to run in several processes at once: a delivery is claimed with a lease first.
    """
    settings = services.settings
    sender = sender or Sender.from_settings(settings)
    rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
    window = timedelta(seconds=settings.webhook_retry_window_seconds)
    signing_secrets = webhook_secrets(settings)
    made = 0
    while made < limit:
        claim = _claim_next(services.db, clock())
        if claim is None:
            break
        started_at = clock()
        headers = signed_headers(signing_secrets, claim.id, claim.payload)
        outcome = sender.send(claim.url, headers, claim.payload)
        now = clock()
        state = next_state(
            outcome,
            attempts=claim.attempts + 1,
            created_at=claim.created_at,
            now=now,
            window=window,
            rng=rng,
        )
        _record(services.db, claim, outcome, state, started_at, now)
        log.info(
            "webhook attempt",
            extra={
                "webhook_id": claim.id,
                "render_id": claim.render_id,
                "status_code": outcome.status_code,
                "error_class": outcome.error_class,
                "delivery_status": state.status,
            },
        )
        made += 1
    return made


def run_dispatcher(
    services: Services, stop_event: threading.Event, interval_seconds: float | None = None
) -> None:
    """Deliver due webhooks until `stop_event` is set; a full batch goes again at once."""
    interval = (
        services.settings.webhook_poll_seconds if interval_seconds is None else interval_seconds
    )
    sender = Sender.from_settings(services.settings)
    while not stop_event.is_set():
        try:
            busy = deliver_due(services, sender=sender) >= DISPATCH_BATCH
        except Exception:
            log.exception("webhook dispatch failed")
            busy = False
        if not busy:
            stop_event.wait(interval)


def start_dispatcher(services: Services) -> threading.Event:
    """Run the dispatcher in a daemon thread; set the returned event to stop it."""
    stop_event = threading.Event()
    thread = threading.Thread(
        target=run_dispatcher, args=(services, stop_event), name="webhooks", daemon=True
    )
    thread.start()
    return stop_event
