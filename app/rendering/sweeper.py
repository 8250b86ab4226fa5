"""The sweeper: renders stuck in `queued` or `rendering` past a bound get a fresh job.

The database, not Redis, holds the truth of a render. A job can be lost (Redis restarted
without persistence) or die with its worker (SIGKILL, a machine gone); its render row then
stays `queued` or `rendering` with an `updated_at` that no longer moves. Past
`stuck_after_seconds` the sweeper hands such renders back to the queue; one whose job is
still waiting in Redis is left alone, so a long billing run is not enqueued twice. A render
re-run this way is claimed again by `app.rendering.job` (attempts + 1) and finishes once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.infra.database import Render, utcnow

if TYPE_CHECKING:
    from app.infra.queue import Priority, RenderQueue
    from app.infra.services import Services

log = logging.getLogger(__name__)

SWEEP_PAGE = 1000  # renders looked at per database query
SWEEP_LOCK_KEY = "billreel:sweeper"  # one sweeper at a time across all workers


@dataclass
class SweepResult:
    stuck: int = 0  # renders past the bound
    requeued: list[str] = field(default_factory=list)  # of those, the ones given a fresh job
    abandoned: list[str] = field(default_factory=list)  # failed: every run died or timed out


def _stuck_rows(
    services: Services, stuck_after_seconds: float, limit: int | None = None
) -> list[tuple[str, str | None, int]]:
    before = utcnow() - timedelta(seconds=stuck_after_seconds)
    query = (
        select(Render.id, Render.batch_id, Render.attempts)
        .where(Render.status.in_(("queued", "rendering")), Render.updated_at <= before)
        .order_by(Render.updated_at)
    )
    if limit is not None:
        query = query.limit(limit)
    with services.db.session() as session:
        return [(row[0], row[1], int(row[2])) for row in session.execute(query).all()]


def stuck_renders(
    services: Services, stuck_after_seconds: float, limit: int | None = None
) -> list[tuple[str, Priority]]:
    """Ids (and queue) of renders queued or rendering with no change for the bound."""
    rows = _stuck_rows(services, stuck_after_seconds, limit)
    return [(render_id, "batch" if batch_id else "ondemand") for render_id, batch_id, _ in rows]


def sweep(
    services: Services, queue: RenderQueue, stuck_after_seconds: float | None = None
) -> SweepResult:
    """Re-enqueue every stuck render whose job is gone; returns what it found and did.

    A render that has had all its runs (`render_retries` + 1 claims) is failed instead.
    """
    from app.rendering.job import abandon

    settings = services.settings
    bound = settings.stuck_after_seconds if stuck_after_seconds is None else stuck_after_seconds
    result = SweepResult()
    rows = _stuck_rows(services, bound)
    result.stuck = len(rows)
    runs_allowed = settings.render_retries + 1
    again: list[tuple[str, Priority]] = []
    for render_id, batch_id, attempts in rows:
        if attempts >= runs_allowed:
            if abandon(services, render_id, attempts):
                result.abandoned.append(render_id)
        else:
            again.append((render_id, "batch" if batch_id else "ondemand"))
    for start in range(0, len(again), SWEEP_PAGE):
        result.requeued += queue.requeue(again[start : start + SWEEP_PAGE])
    if result.requeued or result.abandoned:
        log.warning(
            "sweeper re-enqueued stuck renders",
            extra={"count": len(result.requeued), "abandoned": len(result.abandoned)},
        )
    return result


def start_sweeper_thread(
    services: Services,
    queue: RenderQueue,
    sweep_with: Callable[[Services, RenderQueue], object] | None = None,
    lock_key: str = SWEEP_LOCK_KEY,
) -> threading.Thread:
    """Sweep every `sweep_interval_seconds` in a daemon thread of an RQ worker process.

    Several workers each run one; a Redis lock that expires with the interval lets only one
    of them sweep per interval. `sweep_with` (default: this module's `sweep`) is another
    sweep run the same way, under its own `lock_key` (the on-demand videos').
    """
    run = sweep_with or sweep
    interval = max(1, services.settings.sweep_interval_seconds)
    connection = getattr(queue, "connection", None)

    def loop() -> None:
        stop = threading.Event()
        while not stop.wait(interval):
            try:
                if connection is not None and not connection.set(
                    lock_key, "1", nx=True, ex=interval
                ):
                    continue
                run(services, queue)
            except Exception:  # Redis restarting, database busy: try again next interval
                log.exception("sweeper failed")

    thread = threading.Thread(target=loop, name="sweeper", daemon=True)
    thread.start()
    return thread
