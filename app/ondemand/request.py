"""The first real open of a page asks for its video, exactly once.

One conditional UPDATE (`waiting` → `queued`): of ten customers opening the same fresh link
at once, or of ten API instances answering them, one changes the row and enqueues the job;
the others change nothing. The database decides, not a Redis lock, so a Redis restarted
between the two loses nothing either: the sweeper finds the video `queued` and enqueues it.
A render erased (the row is gone), purged or past retention is never asked for.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import update

from app.infra.database import Render, utcnow
from app.infra.queue import Priority
from app.infra.services import Services

log = logging.getLogger(__name__)

VIDEO_PRIORITY: Priority = "ondemand"  # a customer is watching: ahead of every billing run


def ask_for_video(services: Services, render_id: str, now: datetime | None = None) -> bool:
    """Queue the video of a render made `on_open` if nobody has yet; True when this call did.

    Only a render whose page is done and whose link is live qualifies: the UPDATE itself
    says so, so a purge or an expiry between the caller's look and this call still wins.
    """
    now = now or utcnow()
    oldest = now - timedelta(days=services.settings.link_ttl_days)
    with services.db.session() as session:
        changed = session.execute(
            update(Render)
            .where(
                Render.id == render_id,
                Render.video_state == "waiting",
                Render.status == "done",
                Render.purged_at.is_(None),
                Render.created_at > oldest,
            )
            .values(video_state="queued", video_updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(changed, "rowcount", 0) != 1:
            return False
    queue = services.video_queue
    if queue is not None:
        # After the commit: a worker that takes the job at once finds the row queued.
        queue.enqueue(render_id, VIDEO_PRIORITY)
    log.info("video asked for", extra={"render_id": render_id})
    return True
