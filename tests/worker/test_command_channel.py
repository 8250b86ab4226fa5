"""The RQ worker billreel runs: it leaves its command channel at once, and forks only when
it serves billing runs."""

from __future__ import annotations

import threading
import time

from redis import Redis
from rq import Worker
from rq.serializers import JSONSerializer

from app.worker.main import RenderWorker
from tests.realparts import redis_server  # noqa: F401 (fixture)

# Far below RQ's own 60 s read timeout, far above the worker's 1 s on a loaded machine.
STOP_WITHIN_SECONDS = 20.0


def unsubscribes_in_time(worker: Worker) -> bool:
    """Subscribe, lose the race RQ's shutdown can lose, then unsubscribe: done in time?"""
    worker.subscribe()
    # RQ unsubscribes, then stops the thread: here the thread has read the unsubscribe reply
    # first, and waits out its read timeout for a subscription that never comes.
    worker.pubsub.unsubscribe()
    deadline = time.monotonic() + STOP_WITHIN_SECONDS
    while worker.pubsub.subscribed:
        assert time.monotonic() < deadline, "the unsubscribe reply never came"
        time.sleep(0.05)
    done = threading.Event()
    threading.Thread(target=lambda: (worker.unsubscribe(), done.set()), daemon=True).start()
    return done.wait(STOP_WITHIN_SECONDS)


def test_the_render_worker_stops_its_command_channel_at_once(redis_server: str) -> None:  # noqa: F811
    connection = Redis.from_url(redis_server)
    worker = RenderWorker(["ondemand"], connection=connection, serializer=JSONSerializer)
    assert unsubscribes_in_time(worker)
    assert not worker.pubsub_thread.is_alive()


def test_a_worker_kept_for_customers_runs_its_jobs_in_process() -> None:
    from rq import SimpleWorker

    from app.worker.main import worker_class

    assert issubclass(worker_class(["ondemand"]), SimpleWorker)  # no fork: the warm process
    for queues in (["ondemand", "batch"], ["batch"], ["batch", "ondemand"]):
        assert worker_class(queues) is RenderWorker  # a horse per job
