"""Where accepted renders wait: RQ on Redis, or an in-process worker on embedded defaults.

Both run `app.jobs.run_render` with the render id and nothing else; the database holds the
render itself, so a job is only ever an id (JSON serializer, no pickles).
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import TYPE_CHECKING, Literal, Protocol

from sqlalchemy import select

from app.db import Render

if TYPE_CHECKING:
    from redis import Redis

    from app.services import Services

log = logging.getLogger(__name__)

Priority = Literal["ondemand", "batch"]
QUEUE_NAMES: tuple[Priority, ...] = ("ondemand", "batch")  # a worker drains them in this order
JOB_FUNCTION = "app.jobs.run_render"


class RenderQueue(Protocol):
    def enqueue(self, render_id: str, priority: Priority) -> None: ...

    def close(self) -> None: ...


class RQRenderQueue:
    """Enqueue to RQ: the job id is the render id, so a render is never queued twice."""

    def __init__(self, services: Services, connection: Redis) -> None:
        from rq import Queue
        from rq.serializers import JSONSerializer

        settings = services.settings
        self._timeout = settings.render_timeout_seconds
        self._result_ttl = settings.result_ttl_seconds
        self._queues = {
            name: Queue(name, connection=connection, serializer=JSONSerializer)
            for name in QUEUE_NAMES
        }

    def enqueue(self, render_id: str, priority: Priority) -> None:
        self._queues[priority].enqueue(
            JOB_FUNCTION,
            render_id,
            job_id=render_id,
            unique=True,
            job_timeout=self._timeout,
            result_ttl=self._result_ttl,
            failure_ttl=self._result_ttl,
        )

    def close(self) -> None:
        return None


class InProcessRenderQueue:
    """Daemon threads that run the job function; on-demand renders jump the batch queue."""

    def __init__(self, services: Services, workers: int) -> None:
        self._services = services
        self._queue: queue.PriorityQueue[tuple[int, int, str]] = queue.PriorityQueue()
        self._counter = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name=f"render-{n}", daemon=True)
            for n in range(max(1, workers))
        ]
        for thread in self._threads:
            thread.start()

    def enqueue(self, render_id: str, priority: Priority) -> None:
        with self._lock:
            self._counter += 1
            order = self._counter
        self._queue.put((QUEUE_NAMES.index(priority), order, render_id))

    def requeue_unfinished(self) -> int:
        """Renders left queued or half-done by a previous process: the database remembers them."""
        with self._services.db.session() as session:
            rows = session.execute(
                select(Render.id, Render.batch_id)
                .where(Render.status.in_(("queued", "rendering")))
                .order_by(Render.created_at)
            ).all()
        for render_id, batch_id in rows:
            self.enqueue(render_id, "batch" if batch_id else "ondemand")
        return len(rows)

    def join(self, timeout: float | None = None) -> bool:
        """Wait until every enqueued render has run; True when the queue drained in time."""
        done = threading.Event()

        def waiter() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=waiter, daemon=True).start()
        return done.wait(timeout)

    def close(self) -> None:
        self._stopping.set()

    def _run(self) -> None:
        from app.jobs import run_render_with

        while not self._stopping.is_set():
            try:
                _, _, render_id = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                run_render_with(self._services, render_id)
            except Exception:
                log.exception("render job crashed", extra={"render_id": render_id})
            finally:
                self._queue.task_done()


def queue_from_services(services: Services) -> RenderQueue:
    settings = services.settings
    if settings.redis_url:
        from redis import Redis

        return RQRenderQueue(services, Redis.from_url(settings.redis_url))
    in_process = InProcessRenderQueue(services, settings.inprocess_workers)
    in_process.requeue_unfinished()
    return in_process
