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
DEFAULT_RENDER_TIMEOUT_SECONDS = 600  # one render job, all outputs
DEFAULT_RESULT_TTL_SECONDS = 24 * 3600  # RQ keeps a finished job this long
DEFAULT_INPROCESS_WORKERS = 1  # render threads of the embedded worker; x264 uses both cores
DEFAULT_WEBHOOK_TIMEOUT_SECONDS = 15  # one webhook attempt: connect, send, read the status
DEFAULT_WEBHOOK_RETRY_WINDOW_SECONDS = 3 * 24 * 3600  # retries stop 3 days after the outcome
DEFAULT_WEBHOOK_POLL_SECONDS = 2  # the webhook dispatcher looks for due deliveries this often
DEFAULT_WEBHOOK_ALLOW_PRIVATE = False  # private/loopback callback addresses (and http) refused


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
    render_timeout_seconds: int = field(
        default=DEFAULT_RENDER_TIMEOUT_SECONDS, metadata={"env": "BILLREEL_RENDER_TIMEOUT_SECONDS"}
    )
    result_ttl_seconds: int = field(
        default=DEFAULT_RESULT_TTL_SECONDS, metadata={"env": "BILLREEL_RESULT_TTL_SECONDS"}
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
    if "Path" in text:
        return Path(raw)
    return raw
