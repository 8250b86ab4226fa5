"""Every setting of the service, with its default, its unit and its environment name.

Nothing here touches the disk or the network at import time: `Settings.from_env()` only
reads the environment, so tests build settings by hand with `Settings(...)` overrides.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

# Defaults, each a named constant with its unit (habit taken from rq/defaults.py).
DEFAULT_DATA_DIR = "./var"
DEFAULT_PORT = 8000
DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # 1 MiB for a JSON request body
DEFAULT_MAX_BATCH_BYTES = 2 * 1024 * 1024 * 1024  # 2 GiB for a whole NDJSON billing run
DEFAULT_MAX_BATCH_LINE_BYTES = 256 * 1024  # 256 KiB for one NDJSON line
DEFAULT_BATCH_CHUNK_LINES = 500  # lines written to the database per transaction
DEFAULT_IDEMPOTENCY_TTL_SECONDS = 48 * 3600  # contract: kept at least 24 h
DEFAULT_RATE_LIMIT = "1200/minute"  # per API key, flask-limiter syntax
# Failed logins (a wrong API key, on the API or the dashboard) a client may make, and wrong
# tries around one key prefix from anywhere; then 429 until the window ends.
DEFAULT_LOGIN_FAILURE_LIMIT = "10/15 minutes"  # per client address
DEFAULT_KEY_PREFIX_FAILURE_LIMIT = "30/15 minutes"  # per key prefix tried, all clients
DEFAULT_LINK_MISS_LIMIT = "60/10 minutes"  # unknown customer-link tokens, per client address
DEFAULT_SESSION_IDLE_MINUTES = 30  # a dashboard session ends this long after its last page
DEFAULT_SESSION_HOURS = 8  # ... and this long after its login, whatever happens
DEFAULT_RENDER_TIMEOUT_SECONDS = 600  # one render job, all outputs
DEFAULT_RESULT_TTL_SECONDS = 24 * 3600  # RQ keeps a finished job this long
DEFAULT_BATCH_RESULT_TTL_SECONDS = 3600  # ... and a billing run's finished job this long
DEFAULT_INPROCESS_WORKERS = 1  # render threads of the embedded worker; a render keeps >1 core busy
DEFAULT_WEBHOOK_TIMEOUT_SECONDS = 15  # one webhook attempt: connect, send, read the status
DEFAULT_WEBHOOK_RETRY_WINDOW_SECONDS = 3 * 24 * 3600  # retries stop 3 days after the outcome
DEFAULT_WEBHOOK_POLL_SECONDS = 2  # the webhook dispatcher looks for due deliveries this often
DEFAULT_WEBHOOK_ALLOW_PRIVATE = False  # private/loopback callback addresses (and http) refused
DEFAULT_LINK_TTL_DAYS = 180  # tracked links expire, and outputs and bills are purged, after this
DEFAULT_EVENT_FLUSH_SECONDS = 0.0  # 0: each customer event is written on its request
DEFAULT_STORAGE_RETRY_SECONDS = 60  # a render keeps retrying a failing store this long
DEFAULT_RENDER_RETRIES = 3  # RQ re-runs a render this often after a transient error
DEFAULT_STUCK_AFTER_SECONDS = 900  # queued/rendering this long: re-enqueued (> render timeout)
DEFAULT_SWEEP_INTERVAL_SECONDS = 60  # how often workers look for stuck renders
DEFAULT_VOICE = "espeak"  # narration voice: espeak (offline) | polly | none
DEFAULT_SCHEDULER_POLL_SECONDS = 10  # the journey scheduler looks for due steps this often
DEFAULT_SCHEDULER_BATCH_STEPS = 2000  # due steps one scheduler takes per transaction


@dataclass(frozen=True)
class Settings:
    """The service's settings; each field's metadata names its environment variable."""

    data_dir: Path = field(default=Path(DEFAULT_DATA_DIR), metadata={"env": "BILLREEL_DATA_DIR"})
    public_url: str | None = field(
        default=None,
        metadata={
            "env": "BILLREEL_PUBLIC_URL",
            "doc": "base of tracked links; unset: the request's host",
        },
    )
    database_url: str | None = field(
        default=None,
        metadata={"env": "BILLREEL_DATABASE_URL", "doc": "unset: SQLite in the data directory"},
    )
    redis_url: str | None = field(
        default=None, metadata={"env": "BILLREEL_REDIS_URL", "doc": "unset: in-process queue"}
    )
    s3_bucket: str | None = field(
        default=None, metadata={"env": "BILLREEL_S3_BUCKET", "doc": "unset: local files"}
    )
    s3_endpoint_url: str | None = field(default=None, metadata={"env": "BILLREEL_S3_ENDPOINT_URL"})
    secret_key: str | None = field(
        default=None,
        metadata={
            "env": "BILLREEL_SECRET_KEY",
            "doc": "keys the visitor hashes; unset: a random key kept in the data directory",
        },
    )
    host: str = field(default="127.0.0.1", metadata={"env": "BILLREEL_HOST"})
    port: int = field(default=DEFAULT_PORT, metadata={"env": "BILLREEL_PORT"})
    max_body_bytes: int = field(
        default=DEFAULT_MAX_BODY_BYTES, metadata={"env": "BILLREEL_MAX_BODY_BYTES"}
    )
    max_batch_bytes: int = field(
        default=DEFAULT_MAX_BATCH_BYTES, metadata={"env": "BILLREEL_MAX_BATCH_BYTES"}
    )
    max_batch_line_bytes: int = field(
        default=DEFAULT_MAX_BATCH_LINE_BYTES, metadata={"env": "BILLREEL_MAX_BATCH_LINE_BYTES"}
    )
    batch_chunk_lines: int = field(
        default=DEFAULT_BATCH_CHUNK_LINES, metadata={"env": "BILLREEL_BATCH_CHUNK_LINES"}
    )
    idempotency_ttl_seconds: int = field(
        default=DEFAULT_IDEMPOTENCY_TTL_SECONDS,
        metadata={"env": "BILLREEL_IDEMPOTENCY_TTL_SECONDS"},
    )
    rate_limit: str = field(default=DEFAULT_RATE_LIMIT, metadata={"env": "BILLREEL_RATE_LIMIT"})
    login_failure_limit: str = field(
        default=DEFAULT_LOGIN_FAILURE_LIMIT, metadata={"env": "BILLREEL_LOGIN_FAILURE_LIMIT"}
    )
    key_prefix_failure_limit: str = field(
        default=DEFAULT_KEY_PREFIX_FAILURE_LIMIT,
        metadata={"env": "BILLREEL_KEY_PREFIX_FAILURE_LIMIT"},
    )
    link_miss_limit: str = field(
        default=DEFAULT_LINK_MISS_LIMIT, metadata={"env": "BILLREEL_LINK_MISS_LIMIT"}
    )
    session_idle_minutes: int = field(
        default=DEFAULT_SESSION_IDLE_MINUTES, metadata={"env": "BILLREEL_SESSION_IDLE_MINUTES"}
    )
    session_hours: int = field(
        default=DEFAULT_SESSION_HOURS, metadata={"env": "BILLREEL_SESSION_HOURS"}
    )
    render_timeout_seconds: int = field(
        default=DEFAULT_RENDER_TIMEOUT_SECONDS, metadata={"env": "BILLREEL_RENDER_TIMEOUT_SECONDS"}
    )
    result_ttl_seconds: int = field(
        default=DEFAULT_RESULT_TTL_SECONDS, metadata={"env": "BILLREEL_RESULT_TTL_SECONDS"}
    )
    batch_result_ttl_seconds: int = field(
        default=DEFAULT_BATCH_RESULT_TTL_SECONDS,
        metadata={"env": "BILLREEL_BATCH_RESULT_TTL_SECONDS"},
    )
    inprocess_workers: int = field(
        default=DEFAULT_INPROCESS_WORKERS, metadata={"env": "BILLREEL_INPROCESS_WORKERS"}
    )
    webhook_secrets: str | None = field(
        default=None,
        metadata={
            "env": "BILLREEL_WEBHOOK_SECRETS",
            "doc": "comma-separated whsec_ secrets, the first signs (all sign while rotating); "
            "unset: a random secret kept in the data directory",
        },
    )
    webhook_timeout_seconds: int = field(
        default=DEFAULT_WEBHOOK_TIMEOUT_SECONDS,
        metadata={"env": "BILLREEL_WEBHOOK_TIMEOUT_SECONDS"},
    )
    webhook_retry_window_seconds: int = field(
        default=DEFAULT_WEBHOOK_RETRY_WINDOW_SECONDS,
        metadata={"env": "BILLREEL_WEBHOOK_RETRY_WINDOW_SECONDS"},
    )
    webhook_poll_seconds: int = field(
        default=DEFAULT_WEBHOOK_POLL_SECONDS, metadata={"env": "BILLREEL_WEBHOOK_POLL_SECONDS"}
    )
    webhook_allow_private: bool = field(
        default=DEFAULT_WEBHOOK_ALLOW_PRIVATE,
        metadata={
            "env": "BILLREEL_WEBHOOK_ALLOW_PRIVATE",
            "doc": "true: callbacks may reach private and loopback addresses, and use http "
            "(tests, closed networks)",
        },
    )
    link_ttl_days: int = field(
        default=DEFAULT_LINK_TTL_DAYS,
        metadata={
            "env": "BILLREEL_LINK_TTL_DAYS",
            "doc": "days from a render's creation until its links answer 410 and `billreel purge` "
            "removes its outputs and bill",
        },
    )
    event_flush_seconds: float = field(
        default=DEFAULT_EVENT_FLUSH_SECONDS,
        metadata={
            "env": "BILLREEL_EVENT_FLUSH_SECONDS",
            "doc": "0: customer events are written on their request; above 0, each process "
            "writes them in batches this often (app/event_writer.py)",
        },
    )
    storage_retry_seconds: int = field(
        default=DEFAULT_STORAGE_RETRY_SECONDS,
        metadata={
            "env": "BILLREEL_STORAGE_RETRY_SECONDS",
            "doc": "a render retries storing its outputs (with backoff) this long before it "
            "hands the render back to the queue",
        },
    )
    render_retries: int = field(
        default=DEFAULT_RENDER_RETRIES,
        metadata={
            "env": "BILLREEL_RENDER_RETRIES",
            "doc": "RQ re-runs after a transient error (storage, voice), with backoff",
        },
    )
    stuck_after_seconds: int = field(
        default=DEFAULT_STUCK_AFTER_SECONDS,
        metadata={
            "env": "BILLREEL_STUCK_AFTER_SECONDS",
            "doc": "a render queued or rendering this long without news is re-enqueued by the "
            "sweeper; keep it above BILLREEL_RENDER_TIMEOUT_SECONDS",
        },
    )
    sweep_interval_seconds: int = field(
        default=DEFAULT_SWEEP_INTERVAL_SECONDS,
        metadata={"env": "BILLREEL_SWEEP_INTERVAL_SECONDS"},
    )
    worker_queues: str = field(
        default="ondemand,batch",
        metadata={
            "env": "BILLREEL_WORKER_QUEUES",
            "doc": "the queues a worker takes jobs from, in order; `ondemand` alone keeps a "
            "worker free for customers' clicks and videos made on open during a billing run",
        },
    )
    batch_niceness: int = field(
        default=10,
        metadata={
            "env": "BILLREEL_BATCH_NICENESS",
            "doc": "a worker runs billing-run jobs this much nicer (0-19, 0: off), so a customer "
            "waiting for a video on the same machine gets the CPU first",
        },
    )
    metrics_token: str | None = field(
        default=None,
        metadata={
            "env": "BILLREEL_METRICS_TOKEN",
            "doc": "when set, /metrics asks for `Authorization: Bearer <token>`; unset: open",
        },
    )
    workers: int = field(
        default=1,
        metadata={
            "env": "BILLREEL_WORKERS",
            "doc": "worker processes one `billreel worker` runs and supervises (one per core)",
        },
    )
    log_level: str = field(
        default="info",
        metadata={
            "env": "BILLREEL_LOG_LEVEL",
            "doc": "debug | info | warning | error, for the API and the workers (JSON lines)",
        },
    )
    render_hold_seconds: float = field(
        default=0.0,
        metadata={
            "env": "BILLREEL_RENDER_HOLD_SECONDS",
            "doc": "tests only: a render sleeps this long between rendering and storing, so "
            "fault tests can kill or stop a worker mid-render; 0 (the default) never sleeps",
        },
    )
    scheduler_poll_seconds: float = field(
        default=DEFAULT_SCHEDULER_POLL_SECONDS,
        metadata={
            "env": "BILLREEL_SCHEDULER_POLL_SECONDS",
            "doc": "how often the journey scheduler looks for due steps when it found none",
        },
    )
    scheduler_batch_steps: int = field(
        default=DEFAULT_SCHEDULER_BATCH_STEPS,
        metadata={
            "env": "BILLREEL_SCHEDULER_BATCH_STEPS",
            "doc": "due journey steps one scheduler takes, decides and enqueues per transaction",
        },
    )
    clock_file: Path | None = field(
        default=None,
        metadata={
            "env": "BILLREEL_CLOCK_FILE",
            "doc": "tests only: a file holding seconds that every process adds to its clock "
            "(app/infra/clock.py); unset (the default): the system's time",
        },
    )
    voice: str = field(
        default=DEFAULT_VOICE,
        metadata={"env": "BILLREEL_VOICE", "doc": "espeak (offline), polly or none"},
    )
    polly_voices: str | None = field(
        default=None,
        metadata={
            "env": "BILLREEL_POLLY_VOICES",
            "doc": "LOCALE=VoiceId[:engine],... overriding the built-in Polly voices",
        },
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from `environ` (default: the process environment), then `overrides`."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f.metadata["env"])
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.name, f.type, raw)
        return replace(cls(**values), **overrides)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'billreel.db').resolve()}"

    @property
    def files_dir(self) -> Path:
        """Where `LocalStorage` keeps outputs."""
        return self.data_dir / "files"

    @property
    def work_dir(self) -> Path:
        """Parent of each render's private temporary directory."""
        return self.data_dir / "work"


def _convert(name: str, type_: Any, raw: str) -> Any:
    text = str(type_)
    if text == "bool":
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"setting {name}: {raw!r} is not true or false")
    if "int" in text:
        try:
            return int(raw)
        except ValueError as exc:
            raise ValueError(f"setting {name}: {raw!r} is not a whole number") from exc
    if text == "float":
        try:
            return float(raw)
        except ValueError as exc:
            raise ValueError(f"setting {name}: {raw!r} is not a number") from exc
    if "Path" in text:
        return Path(raw)
    return raw
