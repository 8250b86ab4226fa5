"""The RQ worker billreel runs: it leaves its command channel at once, and forks only when
it serves billing runs."""

from __future__ import annotations

import os
import threading
import time

import pytest
from redis import Redis
from rq import Worker
from rq.serializers import JSONSerializer

from app.worker.main import MAX_NICENESS, RenderWorker
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


def own_niceness() -> int:
    """A job that answers the CPU priority it ran at."""
    return os.nice(0)


def test_a_billing_runs_horse_yields_the_cpu_and_a_customers_does_not(
    redis_server: str,  # noqa: F811
) -> None:
    from rq import Queue

    connection = Redis.from_url(redis_server)
    queues = {name: Queue(name, connection=connection, serializer=JSONSerializer)
              for name in ("ondemand", "batch")}  # fmt: skip
    batch = queues["batch"].enqueue(own_niceness)
    ondemand = queues["ondemand"].enqueue(own_niceness)
    worker = RenderWorker(list(queues.values()), connection=connection, serializer=JSONSerializer)
    worker.batch_niceness = 7
    assert worker.work(burst=True)
    mine = os.nice(0)
    assert ondemand.latest_result().return_value == mine
    assert batch.latest_result().return_value == min(mine + 7, MAX_NICENESS)
    assert os.nice(0) == mine  # the worker itself keeps its priority


def test_batch_niceness_is_checked() -> None:
    from app.worker.main import batch_niceness

    assert batch_niceness(0) == 0
    assert batch_niceness(19) == 19
    for bad in (-1, 20):
        with pytest.raises(ValueError, match="BILLREEL_BATCH_NICENESS"):
            batch_niceness(bad)


def test_a_worker_with_a_bad_niceness_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.worker.main import run

    # run() sets up the process's logging: kept away from pytest's own streams.
    monkeypatch.setattr("app.infra.logs.setup_logging", lambda level: None)
    monkeypatch.setenv("BILLREEL_REDIS_URL", "redis://127.0.0.1:1/0")  # never reached
    monkeypatch.setenv("BILLREEL_BATCH_NICENESS", "25")
    assert run(burst=True) == 2
    assert "BILLREEL_BATCH_NICENESS" in capsys.readouterr().err
