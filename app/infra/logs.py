"""JSON logs that carry ids, never a customer's data.

One JSON object a line (python-json-logger): time, level, logger, message, and only the ids
in `LOG_FIELDS`: from a record's `extra`, from `log_context()` (set around a render, so the
storage, voice and webhook lines inside it carry the render id too), and the job id of RQ's
current job. Anything else a caller passes in `extra` is dropped, so a bill's name, e-mail,
IBAN or amount cannot reach a log line through it. Two more guards, because third-party
messages may quote data (pydantic and botocore errors do):

- an exception is logged as its type and where it was raised, never its message;
- a message keeps its first line only (RQ logs a failed job's whole traceback as its message).

tests/infra/test_logs.py renders a bill with distinctive values through a real worker and
greps every log line for them.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from pythonjsonlogger.json import JsonFormatter

LOG_FIELDS = frozenset(
    {
        "render_id",
        "job_id",
        "batch_id",
        "delivery_id",
        "attempt",
        "reason",
        "try",
        "status",
        "queue",
        "count",
        "port",
    }
)
_ALWAYS = ("time", "level", "logger", "message", "exception")

_context: ContextVar[dict[str, Any] | None] = ContextVar("billreel_log_context", default=None)

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


@contextmanager
def log_context(**ids: Any) -> Iterator[None]:
    """Every log line of this thread (or task) inside the block carries these ids."""
    unknown = set(ids) - LOG_FIELDS
    if unknown:
        raise ValueError(f"log_context: not an allowed log field: {', '.join(sorted(unknown))}")
    token = _context.set({**(_context.get() or {}), **ids})
    try:
        yield
    finally:
        _context.reset(token)


class PrivateJsonFormatter(JsonFormatter):
    """JSON lines holding the allow-listed ids and nothing else of a record's extras."""

    def __init__(self) -> None:
        super().__init__(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        kept = {key: log_data[key] for key in _ALWAYS if log_data.get(key) is not None}
        kept["level"] = str(kept.get("level", "")).lower()
        kept["message"] = _first_line(str(kept.get("message", "")))
        if record.exc_info and record.exc_info[0] is not None:
            kept["exception"] = _exception_summary(record.exc_info)
        kept.update(_context.get() or {})
        kept.update(
            {
                key: value
                for key, value in record.__dict__.items()
                if key in LOG_FIELDS and value is not None
            }
        )
        if "job_id" not in kept:
            job_id = _current_job_id()
            if job_id is not None:
                kept["job_id"] = job_id
        log_data.clear()
        log_data.update(kept)

    def formatException(self, ei: Any) -> str:
        # Never the message: add_fields writes the summary instead.
        return ""

    def formatStack(self, stack_info: str) -> str:
        return ""


def _first_line(message: str) -> str:
    stripped = message.strip()
    return stripped.splitlines()[0] if stripped else ""


def _exception_summary(exc_info: ExcInfo) -> str:
    """`TypeName at file:line in function`, from the innermost frame: enough to find it."""
    exc_type, _, tb = exc_info
    where = ""
    frames = traceback.extract_tb(tb) if tb is not None else []
    if frames:
        last = frames[-1]
        where = f" at {last.filename.rsplit('/', 1)[-1]}:{last.lineno} in {last.name}"
    return f"{exc_type.__name__}{where}"


def _current_job_id() -> str | None:
    try:
        from rq import get_current_job

        job = get_current_job()
    except Exception:  # outside a worker, or Redis unreachable: simply no job id
        return None
    return job.id if job is not None else None


LEVELS = ("debug", "info", "warning", "error")


def log_level(name: str) -> int:
    """The `logging` level of BILLREEL_LOG_LEVEL; a clear error for anything else."""
    if name.lower() not in LEVELS:
        raise ValueError(f"setting log_level: {name!r} is not one of {', '.join(LEVELS)}")
    level: int = getattr(logging, name.upper())
    return level


def setup_logging(level: str = "info") -> None:
    """JSON lines on stderr for the whole process, RQ's and waitress's loggers included."""
    handler = logging.StreamHandler()
    handler.setFormatter(PrivateJsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(log_level(level))
    for name in ("rq", "rq.worker", "rq.scheduler", "waitress"):
        # RQ and waitress add handlers of their own: send everything through the root's.
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
