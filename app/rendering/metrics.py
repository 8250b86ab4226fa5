"""Prometheus metrics of rendering that add up across processes and machines.

The API serves them at `/metrics` (`app.api.metrics`).

Workers run on other machines, and RQ runs each render in a forked work horse, so nothing
is kept in a process's memory. Every render adds its duration (a histogram by outputs and
outcome) and failure reason to counters in Redis, in one transaction; the API reads them at
scrape time, with the queue depth and workers (Redis) and renders by status and stuck
renders (the database). Counters in Redis survive an API restart; a Redis restart resets
them, which Prometheus reads as a counter reset. Without Redis (embedded defaults: the
renders run in the API process) the same counters live in that process's memory.

Redis keys: `billreel:metrics:render_seconds` (fields `OUTPUTS|STATUS|BUCKET`, `...|sum`,
`...|count`) and `billreel:metrics:render_failures` (field: the reason).
"""

from __future__ import annotations

import bisect
import functools
import logging
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from sqlalchemy import func, select

from app.infra.database import RENDER_STATUSES, Render, utcnow

if TYPE_CHECKING:
    from redis import Redis

    from app.infra.services import Services
    from app.infra.settings import Settings

log = logging.getLogger(__name__)

# Upper bounds (seconds) of the render duration buckets: a microsite takes ~1 s, a 30 s video
# 10-60 s on two cores; past the render timeout (600 s) a job is killed.
RENDER_BUCKETS_SECONDS = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 300.0, 600.0)
RENDER_SECONDS_KEY = "billreel:metrics:render_seconds"
RENDER_FAILURES_KEY = "billreel:metrics:render_failures"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Counters(Protocol):
    """Hashes of float counters: Redis (shared by every process) or one process's memory."""

    def add(self, key: str, amounts: Mapping[str, float]) -> None: ...

    def read(self, key: str) -> dict[str, float]: ...


class RedisCounters:
    def __init__(self, connection: Redis) -> None:
        self._redis = connection

    def add(self, key: str, amounts: Mapping[str, float]) -> None:
        pipe = self._redis.pipeline(transaction=True)  # all of one observation, or none
        for name, amount in amounts.items():
            pipe.hincrbyfloat(key, name, amount)
        pipe.execute()

    def read(self, key: str) -> dict[str, float]:
        raw: dict[Any, Any] = self._redis.hgetall(key)
        return {_text(name): float(value) for name, value in raw.items()}


class MemoryCounters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, dict[str, float]] = {}

    def add(self, key: str, amounts: Mapping[str, float]) -> None:
        with self._lock:
            values = self._values.setdefault(key, {})
            for name, amount in amounts.items():
                values[name] = values.get(name, 0.0) + amount

    def read(self, key: str) -> dict[str, float]:
        with self._lock:
            return dict(self._values.get(key, {}))


_memory = MemoryCounters()


@functools.cache
def _redis(url: str) -> Redis:
    from redis import Redis

    return Redis.from_url(url)


def counters_for(settings: Settings) -> Counters:
    if settings.redis_url:
        return RedisCounters(_redis(settings.redis_url))
    return _memory


def outputs_label(outputs: Iterable[str]) -> str:
    return ",".join(sorted(outputs)) or "none"


def observe_render(
    services: Services, outputs: Iterable[str], status: str, reason: str | None, seconds: float
) -> None:
    """Count one render run. Never raises: a metric must not fail a render."""
    series = f"{outputs_label(outputs)}|{status}"
    index = bisect.bisect_left(RENDER_BUCKETS_SECONDS, seconds)
    bucket = _le(RENDER_BUCKETS_SECONDS[index]) if index < len(RENDER_BUCKETS_SECONDS) else "+Inf"
    try:
        counters = counters_for(services.settings)
        counters.add(
            RENDER_SECONDS_KEY,
            {f"{series}|{bucket}": 1, f"{series}|sum": seconds, f"{series}|count": 1},
        )
        if reason is not None:
            counters.add(RENDER_FAILURES_KEY, {reason: 1})
    except Exception:  # Redis restarting: this one observation is lost, the render is not
        log.warning("render metrics not recorded", exc_info=True)


def _le(bound: float) -> str:
    text: str = floatToGoString(bound)  # type: ignore[no-untyped-call]  # "30.0", as its own
    return text


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# --- What the API reads at scrape time (also used by `billreel status`) -------------------


@dataclass
class QueueState:
    name: str
    waiting: int  # jobs in the queue
    started: int = 0  # being rendered now
    scheduled: int = 0  # waiting for a retry's backoff
    failed: int = 0  # in RQ's failed registry (the database holds the render's error)


@dataclass
class WorkerState:
    name: str
    hostname: str
    state: str
    current_job: str | None
    last_heartbeat: str | None
    queues: list[str] = field(default_factory=list)


