"""Customer events written in batches (app/analytics/writer.py): nothing lost, nothing reordered,
the burst rule applied exactly as when each event is written on its own request."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.access.keys import create_key
from app.analytics.events import record
from app.analytics.writer import MAX_BATCH, EventWriter, Visit, event_writer
from app.infra.database import ApiKey, Database, Event, Render, utcnow
from app.infra.services import Services
from app.infra.settings import Settings
from tests.factories import make_render_request
from tests.paths import REPO_ROOT

PUBLIC_URL = "https://bills.example.test"
PHONE = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1"}
LONG_INTERVAL = 3600.0  # the timer never fires during a test: only flush() writes


def done_render(client: Any, auth: dict[str, str], services: Services) -> dict[str, Any]:
    """An accepted render marked done a day ago, with its page stored."""
    response = client.post("/v1/renders", json=make_render_request(), headers=auth)
    assert response.status_code == 202
    body: dict[str, Any] = response.get_json()
    services.storage.put_bytes(
        f"renders/{body['id']}/site/index.html",
        b"<p>page</p>",
        content_type="text/html; charset=utf-8",
        cache_control="private, max-age=60",
    )
    with services.db.session() as session:
        row = session.get(Render, body["id"])
        assert row is not None
        row.status = "done"
        row.finished_at = utcnow() - timedelta(days=1)
    return body


def add_render(services: Services, render_id: str, finished_at: datetime | None = None) -> None:
    """A done render (by default delivered a day ago), straight into the database."""
    create_key(services.db, "k")
    with services.db.session() as session:
        key_id = session.scalar(select(ApiKey.id))
        assert key_id is not None
        session.add(
            Render(
                id=render_id,
                api_key_id=key_id,
                token=render_id.ljust(32, "x"),
                template="bill-explainer",
                outputs=["microsite"],
                customer_id="C1",
                bill={},
                status="done",
                finished_at=finished_at or utcnow() - timedelta(days=1),
            )
        )


def stored(db: Database, render_id: str) -> list[tuple[str, str | None, str | None]]:
    with db.session() as session:
        rows = session.execute(
            select(Event.type, Event.name, Event.flagged)
            .where(Event.render_id == render_id)
            .order_by(Event.id)
        )
        return [(type_, name, flagged) for type_, name, flagged in rows]


def test_default_writes_each_event_on_its_request(
    client: Any, auth: dict[str, str], services: Services
) -> None:
    assert services.settings.event_flush_seconds == 0
    body = done_render(client, auth, services)
    assert client.get(f"/r/{body['links']['microsite'].rsplit('/', 1)[1]}").status_code == 200
    assert stored(services.db, body["id"]) == [("opened", None, None)]
    assert event_writer(services.db, 0).pending() == 0


def test_batched_events_wait_for_the_flush_then_all_arrive_in_order(
    api_key_factory: Any,
) -> None:
    client, auth = api_key_factory(public_url=PUBLIC_URL, event_flush_seconds=LONG_INTERVAL)
    services: Services = client.application.extensions["billreel"]
    body = done_render(client, auth, services)
    site = body["links"]["microsite"].removeprefix(PUBLIC_URL)

    assert client.get(site, headers=PHONE).status_code == 200
    assert client.head(site, headers=PHONE).status_code == 200  # a scanner: flagged, kept
    assert client.get(f"{site}/pay", headers=PHONE).status_code == 302
    writer = event_writer(services.db, LONG_INTERVAL)
    assert stored(services.db, body["id"]) == []  # served without touching the database
    assert writer.pending() == 3

    assert writer.flush() == 3

    assert stored(services.db, body["id"]) == [
        ("opened", None, None),
        ("opened", None, "head"),
        ("pay_click", None, None),
    ]
    assert writer.pending() == 0 and writer.flush() == 0


# (seconds since the render finished, seconds since its webhook was delivered or None,
#  visits as (seconds ago, visitor)) -> the flags every visit must end with.
BURST_CASES = {
    "a fleet of visitors": (86400, None, [(60, "alice"), (1, "scan-1"), (0, "scan-2")]),
    "just finished": (3, None, [(0, "alice")]),
    "webhook just delivered": (86400, 3, [(0, "alice")]),
    "quiet": (86400, 3600, [(30, "alice"), (0, "alice")]),
}


@pytest.mark.parametrize("case", sorted(BURST_CASES))
def test_a_batch_applies_the_burst_rule_like_single_writes(tmp_path: Path, case: str) -> None:
    """Whichever way events are written, the burst rule of app.analytics.events flags the same."""
    finished_ago, webhook_ago, visits = BURST_CASES[case]
    results = []
    for flush_seconds in (0.0, LONG_INTERVAL):
        services = Services.build(Settings(data_dir=tmp_path / f"var{flush_seconds}"))
        now = utcnow()
        add_render(services, "rnd_burst", finished_at=now - timedelta(seconds=finished_ago))
        if webhook_ago is not None:
            with services.db.session() as session:
                at = now - timedelta(seconds=webhook_ago)
                record(session, "rnd_burst", "webhook_delivered", at=at)
        writer = EventWriter(services.db, flush_seconds)
        for ago, visitor in visits:
            writer.submit(
                Visit("rnd_burst", "opened", now - timedelta(seconds=ago), visitor=visitor)
            )
        writer.flush()
        results.append(stored(services.db, "rnd_burst"))
        services.db.dispose()
    single, batched = results
    assert single == batched
    if case == "a fleet of visitors":
        assert [flag for _, _, flag in batched] == [None, "burst", "burst"]
    if case in ("just finished", "webhook just delivered"):
        assert batched[-1] == ("opened", None, "burst")
    if case == "quiet":
        assert [flag for _, _, flag in batched] == [None, None, None]


def test_a_full_batch_and_more_are_written_in_chunks(tmp_path: Path) -> None:
    services = Services.build(Settings(data_dir=tmp_path / "var"))
    try:
        add_render(services, "rnd_many")
        writer = EventWriter(services.db, LONG_INTERVAL)
        at = utcnow()
        count = MAX_BATCH * 2 + 7
        for n in range(count):
            writer.submit(Visit("rnd_many", "cta", at, name=str(n), flagged="bot"))
        writer.flush()  # a full batch wakes the thread: it may have written some already
        assert writer.pending() == 0
        assert [name for _, name, _ in stored(services.db, "rnd_many")] == [
            str(n) for n in range(count)
        ]
    finally:
        services.db.dispose()


EXIT_SCRIPT = """
import sys
from datetime import datetime, timedelta
from app.analytics.events import record
from app.infra.database import ApiKey, Render, utcnow
from app.analytics.writer import Visit, event_writer
from app.access.keys import create_key
from app.infra.services import Services
from app.infra.settings import Settings
from pathlib import Path

services = Services.build(Settings(data_dir=Path(sys.argv[1]), event_flush_seconds=3600))
create_key(services.db, "k")
with services.db.session() as session:
    key_id = session.query(ApiKey.id).scalar()
    session.add(Render(id="rnd_exit", api_key_id=key_id, token="e" * 32, template="t",
                       outputs=["microsite"], customer_id="C", bill={}, status="done"))
writer = event_writer(services.db, 3600)
writer.submit(Visit("rnd_exit", "opened", utcnow() - timedelta(days=1), flagged="bot"))
assert writer.pending() == 1
# The process ends here, with the event still pending: the exit handler writes it.
"""


def test_pending_events_are_written_when_the_process_exits(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    root = REPO_ROOT
    subprocess.run(
        [sys.executable, "-c", EXIT_SCRIPT, str(data_dir)], cwd=root, check=True, timeout=120
    )
    services = Services.build(Settings(data_dir=data_dir))
    try:
        assert stored(services.db, "rnd_exit") == [("opened", None, "bot")]
    finally:
        services.db.dispose()
