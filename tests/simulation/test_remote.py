"""A run through a service reached by its URL (`remote.RemoteService`, what `billreel
simulate --url` uses): the app served over a socket by waitress with its own scheduler
thread and in-process worker, as an embedded `billreel serve` runs them, in this process so
no second interpreter has to start. The run only moves the clock file and calls the API;
the service decides the steps and makes the renders, and its report is the ground truth's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from waitress.server import create_server

from app.access.keys import create_key
from app.infra import clock
from app.infra.settings import Settings
from app.journeys.scheduler import start_scheduler
from app.simulation.calls import SimulationInputError
from app.simulation.remote import RemoteService
from app.simulation.run import Config, simulate
from app.simulation.summary import differences
from app.templates.store import create_draft, publish
from app.wiring import create_app


@pytest.fixture
def served(tmp_path: Path) -> Iterator[RemoteService]:
    clock_file = tmp_path / "clock"
    clock.write_offset(clock_file, 0.0)
    settings = Settings(
        data_dir=tmp_path / "var",
        clock_file=clock_file,
        scheduler_poll_seconds=0.05,
        inprocess_workers=2,
        rate_limit="100000/minute",  # the run polls bills' journeys while it waits
    )
    app = create_app(settings)
    services = app.extensions["billreel"]
    # The treatment version, published without the preview checks as the experiment tests do.
    create_draft(services, "bill-explainer", author="test", from_number=1)
    publish(services, "bill-explainer", 2, author="test")
    publish(services, "bill-explainer", 1, author="test")
    key = create_key(services.db, "simulation", "admin")
    stop_scheduler = start_scheduler(services, services.queue)
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    remote = RemoteService(f"http://127.0.0.1:{server.effective_port}", key, clock_file,
                           poll_seconds=0.02, wait_seconds=60)  # fmt: skip
    try:
        yield remote
    finally:
        remote.close()
        stop_scheduler.set()
        server.close()
        thread.join(timeout=10)
        services.queue.close()
        services.db.dispose()
        clock.configure(None)


def test_a_run_through_a_served_service_reports_what_its_ground_truth_does(
    served: RemoteService,
) -> None:
    config = Config(customers=16, seed=5, lift_points=20, steps=(-3, 1), step_hours=6,
                    treatment="bill-explainer@2")  # fmt: skip
    result = simulate(config, served)
    assert differences(result.report, result.ground_truth) == []
    arms = result.report["arms"]
    assert [a["version"] for a in arms] == ["bill-explainer@1", "bill-explainer@2"]
    assert sum(a["customers"] for a in arms) == 16
    # The service's own scheduler sent the reminders (more renders than customers), and each
    # bill is counted once however many reminders it got.
    assert len(result.delivered) > 16 and sum(a["bills"] for a in arms) == 16
    assert result.figures["groups"][0]["bills"] == 16


def test_a_served_service_cannot_be_skewed(served: RemoteService) -> None:
    with pytest.raises(SimulationInputError, match="skew"):
        simulate(Config(customers=4, skew=0.5), served)