def queue_states(services: Services) -> list[QueueState]:
    """Per queue: waiting, started, scheduled and failed jobs (RQ), or the in-process queue."""
    from app.infra.queue import QUEUE_NAMES

    settings = services.settings
    if not settings.redis_url:
        depth: dict[str, int] = {}
        if services.queue is not None:
            depth = services.queue.depth()
        return [QueueState(name, depth.get(name, 0)) for name in QUEUE_NAMES]
    from rq import Queue
    from rq.serializers import JSONSerializer

    connection = _redis(settings.redis_url)
    states = []
    for name in QUEUE_NAMES:
        queue = Queue(name, connection=connection, serializer=JSONSerializer)
        states.append(
            QueueState(
                name,
                waiting=queue.count,
                started=queue.started_job_registry.count,
                scheduled=queue.scheduled_job_registry.count,
                failed=queue.failed_job_registry.count,
            )
        )
    return states


def worker_states(services: Services) -> list[WorkerState]:
    """RQ workers registered in Redis (each one heartbeats; a dead one expires)."""
    if not services.settings.redis_url:
        return []
    from rq import Worker

    workers = Worker.all(connection=_redis(services.settings.redis_url))
    return [
        WorkerState(
            name=worker.name,
            hostname=_text(worker.hostname or ""),
            state=_text(worker.get_state()),
            current_job=worker.get_current_job_id(),
            last_heartbeat=worker.last_heartbeat.isoformat() if worker.last_heartbeat else None,
            queues=worker.queue_names(),
        )
        for worker in sorted(workers, key=lambda w: w.name)
    ]


def render_counts(services: Services) -> dict[str, int]:
    """Renders in the database by status."""
    with services.db.session() as session:
        rows = session.execute(select(Render.status, func.count()).group_by(Render.status)).all()
    counts = dict.fromkeys(RENDER_STATUSES, 0)
    counts.update({status: int(count) for status, count in rows})
    return counts


def stuck_count(services: Services) -> int:
    """Renders queued or rendering with no change for the stuck bound (the sweeper's work)."""
    before = utcnow() - timedelta(seconds=services.settings.stuck_after_seconds)
    query = select(func.count()).where(
        Render.status.in_(("queued", "rendering")), Render.updated_at <= before
    )
    with services.db.session() as session:
        return int(session.execute(query).scalar_one())


@dataclass
class StuckRender:
    id: str
    status: str
    updated_at: str
    attempts: int


def stuck_renders(services: Services, limit: int) -> list[StuckRender]:
    """The longest-stuck renders first (what `billreel status` lists)."""
    before = utcnow() - timedelta(seconds=services.settings.stuck_after_seconds)
    query = (
        select(Render.id, Render.status, Render.updated_at, Render.attempts)
        .where(Render.status.in_(("queued", "rendering")), Render.updated_at <= before)
        .order_by(Render.updated_at)
        .limit(limit)
    )
    with services.db.session() as session:
        rows = session.execute(query).all()
    return [StuckRender(r.id, r.status, r.updated_at.isoformat(), r.attempts) for r in rows]


class BillreelCollector(Collector):
    def __init__(self, services: Services) -> None:
        self._services = services

    def collect(self) -> Iterator[Metric]:
        services = self._services
        counters = counters_for(services.settings)
        yield from _render_histogram(counters.read(RENDER_SECONDS_KEY))
        failures = CounterMetricFamily(
            "billreel_render_failures", "Failed render runs by reason", labels=["reason"]
        )
        for reason, count in sorted(counters.read(RENDER_FAILURES_KEY).items()):
            failures.add_metric([reason], count)
        yield failures
        depth = GaugeMetricFamily(
            "billreel_queue_depth", "Render jobs waiting in each queue", labels=["queue"]
        )
        started = GaugeMetricFamily(
            "billreel_queue_started", "Render jobs being run, by queue", labels=["queue"]
        )
        scheduled = GaugeMetricFamily(
            "billreel_queue_scheduled",
            "Render jobs waiting for a retry, by queue",
            labels=["queue"],
        )
        for state in queue_states(services):
            depth.add_metric([state.name], state.waiting)
            started.add_metric([state.name], state.started)
            scheduled.add_metric([state.name], state.scheduled)
        yield from (depth, started, scheduled)
        yield GaugeMetricFamily(
            "billreel_workers", "RQ workers alive", value=len(worker_states(services))
        )
        renders = GaugeMetricFamily(
            "billreel_renders", "Renders in the database by status", labels=["status"]
        )
        for status, count in render_counts(services).items():
            renders.add_metric([status], count)
        yield renders
        yield GaugeMetricFamily(
            "billreel_renders_stuck",
            "Renders queued or rendering past the stuck bound",
            value=stuck_count(services),
        )


def _render_histogram(values: dict[str, float]) -> Iterator[Metric]:
    histogram = HistogramMetricFamily(
        "billreel_render_seconds",
        "Wall time of one render run, by its outputs and outcome",
        labels=["outputs", "status"],
    )
    series = sorted({name.rsplit("|", 1)[0] for name in values})
    for name in series:
        outputs, status = name.split("|", 1)
        cumulative = 0.0
        buckets = []
        for bound in RENDER_BUCKETS_SECONDS:
            cumulative += values.get(f"{name}|{_le(bound)}", 0.0)
            buckets.append((_le(bound), cumulative))
        buckets.append(("+Inf", values.get(f"{name}|count", 0.0)))
        histogram.add_metric([outputs, status], buckets, values.get(f"{name}|sum", 0.0))
    yield histogram


def metrics_text(services: Services) -> bytes:
    """The Prometheus text exposition for `/metrics`."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BillreelCollector(services))
    return generate_latest(registry)
