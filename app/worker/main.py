"""A render worker: settings from the environment, Redis, and an RQ worker on both queues.

Run as `billreel worker` or `python worker.py`. Jobs carry only a render id; the job
function builds its services from the same environment. The worker listens on
["ondemand", "batch"] in that order (on-demand first), runs RQ's scheduler (it re-queues a
render after a transient error, with backoff), the webhook dispatcher and the sweeper.
SIGTERM is RQ's warm shutdown: the render under way finishes, then the worker exits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from typing import Any

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import SimpleWorker, Worker
from rq.worker import BaseWorker

from app.infra.queue import QUEUE_NAMES
from app.infra.settings import Settings

VIDEO_SWEEP_LOCK_KEY = "billreel:sweeper:videos"  # one video sweeper at a time, fleet-wide
# Evicting keys would silently drop queued jobs: only `noeviction` is safe for a queue.
SAFE_MAXMEMORY_POLICY = "noeviction"
REDIS_RETRY_MAX_SECONDS = 5.0  # longest wait between two tries to reach a lost Redis
MAX_NICENESS = 19  # the lowest CPU priority Linux has
PUBSUB_READ_SECONDS = 1.0  # the longest a stopping worker waits for its command channel

log = logging.getLogger("billreel.worker")


class _Stoppable(BaseWorker):
    """RQ's worker, remembering whether a signal asked it to stop (SIGTERM, SIGINT).

    Its command channel (RQ's pub/sub thread) reads with a short timeout. At shutdown RQ
    unsubscribes, then stops that thread and waits for it (redis-py 8.2 waits with no
    limit); when the thread reads the unsubscribe reply before the stop, it waits one whole
    read timeout for a subscription that never comes: RQ's 60 s outlast a container's
    grace period, so a warm shutdown became a SIGKILL.
    """

    stopping = False

    def request_stop(self, signum: Any, frame: Any) -> None:
        self.stopping = True
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]

    def subscribe(self) -> None:
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]
            sleep_time=PUBSUB_READ_SECONDS,
            daemon=True,
            exception_handler=self._pubsub_exception_handler,
        )


class RenderWorker(_Stoppable, Worker):
    """A job a work horse: RQ forks one per job, so a crash or a leak ends with its job.

    A billing run's horse lowers its own CPU priority (`batch_niceness`, and so do the ffmpeg
    and eSpeak NG it starts): on a machine shared with an on-demand worker or the API, a
    customer waiting for a first frame takes the CPU first, and the run still has every
    cycle nobody is waiting for. The horse ends with its job, so the worker keeps its own.
    """

    batch_niceness = 0

    def main_work_horse(self, job: Any, queue: Any) -> None:
        if queue.name != "ondemand" and self.batch_niceness:
            os.nice(self.batch_niceness)
        super().main_work_horse(job, queue)


class InProcessRenderWorker(_Stoppable, SimpleWorker):
    """Jobs run in the worker process itself, warm: no fork and no cold horse per job."""


def run(burst: bool = False) -> int:
    from app.infra.logs import setup_logging

    settings = Settings.from_env()
    setup_logging(settings.log_level)
    if not settings.redis_url:
        print(
            "billreel worker: set BILLREEL_REDIS_URL "
            "(without it `billreel serve` renders in-process)",
            file=sys.stderr,
        )
        return 2
    if settings.workers > 1:  # BILLREEL_WORKERS: several worker processes in this container
        from app.worker.pool import run_pool

        return run_pool(settings.workers, burst)
    from rq.serializers import JSONSerializer

    try:
        queues = worker_queues(settings.worker_queues)
        niceness = batch_niceness(settings.batch_niceness)
    except ValueError as exc:
        print(f"billreel worker: {exc}", file=sys.stderr)
        return 2
    connection = Redis.from_url(settings.redis_url)
    if _refuse_evicting_redis(connection):
        return 2
    # Everything a job imports is imported here, before the dispatcher and sweeper threads
    # start: a work horse forked while a thread held a module's import lock would hang for
    # ever on that import. Horses also start faster with the renderers already loaded.
    import app.ondemand.job
    import app.rendering.job
    from app.infra.services import Services
    from app.ondemand.sweeper import sweep_videos
    from app.rendering.sweeper import start_sweeper_thread
    from app.webhooks.dispatcher import start_dispatcher
    from app.webhooks.signing import webhook_secrets
    from app.wiring import rq_queue, rq_video_queue
    from renderers.warm import warm_up

    warm_up()  # bundles, locale data, font maps: loaded once here, not again by every horse
    webhook_secrets(settings)
    services = Services.build(settings)
    app.rendering.job.share_with_work_horses(services)
    app.ondemand.job.share_with_work_horses(services)
    app.rendering.job.remove_stale_workdirs(settings)
    start_dispatcher(services)
    if not burst:
        start_sweeper_thread(services, rq_queue(services, connection))
        start_sweeper_thread(
            services, rq_video_queue(services, connection), sweep_videos, VIDEO_SWEEP_LOCK_KEY
        )
    while True:
        worker = worker_class(queues)(queues, connection=connection, serializer=JSONSerializer)
        if isinstance(worker, RenderWorker):
            worker.batch_niceness = niceness
        with contextlib.suppress(RedisConnectionError):  # RQ's teardown could not reach it
            worker.work(burst=burst, with_scheduler=True, logging_level=settings.log_level.upper())
        if burst or worker.stopping:
            return 0
        # RQ leaves its loop when Redis goes away mid-job (a restart, a failover). The database
        # keeps every render, so a fresh RQ worker on the same queues loses nothing.
        log.error("lost Redis; a new RQ worker starts once it answers again")
        if not _wait_for_redis(connection, worker):
            return 0
        if _refuse_evicting_redis(connection):  # the Redis that came back may be set up anew
            return 2


def worker_class(queues: list[str]) -> type[_Stoppable]:
    """A worker kept for customers (`ondemand` alone) runs its jobs in its own warm process:
    a person is waiting for the first frame, and a fork per job (and a horse with cold
    caches) was a tenth to a third of a second of it. Any other worker forks a horse per job,
    so a billing run's crash or leak ends with its job."""
    return InProcessRenderWorker if queues == ["ondemand"] else RenderWorker


