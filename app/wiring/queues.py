"""A process's render queue, given the job it runs and the sweep that keeps it whole.

The queue (`app.infra.queue`) knows nothing of rendering: RQ gets the job's dotted name, the
in-process queue the job and the sweep themselves.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from app.infra.queue import InProcessRenderQueue, RenderQueue, RQRenderQueue
from app.rendering.job import run_render_with
from app.rendering.sweeper import sweep

if TYPE_CHECKING:
    from redis import Redis

    from app.infra.services import Services

# What an RQ worker imports and calls with a render id. Jobs queued before the package plan
# of 2026-12 name `app.jobs.run_render`; the sweeper gives such renders a fresh job.
JOB_FUNCTION = "app.rendering.job.run_render"


def rq_queue(services: Services, connection: Redis) -> RQRenderQueue:
    return RQRenderQueue(services.settings, connection, JOB_FUNCTION)


def queue_from_services(services: Services) -> RenderQueue:
    """RQ when `BILLREEL_REDIS_URL` is set; else renders run in this process's threads."""
    settings = services.settings
    if settings.redis_url:
        from redis import Redis

        return rq_queue(services, Redis.from_url(settings.redis_url))
    in_process = InProcessRenderQueue(
        services.db,
        settings.inprocess_workers,
        run=partial(run_render_with, services),
        sweep=partial(sweep, services),
        sweep_interval_seconds=settings.sweep_interval_seconds,
    )
    in_process.requeue_unfinished()
    return in_process
