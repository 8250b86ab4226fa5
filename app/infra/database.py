"""SQLAlchemy 2 models and sessions: API keys, templates and their versions, renders,
batches, idempotency keys, events, payments, the webhook outbox, reminder journeys
with their scheduled steps and decisions, and experiments with their arms.

The database, not the queue, is the truth about a render's state: a worker that dies
leaves a row in `rendering`, never a lost render.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_delay,
    wait_random_exponential,
)

from app.infra import clock

# How long a SQLite connection waits for another process's lock before it gives up.
SQLITE_BUSY_SECONDS = 30

RENDER_STATUSES = ("queued", "rendering", "done", "failed", "cancelled")
MAX_WEBHOOK_ERROR_CHARS = 200  # a webhook attempt's error, as kept


def utcnow() -> datetime:
    """Now, in UTC, from the service's clock (`app.infra.clock`: tests may move it)."""
    return clock.now()


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes even for timezone-aware columns; they are UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def new_id(prefix: str) -> str:
    """A public id: a type prefix and 128 random bits, so ids are unguessable too."""
    return f"{prefix}_{secrets.token_hex(16)}"


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
    }


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # SHA-256 of the whole key; keys carry 256 random bits, so a fast hash is enough.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    # What the key may do: "billing" (the /v1 resources) or "admin" (keys, sessions, audit).
    scope: Mapped[str] = mapped_column(String(16), default="billing", server_default="billing")
    # The account the key acts for: the id of the account's first key (None: this key's own).
    # A rotated key joins its predecessor's account, so it sees the same renders and batches.
    account_id: Mapped[str | None] = mapped_column(String(40), default=None, index=True)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def account(self) -> str:
        return self.account_id or self.id


class Batch(Base):
    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    api_key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"), index=True)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set by POST /v1/batches/{id}/cancel: its queued renders become `cancelled`.
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)


class BatchRejection(Base):
    """One rejected NDJSON line of a batch, kept so the response can be replayed."""

    __tablename__ = "batch_rejections"

    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    errors: Mapped[list[dict[str, str]]] = mapped_column(JSON)


