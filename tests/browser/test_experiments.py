"""The experiments dashboard in real Chromium against a live service.

A billing run split by a running experiment, delivered and paid (the offer's customers pay
four times in five, control's one in five): a billing session sees the figures, the charts
and no publish button; an admin session of the same account publishes the winner with the
page's own form, and the template's published version changes. A second experiment whose
arms hold 5 and 95 % of a 50/50 split shows the mismatch warning. No script runs and the
page's strict policy is never violated (the console stays clean).
Screenshots go to the temporary directory (billreel-experiment-screenshots).
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from werkzeug.serving import make_server

from app.access.keys import make_key
from app.experiments import store
from app.experiments.arms import Arm
from app.infra.database import ApiKey, Render
from app.infra.services import Services
from app.infra.settings import Settings
from app.templates.lookup import find_version
from app.templates.store import get_version
from tests.experiments.kit import (
    TEMPLATE,
    V1,
    V2,
    balanced,
    batch,
    bill_line,
    days_ago,
    deliver,
    pay,
    two_versions,
)
from tests.realparts import free_port

pytestmark = pytest.mark.e2e

IMAGES = Path(tempfile.gettempdir()) / "billreel-experiment-screenshots"
CUSTOMERS = 800


@dataclass
class Live:
    base_url: str
    services: Services
    account: str
    billing: str
    admin: str
    winner_id: str
    skewed_id: str


def _seed(app: Any, services: Services, billing: Any) -> tuple[str, str]:
    client = app.test_client()
    auth = {"Authorization": f"Bearer {billing.secret}"}
    arms = [
        store.ArmSpec(n, version_id=find_version(services, v).id, version_ref=v)
        for n, v in (("control", V1), ("offer", V2))
    ]
    account = billing.info.account
    winner = store.create(services.db, account, name="Instalment offer in the video",
                          template=TEMPLATE, arms=arms, control=None, author="test",
                          overdue_window_days=7)  # fmt: skip
    store.start(services.db, account, winner.id)
    due = date.today() - timedelta(days=5)
    customers = balanced(winner.id, [Arm("control"), Arm("offer")], CUSTOMERS // 2)
    run = batch(client, auth, [bill_line(c, due) for c in customers])
    with services.db.session() as session:
        rows = session.execute(
            select(Render.id, Render.experiment_arm).where(Render.batch_id == run)
        ).all()
    deliver(services, [r.id for r in rows], days_ago(20))
    for i, (render_id, arm) in enumerate(rows):
        if i % 5 < (4 if arm == "offer" else 1):
            pay(services, render_id, days_ago(20 - 2 - i % 9))
    store.stop(services.db, account, winner.id)

    skewed = store.create(services.db, account, name="A split gone wrong", template=TEMPLATE,
                          arms=arms, control=None, author="test",
                          overdue_window_days=7)  # fmt: skip
    other = batch(client, auth, [bill_line(f"SKEW-{i:03d}", due) for i in range(200)])
    with services.db.session() as session:
        ids = list(session.scalars(select(Render.id).where(Render.batch_id == other)))
        # What a version failing for most of its customers leaves: 5 % in one arm.
        for n, render_id in enumerate(ids):
            session.execute(
                update(Render).where(Render.id == render_id).values(
                    experiment_id=skewed.id, experiment_arm="offer" if n % 20 == 0 else "control"
                )
            )  # fmt: skip
    deliver(services, ids, days_ago(20))
    return winner.id, skewed.id


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    from app.wiring import create_app

    tmp = tmp_path_factory.mktemp("experiments")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    app = create_app(Settings(data_dir=tmp / "var", public_url=base_url), start_queue=False)
    services: Services = app.extensions["billreel"]
    two_versions(services)
    billing = make_key(services.db, "billing system", "billing")
    admin = make_key(services.db, "Chiara (credit manager)", "admin")
    with services.db.session() as session:
        session.execute(
            update(ApiKey).where(ApiKey.id == admin.info.id).values(account_id=billing.info.id)
        )
    winner_id, skewed_id = _seed(app, services, billing)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(
            base_url,
            services,
            billing.info.account,
            billing.secret,
            admin.secret,
            winner_id,
            skewed_id,
        )
    finally:
        server.shutdown()
        services.db.dispose()


def log_in(browser: Any, live: Live, key: str) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live.base_url}/dashboard")
    page.fill("#api_key", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live.base_url}/dashboard")
    return context, page, errors


def shot(page: Any, name: str) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / f"experiment-{name}.png"), full_page=True)


def test_a_credit_manager_reads_the_figures_and_an_admin_publishes_the_winner(
    live: Live, browser: Any
) -> None:
    context, page, errors = log_in(browser, live, live.billing)
    try:
        page.click("text=Experiments")
        page.click("text=Instalment offer in the video")
        assert page.url == f"{live.base_url}/dashboard/experiments/{live.winner_id}"
        assert "A winner: offer" in page.inner_text("#status")
        rows = page.locator("#figures tbody tr")
        assert rows.count() == 2
        offer = rows.nth(1).inner_text()
        assert "bill-explainer@2" in offer and "better" in offer
        assert page.locator("svg").count() == 3
        assert page.locator("polyline").count() == 2  # a days-to-pay curve per arm
        assert page.locator("#srm-warning").count() == 0
        assert page.locator("#publish").count() == 0  # billing may not publish templates
        shot(page, "billing")
        page.goto(f"{live.base_url}/dashboard/experiments/{live.skewed_id}")
        warning = page.inner_text("#srm-warning")
        assert "The split is broken" in warning and "sample ratio mismatch" in warning
        shot(page, "split-broken")
        assert errors == []
    finally:
        context.close()

    context, page, errors = log_in(browser, live, live.admin)
    try:
        page.goto(f"{live.base_url}/dashboard/experiments/{live.winner_id}")
        assert get_version(live.services.db, TEMPLATE, 1).state == "published"
        page.click("#publish")
        page.wait_for_url(f"**/dashboard/experiments/{live.winner_id}?published=1")
        assert "bill-explainer@2" in page.inner_text("#published")
        assert page.locator("#publish").count() == 0  # published once
        shot(page, "published")
        assert errors == []
    finally:
        context.close()
    assert get_version(live.services.db, TEMPLATE, 2).state == "published"
    info = store.get(live.services.db, live.account, live.winner_id)
    assert (info.winner, info.state) == ("offer", "stopped")
