"""The service's clock: the system's UTC time, or that time moved by the seconds written in
the file `BILLREEL_CLOCK_FILE` names.

Schedules (reminder journeys) are tested on real processes by moving every process's time
at once: the test writes one number into one file that the API, schedulers and workers all
read, and never sleeps. The file is read again whenever it changes (its inode, modification
time and size are checked on every call, a `stat`); unset, as in production, `now()` is the
system's time and no file is looked at.
"""

from __future__ import annotations

import math
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

CLOCK_FILE_ENV = "BILLREEL_CLOCK_FILE"

_lock = threading.Lock()
_configured = False
_path: Path | None = None
_seen: tuple[int, int, int] | None = None  # (inode, mtime_ns, size) when it was last read
_offset = timedelta(0)


def configure(path: Path | str | None) -> None:
    """Read the offset from `path` from now on (None: the system's time, unmoved)."""
    global _configured, _path, _seen, _offset
    with _lock:
        _configured = True
        _path = Path(path) if path else None
        _seen = None
        _offset = timedelta(0)


def offset() -> timedelta:
    """How far this clock is ahead of the system's (behind, when negative)."""
    global _seen, _offset
    if not _configured:
        configure(os.environ.get(CLOCK_FILE_ENV) or None)
    path = _path
    if path is None:
        return timedelta(0)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return timedelta(0)
    key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    if key != _seen:
        with _lock:
            text = path.read_text(encoding="ascii").strip()
            try:
                seconds = float(text) if text else 0.0
            except ValueError as exc:
                raise ValueError(f"{path}: the clock file holds seconds, not {text!r}") from exc
            _offset = timedelta(seconds=seconds)
            _seen = key
    return _offset


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC) + offset()


def write_offset(path: Path, seconds: float) -> None:
    """Move every process reading `path` to `seconds` past the system's time (atomically:
    a reader never sees half a number)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # Rounded up to the microsecond (the clock's own resolution): rounded to the nearest
    # millisecond, a move could fall up to 0.5 ms short, and a step due at the very moment
    # moved to was not due yet when read at once.
    micros = math.ceil(seconds * 1_000_000)
    temporary.write_text(f"{micros / 1_000_000:.6f}\n", encoding="ascii")
    os.replace(temporary, path)
