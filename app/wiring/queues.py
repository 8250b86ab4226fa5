"""A process's render queue, given the job it runs and the sweep that keeps it whole.

The queue (`app.infra.queue`) knows nothing of rendering: RQ gets the job's dotted name, the
in-process queue the job and the sweep themselves.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from app.infra.queue import InProcessRenderQueue, RenderQueue, RQRenderQueue
from app.ondemand.job import run_video_with
from app.ondemand.sweeper import sweep_videos
from app.rendering.job import run_render_with
from app.rendering.sweeper import sweep

if TYPE_CHECKING:
    from redis import Redis

    from app.infra.services import Services

# What an RQ worker imports and calls with a render id. Jobs queued before the package plan
# of 2026-12 name `app.jobs.run_render`; the sweeper gives such renders a fresh job.
JOB_FUNCTION = "app.rendering.job.run_render"
# The job of a video made on open (`app.ondemand`), with its own job ids beside the render's.
VIDEO_JOB_FUNCTION = "app.ondemand.job.run_video"
VIDEO_JOB_PREFIX = "video-"
VIDEO_WORKERS = 1  # in-process: one thread codes videos (the render threads make pages)


def rq_queue(services: Services, connection: Redis) -> RQRenderQueue:
    return RQRenderQueue(services.settings, connection, JOB_FUNCTION)


def rq_video_queue(services: Services, connection: Redis) -> RQRenderQueue:
    return RQRenderQueue(services.settings, connection, VIDEO_JOB_FUNCTION, VIDEO_JOB_PREFIX)


def video_queue_from_services(services: Services) -> RenderQueue:
    """The queue of on-demand videos: RQ's `ondemand` queue with Redis, else a thread here."""
    settings = services.settings
    if settings.redis_url:
        from redis import Redis

        return rq_video_queue(services, Redis.from_url(settings.redis_url))
    in_process = InProcessRenderQueue(
        services.db,
        VIDEO_WORKERS,
        run=partial(run_video_with, services),
        sweep=partial(sweep_videos, services),
        sweep_interval_seconds=settings.sweep_interval_seconds,
    )
    sweep_videos(services, in_process, stuck_after_seconds=0)  # those a previous process left
    return in_process


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