class Render(Base):
    __tablename__ = "renders"
    __table_args__ = (
        Index("ix_renders_batch_line", "batch_id", "line"),
        Index("ix_renders_status_updated", "status", "updated_at"),
        # An experiment's renders by arm: its report reads them at once.
        Index("ix_renders_experiment", "experiment_id", "experiment_arm"),
        # What the on-demand video sweeper looks through: videos asked for and not made.
        Index(
            "ix_renders_video_state",
            "video_state",
            "video_updated_at",
            sqlite_where=text("video_state IN ('queued', 'rendering')"),
            postgresql_where=text("video_state IN ('queued', 'rendering')"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    api_key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"), index=True)
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("batches.id"), default=None)
    line: Mapped[int | None] = mapped_column(Integer, default=None)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    template: Mapped[str] = mapped_column(String(64))
    template_version: Mapped[str | None] = mapped_column(String(80), default=None)
    # The stored version the render is pinned to when accepted (`app.templates`); None only
    # for renders accepted before templates were versioned data.
    template_version_id: Mapped[str | None] = mapped_column(
        ForeignKey("template_versions.id"), default=None
    )
    # "bill" (a customer's) or "preview" (a studio preview over a synthetic sample bill: every
    # frame stamped PREVIEW, no webhook, in no funnel).
    purpose: Mapped[str] = mapped_column(String(16), default="bill", server_default="bill")
    outputs: Mapped[list[str]] = mapped_column(JSON)
    external_id: Mapped[str | None] = mapped_column(String(200), default=None)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    callback_url: Mapped[str | None] = mapped_column(Text, default=None)
    # The validated, normalized bill document (personal data: erased with the render).
    bill: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # The bill's tone (nudge, firm, ...), kept for analytics after the bill is purged.
    tone: Mapped[str | None] = mapped_column(String(16), default=None)
    # Set when retention removed the outputs and the bill: the link then answers 410.
    purged_at: Mapped[datetime | None] = mapped_column(default=None)
    # The tone the render must take whatever the bill's own rules say (a journey step's).
    forced_tone: Mapped[str | None] = mapped_column(String(16), default=None)
    # The experiment the render was put in when accepted, and its arm (`app.experiments`):
    # the render is pinned to that arm's version. None: in no experiment.
    experiment_id: Mapped[str | None] = mapped_column(
        ForeignKey("experiments.id", name="fk_renders_experiment_id"), default=None
    )
    experiment_arm: Mapped[str | None] = mapped_column(String(40), default=None)
    # "on_open": the video is made when the page is first opened (`app.ondemand`); None: with
    # the render, up front. Its state: waiting (not asked for yet), queued, rendering, done,
    # failed; None for a video made up front.
    video_mode: Mapped[str | None] = mapped_column(String(16), default=None)
    video_state: Mapped[str | None] = mapped_column(String(16), default=None)
    video_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    video_updated_at: Mapped[datetime | None] = mapped_column(default=None)


class Template(Base):
    """A template by name; `published_id` is its one published version, switched in one
    UPDATE of this row (`app.templates.store`)."""

    __tablename__ = "templates"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    published_id: Mapped[str | None] = mapped_column(String(40), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TemplateVersion(Base):
    """One version of a template: its files are content-addressed blobs in object storage,
    listed here with their SHA-256; a draft's files change (each save bumps `revision`), a
    published or archived version's never do."""

    __tablename__ = "template_versions"
    __table_args__ = (
        UniqueConstraint("template", "number"),
        # At most one published version per template, whatever a buggy writer does.
        Index(
            "ux_template_versions_published",
            "template",
            unique=True,
            sqlite_where=text("state = 'published'"),
            postgresql_where=text("state = 'published'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    template: Mapped[str] = mapped_column(ForeignKey("templates.name"))
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))  # draft, published, archived
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the file list
    revision: Mapped[int] = mapped_column(Integer, default=1)
    files: Mapped[dict[str, Any]] = mapped_column(JSON)  # path -> {"sha256", "size"}
    parent: Mapped[int | None] = mapped_column(Integer, default=None)
    author: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(default=None)


class IdempotencyRecord(Base):
    """A request made with an `Idempotency-Key`, scoped to the API key that made it."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("api_key_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    api_key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    # None while the first request is still being handled (a retry then gets 409).
    response_status: Mapped[int | None] = mapped_column(Integer, default=None)
    response_headers: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_render_type", "render_id", "type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    render_id: Mapped[str] = mapped_column(ForeignKey("renders.id"))
    type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(64), default=None)
    # Keyed hash of the visitor's address: never the address itself.
    visitor: Mapped[str | None] = mapped_column(String(64), default=None)
    flagged: Mapped[str | None] = mapped_column(String(32), default=None)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class VisitorSalt(Base):
    """The random salt of one UTC day's visitor hashes; deleted once the day is over."""

    __tablename__ = "visitor_salts"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))


class Payment(Base):
    """A payment the billing system reported for a render; closes the funnel."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("render_id", "reference"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    render_id: Mapped[str] = mapped_column(ForeignKey("renders.id"), index=True)
    # The billing system's own payment id: the same reference is the same payment.
    reference: Mapped[str | None] = mapped_column(String(200), default=None)
    amount: Mapped[str | None] = mapped_column(String(32), default=None)  # decimal string
    currency: Mapped[str | None] = mapped_column(String(3), default=None)
    paid_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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
    last_error: Mapped[str | None] = mapped_column(String(MAX_WEBHOOK_ERROR_CHARS), default=None)
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


class DashboardSession(Base):
    """A dashboard login (`app.access.sessions`); the cookie is only ever stored hashed."""

    __tablename__ = "dashboard_sessions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"), index=True)
    account: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    # logout, idle, expired, key_revoked, admin
    end_reason: Mapped[str | None] = mapped_column(String(16), default=None)


class AuditEntry(Base):
    """One change made with a key, a session or the command line (`app.audit.trail`)."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_at_id", "at", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(16))  # key, session, cli
    actor_id: Mapped[str] = mapped_column(String(64))
    account: Mapped[str | None] = mapped_column(String(40), index=True, default=None)
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str | None] = mapped_column(String(80), default=None)
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    status: Mapped[int | None] = mapped_column(Integer, default=None)