def worker_queues(setting: str) -> list[str]:
    """The queues BILLREEL_WORKER_QUEUES names, in the order given (on-demand first)."""
    names = [name.strip() for name in setting.split(",") if name.strip()]
    unknown = sorted(set(names) - set(QUEUE_NAMES))
    if not names or unknown or len(set(names)) != len(names):
        raise ValueError(
            f"setting BILLREEL_WORKER_QUEUES: {setting!r} must name some of {list(QUEUE_NAMES)}, "
            "each once"
        )
    return names


def batch_niceness(setting: int) -> int:
    """BILLREEL_BATCH_NICENESS: how much lower a billing run's work runs (nice(1): 0-19)."""
    if not 0 <= setting <= MAX_NICENESS:
        raise ValueError(
            f"setting BILLREEL_BATCH_NICENESS: {setting} must be from 0 (off) to {MAX_NICENESS}"
        )
    return setting


def _refuse_evicting_redis(connection: Redis) -> bool:
    """True (and says why on stderr) when Redis may evict keys, i.e. drop queued jobs."""
    policy = connection.config_get("maxmemory-policy").get(
        "maxmemory-policy", SAFE_MAXMEMORY_POLICY
    )
    if policy == SAFE_MAXMEMORY_POLICY:
        return False
    print(
        f"billreel worker: Redis maxmemory-policy is {policy!r}; it must be "
        f"{SAFE_MAXMEMORY_POLICY!r} or queued renders could be evicted",
        file=sys.stderr,
    )
    return True


def _wait_for_redis(connection: Redis, worker: _Stoppable) -> bool:
    """Wait with backoff until Redis answers; False when a signal asked to stop meanwhile."""
    delay = 0.5
    while not worker.stopping:
        try:
            connection.ping()
            return True
        except (RedisConnectionError, RedisTimeoutError):
            time.sleep(delay)
            delay = min(delay * 2, REDIS_RETRY_MAX_SECONDS)
    return False


if __name__ == "__main__":
    sys.exit(run(burst="--burst" in sys.argv[1:]))
