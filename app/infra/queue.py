"""Where accepted renders wait: RQ on Redis, or an in-process worker on embedded defaults.

Both run the render job (`app.rendering.job`, handed in by `app.wiring.queues`) with the render
id and nothing else; the database holds the render itself, so a job is only ever an id (JSON
serializer, no pickles).

On-demand renders are never starved by a billing run: an RQ worker listens on
["ondemand", "batch"] and RQ pops with BLPOP over the keys in that order, so a waiting
on-demand job is always taken before the next batch job (tests/infra/test_queue_rq.py shows it).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from sqlalchemy import select

from app.infra.database import Render

if TYPE_CHECKING:
    from redis import Redis
    from rq import Retry

    from app.infra.database import Database
    from app.infra.settings import Settings

log = logging.getLogger(__name__)

Priority = Literal["ondemand", "batch"]
QUEUE_NAMES: tuple[Priority, ...] = ("ondemand", "batch")  # a worker drains them in this order
# RQ's waits before re-running a render that raised TransientError (storage, voice service).
RETRY_INTERVALS_SECONDS = (10, 60, 300)
# How long a job may wait in its queue before Redis drops it. The database still says
# `queued`, so the sweeper gives such a render a fresh job; the bound only keeps orphans
# (a render erased while its job waited) from living in Redis for ever.
ONDEMAND_WAIT_TTL_SECONDS = 24 * 3600
BATCH_WAIT_TTL_SECONDS = 7 * 24 * 3600  # a billing run may queue far longer than a click
FAILURE_TTL_SECONDS = 7 * 24 * 3600  # a failed job stays in Redis this long, for inspection

# `enqueue_many`: RQ's job hash is written by a script from one job's shared fields and each
# render's own; a job of an existing id is left as it is (RQ's unique enqueue).
BULK_ENQUEUE_JOBS = 500  # jobs per script call: Redis is never held long by one
TEMPLATE_ID = "rnd_0000template0000"  # the id of the job whose fields are shared
PER_JOB_FIELDS = frozenset({"data", "description"})  # besides the id, all a render changes
BULK_ENQUEUE_SCRIPT = """
-- KEYS[1] the queue; ARGV: job key prefix, ttl (-1: none), n, n shared field/value
-- items, then (id, data, description) for each job
local prefix, ttl, n = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local shared = {}
for i = 4, 3 + n do shared[#shared + 1] = ARGV[i] end
local saved = 0
for i = 4 + n, #ARGV, 3 do
  local key = prefix .. ARGV[i]
  if redis.call("EXISTS", key) == 0 then
    redis.call("HSET", key, "data", ARGV[i + 1], "description", ARGV[i + 2], unpack(shared))
    if ttl > 0 then redis.call("EXPIRE", key, ttl) end
    redis.call("RPUSH", KEYS[1], ARGV[i])
    saved = saved + 1
  end
end
return saved
"""


@dataclass(frozen=True)
class QueuePolicy:
    """Timeouts and TTLs (seconds) for the jobs of one queue."""

    job_timeout: int  # one run; past it RQ kills the work horse
    ttl: int  # waiting in the queue
    result_ttl: int  # a finished job's record
    failure_ttl: int  # a failed job's record


def queue_policies(settings: Settings) -> dict[Priority, QueuePolicy]:
    """Per queue: a billing run's finished jobs leave Redis sooner (100,000 of them add up)."""
    return {
        "ondemand": QueuePolicy(
            job_timeout=settings.render_timeout_seconds,
            ttl=ONDEMAND_WAIT_TTL_SECONDS,
            result_ttl=settings.result_ttl_seconds,
            failure_ttl=FAILURE_TTL_SECONDS,
        ),
        "batch": QueuePolicy(
            job_timeout=settings.render_timeout_seconds,
            ttl=BATCH_WAIT_TTL_SECONDS,
            result_ttl=settings.batch_result_ttl_seconds,
            failure_ttl=FAILURE_TTL_SECONDS,
        ),
    }


class RenderQueue(Protocol):
    def enqueue(self, render_id: str, priority: Priority) -> None: ...

    def enqueue_many(self, render_ids: Sequence[str], priority: Priority) -> None:
        """Enqueue new renders at once (a chunk of a billing run)."""
        ...

    def requeue(self, renders: Sequence[tuple[str, Priority]]) -> list[str]:
        """Enqueue again those whose job is not still waiting; returns the ids enqueued."""
        ...

    def depth(self) -> dict[str, int]: ...

    def close(self) -> None: ...


class RQRenderQueue:
    """Enqueue to RQ: the job id is the render id, so a render is never queued twice.

    `job_function` is the dotted name a worker imports and calls with the render id;
    `job_prefix` goes before the render id in the job's id, for a second job of the same
    render (its on-demand video) beside the first.
    """

    def __init__(
        self, settings: Settings, connection: Redis, job_function: str, job_prefix: str = ""
    ) -> None:
        from rq import Queue
        from rq.serializers import JSONSerializer

        self.policies = queue_policies(settings)
        self._retries = settings.render_retries
        self._job_function = job_function
        self._prefix = job_prefix
        self.connection = connection
        self._queues = {
            name: Queue(name, connection=connection, serializer=JSONSerializer)
            for name in QUEUE_NAMES
        }

    def _retry(self) -> Retry | None:
        from rq import Retry

        if self._retries <= 0:
            return None
        return Retry(max=self._retries, interval=list(RETRY_INTERVALS_SECONDS[: self._retries]))

    def enqueue(self, render_id: str, priority: Priority) -> None:
        policy = self.policies[priority]
        self._queues[priority].enqueue(
            self._job_function,
            render_id,
            job_id=self._prefix + render_id,
            unique=True,
            job_timeout=policy.job_timeout,
            ttl=policy.ttl,
            result_ttl=policy.result_ttl,
            failure_ttl=policy.failure_ttl,
            retry=self._retry(),
        )

    def enqueue_many(self, render_ids: Sequence[str], priority: Priority) -> None:
        """The same jobs as `enqueue`, unique too, a few hundred per round trip.

        RQ writes a job as one hash of some twenty fields, of which only the render id, the
        call's data and its description differ between renders. One job is made by RQ
        itself; its fields are sent once per script call, with each render's three own
        values, and a Lua script writes the hashes and queues the ids where a job of that
        id does not exist yet (`BULK_ENQUEUE_SCRIPT`). A million renders cost seconds of
        Redis, not minutes of packing fifty arguments per job (tests/infra/test_queue_rq.py
        checks that the hashes are RQ's own).
        """
        from rq.serializers import JSONSerializer
        from rq.utils import now

        if not render_ids:
            return
        if self._prefix:  # job ids are render ids here; videos are enqueued one by one
            raise ValueError("enqueue_many does not take a job prefix")
        queue = self._queues[priority]
        policy = self.policies[priority]
        template = queue.create_job(
            self._job_function,
            args=[TEMPLATE_ID],
            job_id=TEMPLATE_ID,
            timeout=policy.job_timeout,
            ttl=policy.ttl,
            result_ttl=policy.result_ttl,
            failure_ttl=policy.failure_ttl,
            retry=self._retry(),
        )
        template.enqueued_at = now()
        shared: list[str | bytes] = []
        for name, value in template.to_dict().items():
            if value is None or name in PER_JOB_FIELDS:
                continue
            # As RQ's own unique enqueue sends them: text and bytes as they are (a status
            # is a str enum), anything else as its str().
            shared += [name, value if isinstance(value, str | bytes) else str(value)]
        description = template.description or ""
        script = self.connection.register_script(BULK_ENQUEUE_SCRIPT)
        pipe = self.connection.pipeline(transaction=False)
        pipe.sadd(queue.redis_queues_keys, queue.key)
        ttl = policy.ttl if policy.ttl is not None else -1
        head = [template.key.removesuffix(TEMPLATE_ID), ttl, len(shared), *shared]
        for start in range(0, len(render_ids), BULK_ENQUEUE_JOBS):
            own: list[str | bytes] = []
            for render_id in render_ids[start : start + BULK_ENQUEUE_JOBS]:
                # The call as RQ's Job.data holds it: (function, instance, args, kwargs).
                call: tuple[str, None, list[str], dict[str, str]] = (
                    self._job_function, None, [render_id], {},
                )  # fmt: skip
                own += [
                    render_id,
                    zlib.compress(JSONSerializer.dumps(call)),  # type: ignore[no-untyped-call]
                    description.replace(TEMPLATE_ID, render_id),
                ]
            script(keys=[queue.key], args=[*head, *own], client=pipe)
        saved = sum(int(n) for n in pipe.execute()[1:])
        if saved < len(render_ids):  # the job already exists: it stands, nothing is lost
            log.warning("jobs already enqueued", extra={"count": len(render_ids) - saved})

    def requeue(self, renders: Sequence[tuple[str, Priority]]) -> list[str]:
        """Fresh jobs for renders whose job is lost (Redis restarted), dead or over.

        One pipelined read of the jobs' statuses, so a sweep over a long billing run stays
        cheap; a job still waiting (queued, scheduled for a retry) is left alone.
        """
        from rq.exceptions import DuplicateJobError, NoSuchJobError
        from rq.job import Job
        from rq.serializers import JSONSerializer

        pipe = self.connection.pipeline(transaction=False)
        for render_id, _ in renders:
            pipe.hget(Job.key_for(self._prefix + render_id), "status")
        statuses = pipe.execute()
        requeued = []
        for (render_id, priority), raw in zip(renders, statuses, strict=True):
            status = raw.decode() if isinstance(raw, bytes) else raw
            if status in ("queued", "scheduled", "deferred"):
                continue
            if status is not None:
                # Started long past the stuck bound (its worker died), or over while the
                # database says otherwise: the database wins and the job starts again.
                with contextlib.suppress(NoSuchJobError):
                    job_id = self._prefix + render_id
                    Job.fetch(job_id, self.connection, serializer=JSONSerializer).delete()
            try:
                self.enqueue(render_id, priority)
            except DuplicateJobError:  # another sweeper was quicker
                continue
            requeued.append(render_id)
        return requeued

    def depth(self) -> dict[str, int]:
        return {name: queue.count for name, queue in self._queues.items()}

    def close(self) -> None:
        return None


RunRender = Callable[[str], object]  # renders one render id
Sweep = Callable[["RenderQueue"], object]  # hands this queue's stuck renders back to it


class InProcessRenderQueue:
    """Daemon threads that run renders; on-demand renders jump the batch queue.

    `run` renders one render id; `sweep` runs every `sweep_interval_seconds`.
    """

    def __init__(
        self,
        db: Database,
        workers: int,
        run: RunRender,
        sweep: Sweep,
        sweep_interval_seconds: float,
    ) -> None:
        self._db = db
        self._run_render = run
        self._sweep_stuck = sweep
        self._sweep_interval = sweep_interval_seconds
        self._queue: queue.PriorityQueue[tuple[int, int, str]] = queue.PriorityQueue()
        self._counter = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._pending: dict[str, Priority] = {}  # enqueued and not yet run
        self._threads = [
            threading.Thread(target=self._run, name=f"render-{n}", daemon=True)
            for n in range(max(1, workers))
        ]
        self._threads.append(threading.Thread(target=self._sweep, name="sweeper", daemon=True))
        for thread in self._threads:
            thread.start()

    def enqueue(self, render_id: str, priority: Priority) -> None:
        with self._lock:
            self._counter += 1
            order = self._counter
            self._pending[render_id] = priority
        self._queue.put((QUEUE_NAMES.index(priority), order, render_id))

    def enqueue_many(self, render_ids: Sequence[str], priority: Priority) -> None:
        for render_id in render_ids:
            self.enqueue(render_id, priority)

    def requeue(self, renders: Sequence[tuple[str, Priority]]) -> list[str]:
        with self._lock:
            fresh = [(rid, prio) for rid, prio in renders if rid not in self._pending]
        for render_id, priority in fresh:
            self.enqueue(render_id, priority)
        return [render_id for render_id, _ in fresh]

    def depth(self) -> dict[str, int]:
        with self._lock:
            priorities = list(self._pending.values())
        return {name: priorities.count(name) for name in QUEUE_NAMES}

    def requeue_unfinished(self) -> int:
        """Renders left queued or half-done by a previous process: the database remembers them."""
        with self._db.session() as session:
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
        while not self._stopping.is_set():
            try:
                _, _, render_id = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            with self._lock:
                self._pending.pop(render_id, None)
            try:
                self._run_render(render_id)
            except Exception:
                # A transient error left the render queued: the sweeper takes it up again.
                log.exception("render job crashed", extra={"render_id": render_id})
            finally:
                self._queue.task_done()

    def _sweep(self) -> None:
        while not self._stopping.wait(self._sweep_interval):
            try:
                self._sweep_stuck(self)
            except Exception:
                log.exception("sweeper failed")
