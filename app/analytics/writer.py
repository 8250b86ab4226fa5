"""Customer events, written in batches: the customer routes never wait on the database lock.

    record_visit ──submit(Visit)──▶ buffer ──every flush_seconds──▶ one transaction
                                      (per process)                 (record + burst rule)

`record_visit` is the customer routes' (`app.customer.context`).

`BILLREEL_EVENT_FLUSH_SECONDS` chooses: 0 writes each event on its own request (the
default: what a single process and the tests expect, nothing is ever pending); above 0,
a background thread of each process writes what has gathered once per interval, or at
once when `MAX_BATCH` are waiting, and whatever is left when the process exits. A crash
(SIGKILL) loses at most one interval of events; the customer was served either way.

Both ways write through `write_visits`, which applies `app.analytics.events.record` and the burst
rule (`app.analytics.events.flag_bursts`) to each visit in order, as a request would have. The
rule looks back at most `QUIET_SECONDS` on the visit's own render (its other events, its
finish and webhook delivery), so a visit with nothing there in that time, the usual case,
is left out of it: two queries for the whole batch find those, and their rows then go in
as one multi-row insert.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.analytics.bots import BURST_WINDOW_SECONDS, DELIVERY_BURST_SECONDS
from app.analytics.events import EventType, flag_bursts, record
from app.infra.database import Database, Event, Render, as_utc

log = logging.getLogger(__name__)

MAX_BATCH = 500  # visits per transaction; a full batch is written without waiting
MAX_BACKLOG = 100_000  # visits kept while the database is down; the oldest go beyond it
# How far back the burst rule looks on a render: a visit with nothing there is never flagged.
QUIET_SECONDS = max(BURST_WINDOW_SECONDS, DELIVERY_BURST_SECONDS)


@dataclass(frozen=True, slots=True)
class Visit:
    """One customer event as the request saw it; `at` is the request's time."""

    render_id: str
    type: EventType
    at: datetime
    name: str | None = None
    visitor: str | None = None  # keyed hash, never an address
    flagged: str | None = None  # the request's own flag (head, bot, prefetch); None: a visit


def write_visits(session: Session, visits: list[Visit]) -> None:
    """Record `visits` in order in the caller's transaction, each with the burst rule."""
    if not visits:
        return
    quiet = timedelta(seconds=QUIET_SECONDS)
    ids = {visit.render_id for visit in visits}
    since = min(visit.at for visit in visits) - quiet
    # The latest thing that happened to each render: its newest event, or its finish.
    latest: dict[str, datetime] = {}
    for render_id, at in session.execute(
        select(Event.render_id, func.max(Event.at))
        .where(Event.render_id.in_(ids), Event.at >= since)
        .group_by(Event.render_id)
    ):
        latest[render_id] = as_utc(at)
    for render_id, finished_at in session.execute(
        select(Render.id, Render.finished_at).where(Render.id.in_(ids), Render.finished_at >= since)
    ):
        if finished_at is None:
            continue
        finished = as_utc(finished_at)
        latest[render_id] = max(finished, latest.get(render_id, finished))
    for visit in visits:
        last = latest.get(visit.render_id)
        latest[visit.render_id] = max(visit.at, last or visit.at)
        record(
            session,
            visit.render_id,
            visit.type,
            name=visit.name,
            visitor=visit.visitor,
            flagged=visit.flagged,
            at=visit.at,
        )
        if visit.flagged is None and last is not None and last >= visit.at - quiet:
            flag_bursts(session, visit.render_id, visit.visitor, visit.at)


class EventWriter:
    """The buffer of one process for one database; see the module docstring."""

    def __init__(self, db: Database, flush_seconds: float):
        self.db = db
        self.flush_seconds = flush_seconds
        self._pending: list[Visit] = []
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._flushing = threading.Lock()  # one batch at a time, in submission order
        self._thread: threading.Thread | None = None
        self._pid = 0  # the process that owns the thread: a forked child starts its own
        self._closed = False

    def submit(self, visit: Visit) -> None:
        if self.flush_seconds <= 0:
            with self.db.session() as session:
                write_visits(session, [visit])
            return
        with self._lock:
            self._pending.append(visit)
            if len(self._pending) > MAX_BACKLOG:
                del self._pending[: len(self._pending) - MAX_BACKLOG]
                log.error("event backlog full: oldest events dropped")
            if len(self._pending) >= MAX_BATCH:
                self._wake.notify()
            if self._pid != os.getpid() or self._thread is None:
                self._start()

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def flush(self) -> int:
        """Write everything pending now; returns how many were written."""
        written = 0
        with self._flushing:
            while True:
                with self._lock:
                    batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                if not batch:
                    return written
                try:
                    with self.db.session() as session:
                        write_visits(session, batch)
                except Exception:
                    with self._lock:  # keep them, in order, for the next try
                        self._pending[:0] = batch
                    raise
                written += len(batch)

    def close(self) -> None:
        """Stop the thread and write what is left (at exit: gunicorn and waitress end so)."""
        with self._lock:
            self._closed = True
            self._wake.notify()
        thread = self._thread
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            thread.join(timeout=max(5.0, 2 * self.flush_seconds))
        try:
            self.flush()
        except Exception:
            log.exception("events could not be written at exit")

    def _start(self) -> None:  # with self._lock held
        self._pid = os.getpid()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="billreel-events", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._closed and len(self._pending) < MAX_BATCH:
                    self._wake.wait(self.flush_seconds)
                closed = self._closed
            try:
                self.flush()
            except Exception:
                log.exception("events could not be written; retrying")
            if closed:
                return


_writers: weakref.WeakKeyDictionary[Database, EventWriter] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def event_writer(db: Database, flush_seconds: float) -> EventWriter:
    """The process's writer for `db` (one per database, made on first use)."""
    writer = _writers.get(db)
    if writer is None:
        with _writers_lock:
            writer = _writers.get(db)
            if writer is None:
                writer = _writers[db] = EventWriter(db, flush_seconds)
    return writer


@atexit.register
def _flush_all_at_exit() -> None:
    for writer in list(_writers.values()):
        writer.close()
