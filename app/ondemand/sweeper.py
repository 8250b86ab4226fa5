"""Videos asked for and not made: a run that died (its worker killed, its job lost) is
queued again once silent past `stuck_after_seconds`; one that has had all its runs fails.

A live run touches `video_updated_at` with every segment it publishes, so only a silent
one is taken for dead. The page's player shows the poster and a retry meanwhile; the next
run writes under a prefix of its own (`app.ondemand.stream`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select, update

from app.infra.database import Render, utcnow
from app.infra.queue import Priority, RenderQueue
from app.infra.services import Services
from app.ondemand.request import VIDEO_PRIORITY

log = logging.getLogger(__name__)


@dataclass
class VideoSweep:
    stuck: int = 0
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def sweep_videos(
    services: Services, queue: RenderQueue, stuck_after_seconds: float | None = None
) -> VideoSweep:
    settings = services.settings
    bound = settings.stuck_after_seconds if stuck_after_seconds is None else stuck_after_seconds
    before = utcnow() - timedelta(seconds=bound)
    with services.db.session() as session:
        rows = session.execute(
            select(Render.id, Render.video_attempts, Render.video_state)
            .where(
                Render.video_state.in_(("queued", "rendering")),
                Render.video_updated_at <= before,
            )
            .order_by(Render.video_updated_at)
        ).all()
    result = VideoSweep(stuck=len(rows))
    runs_allowed = settings.render_retries + 1
    again: list[tuple[str, Priority]] = []
    for render_id, attempts, state in rows:
        if int(attempts) >= runs_allowed and _fail(services, render_id, int(attempts), str(state)):
            result.failed.append(render_id)
        elif int(attempts) < runs_allowed:
            again.append((render_id, VIDEO_PRIORITY))
    if again:
        result.requeued = queue.requeue(again)
    if result.requeued or result.failed:
        log.warning(
            "sweeper re-enqueued stuck videos",
            extra={"count": len(result.requeued), "abandoned": len(result.failed)},
        )
    return result


def _fail(services: Services, render_id: str, attempts: int, state: str) -> bool:
    with services.db.session() as session:
        changed = session.execute(
            update(Render)
            .where(
                Render.id == render_id,
                Render.video_state == state,
                Render.video_attempts == attempts,
            )
            .values(video_state="failed", video_updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return getattr(changed, "rowcount", 0) == 1