class RateLimitCounter(Base):
    """One fixed-window counter of a rate limit (`app.infra.ratelimit`), without Redis."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # epoch seconds


class Journey(Base):
    """A reminder journey by name, per account; its definitions are `JourneyVersion` rows
    (`app.journeys.store`)."""

    __tablename__ = "journeys"
    __table_args__ = (UniqueConstraint("account", "name"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(64))
    latest: Mapped[int] = mapped_column(Integer, default=0)  # the newest version's number
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class JourneyVersion(Base):
    """One immutable definition of a journey: its steps, quiet hours and contact limit."""

    __tablename__ = "journey_versions"
    __table_args__ = (UniqueConstraint("journey_id", "number"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    journey_id: Mapped[str] = mapped_column(ForeignKey("journeys.id"))
    number: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BillJourney(Base):
    """One bill on one journey version: the bill is its first render's; the schedule is its
    `JourneyStep` rows, its history its `JourneyDecision` rows."""

    __tablename__ = "bill_journeys"
    __table_args__ = (Index("ix_bill_journeys_customer", "account", "customer_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[str] = mapped_column(String(64))
    render_id: Mapped[str] = mapped_column(ForeignKey("renders.id"), unique=True)
    journey_version_id: Mapped[str] = mapped_column(ForeignKey("journey_versions.id"))
    time_zone: Mapped[str] = mapped_column(String(64))  # IANA name the steps are placed in
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # active, stopped, completed
    stop_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    stopped_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class JourneyStep(Base):
    """One step of a bill's journey, scheduled in the database: the truth of what is due.

    `render_id` and `token` are chosen when the step is scheduled, so its render can be made
    by one set-based INSERT when it runs (no foreign key: the render exists from then on).
    """

    __tablename__ = "journey_steps"
    __table_args__ = (
        UniqueConstraint("bill_journey_id", "position"),
        # What the scheduler takes, in due order; a step leaves it once decided.
        Index(
            "ix_journey_steps_due",
            "due_at",
            sqlite_where=text("status = 'scheduled'"),
            postgresql_where=text("status = 'scheduled'"),
        ),
        # A customer's contacts over all their bills, for the contact limit.
        Index("ix_journey_steps_contacts", "account", "customer_id", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    bill_journey_id: Mapped[str] = mapped_column(ForeignKey("bill_journeys.id"))
    position: Mapped[int] = mapped_column(Integer)  # 1, 2, ... in the journey's order
    account: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[str] = mapped_column(String(64))
    template: Mapped[str] = mapped_column(String(80))  # as the step names it: NAME or NAME@N
    tone: Mapped[str] = mapped_column(String(16))  # forced, or the bill's rules on that day
    outputs: Mapped[list[str]] = mapped_column(JSON)
    due_at: Mapped[datetime] = mapped_column()
    window_ends_at: Mapped[datetime] = mapped_column()  # past it the step is too late to run
    # scheduled, rendering, sent, skipped, failed, cancelled (`claimed` only inside a tick)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32), default=None)
    render_id: Mapped[str] = mapped_column(String(40), unique=True)
    token: Mapped[str] = mapped_column(String(64))  # unique where it counts: renders.token
    template_version_id: Mapped[str | None] = mapped_column(String(40), default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)  # its render was made
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    webhook_id: Mapped[str | None] = mapped_column(String(40), default=None)


class JourneyDecision(Base):
    """One decision about a bill's journey: a step started, sent, deferred, skipped, failed
    or cancelled (each with its reason), or the journey stopped or completed."""

    __tablename__ = "journey_decisions"
    __table_args__ = (Index("ix_journey_decisions_bill", "bill_journey_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bill_journey_id: Mapped[str] = mapped_column(ForeignKey("bill_journeys.id"))
    step_id: Mapped[str | None] = mapped_column(String(40), default=None)
    position: Mapped[int | None] = mapped_column(Integer, default=None)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32), default=None)
    render_id: Mapped[str | None] = mapped_column(String(40), default=None)
    until: Mapped[datetime | None] = mapped_column(default=None)  # a deferred step's new time


class Experiment(Base):
    """An experiment of one account between versions of one template (`app.experiments`),
    optionally for one journey step only; its arms are `ExperimentArm` rows.

    `journey` is "" and `journey_step` 0 for an experiment over every render of the template,
    so that the partial unique index holds at most one running experiment per target.
    """

    __tablename__ = "experiments"
    __table_args__ = (
        Index(
            "ux_experiments_running",
            "account",
            "template",
            "journey",
            "journey_step",
            unique=True,
            sqlite_where=text("state = 'running'"),
            postgresql_where=text("state = 'running'"),
        ),
        Index("ix_experiments_account", "account", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    template: Mapped[str] = mapped_column(String(64))
    journey: Mapped[str] = mapped_column(String(64), default="")
    journey_step: Mapped[int] = mapped_column(Integer, default=0)
    metric: Mapped[str] = mapped_column(String(32))  # paid_in_time
    overdue_window_days: Mapped[int] = mapped_column(Integer)
    control: Mapped[str] = mapped_column(String(40))  # the control arm's name
    state: Mapped[str] = mapped_column(String(16))  # draft, running, stopped
    winner: Mapped[str | None] = mapped_column(String(40), default=None)  # published arm
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    stopped_at: Mapped[datetime | None] = mapped_column(default=None)


class ExperimentArm(Base):
    """One arm of an experiment, in the order the assignment cuts [0, 1): a template version
    with its traffic weight, or the hold-out (no version: the plain microsite only)."""

    __tablename__ = "experiment_arms"

    experiment_id: Mapped[str] = mapped_column(
        ForeignKey("experiments.id", name="fk_experiment_arms_experiment_id"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    weight: Mapped[float] = mapped_column(Float)
    holdout: Mapped[bool] = mapped_column(default=False)
    template_version_id: Mapped[str | None] = mapped_column(
        ForeignKey("template_versions.id", name="fk_experiment_arms_template_version_id"),
        default=None,
    )
    template_version: Mapped[str | None] = mapped_column(String(80), default=None)  # NAME@N


class Database:
    """One engine and its session factory; `session()` is a unit of work."""

    def __init__(self, url: str):
        self.url = url
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS}
            if url in ("sqlite://", "sqlite:///:memory:"):
                kwargs["poolclass"] = StaticPool
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on an exception."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def _locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc).lower()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the customer routes read while the worker writes; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    # Switching a fresh file to WAL needs it to itself. Processes opening it together can be
    # refused at once, without the busy timeout: the loser waits and asks again. The mode
    # is kept in the file, so later opens find it set.
    for attempt in Retrying(
        retry=retry_if_exception(_locked),
        wait=wait_random_exponential(multiplier=0.01, max=0.5),
        stop=stop_after_delay(SQLITE_BUSY_SECONDS),
        reraise=True,
    ):
        with attempt:
            cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Erased rows (GDPR Art. 17, app.delivery.retention) are overwritten, not left in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()
