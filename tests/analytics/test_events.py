"""Events: what is recorded, what is flagged (HEAD, bots, bursts), and what is never kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, text

from app.analytics.bots import is_bot
from app.analytics.events import daily_salt, record, visitor_hash
from app.infra.database import Event, Payment, Render, VisitorSalt, utcnow
from app.infra.services import Services
from tests.eventkit import BROWSER, flags, make_batch, request_for, visit

BOTH = ("video", "microsite")


@pytest.mark.parametrize(
    ("user_agent", "bot"),
    [
        (BROWSER, False),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0 Mobile Safari/537.36",
            False,
        ),
        ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", True),
        ("WhatsApp/2.23.20.0", True),
        ("facebookexternalhit/1.1", True),
        ("TelegramBot (like TwitterBot)", True),
        (
            "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 "
            "(via ggpht.com GoogleImageProxy)",
            True,
        ),
        ("Mimecast URL Protect", True),
        ("Proofpoint URL Defense", True),
        ("python-requests/2.31", True),
        ("", True),
        (None, True),
    ],
)
def test_known_scanners_and_previewers_are_bots(user_agent: str | None, bot: bool) -> None:
    assert is_bot(user_agent) is bot


def test_bots_head_and_bursts_are_flagged_but_still_served(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    _, renders = make_batch(client, auth, services, [request_for(1), request_for(2)])
    early, late = renders
    # A link-preview bot still gets the page; HEAD gets its answer too.
    assert visit(client, f"/r/{late.token}", ua="facebookexternalhit/1.1").status_code == 200
    assert client.head(f"/r/{late.token}/pay").status_code == 302
    prefetch = visit(client, f"/r/{late.token}", headers={"Sec-Purpose": "prefetch;prerender"})
    assert prefetch.status_code == 200
    # Two different addresses within a second: a scanner fleet, both flagged, both redirected.
    assert visit(client, f"/r/{late.token}/pay", addr="198.51.100.1").status_code == 302
    assert visit(client, f"/r/{late.token}/pay", addr="198.51.100.2").status_code == 302
    assert flags(services, late.id) == [
        ("opened", "bot"),
        ("pay_click", "head"),
        ("opened", "prefetch"),
        ("pay_click", "burst"),
        ("pay_click", "burst"),
    ]
    # A visit seconds after delivery is a machine too.
    with services.db.session() as session:
        row = session.get(Render, early.id)
        assert row is not None
        row.finished_at = utcnow() - timedelta(seconds=2)
    assert visit(client, f"/r/{early.token}").status_code == 200
    assert flags(services, early.id) == [("opened", "burst")]


def test_delivery_is_when_the_webhook_reached_the_billing_system(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    _, (render,) = make_batch(client, auth, services, [request_for(1)])  # finished an hour ago
    with services.db.session() as session:
        record(session, render.id, "webhook_delivered", at=utcnow() - timedelta(seconds=3))
    assert visit(client, f"/r/{render.token}").status_code == 200
    assert flags(services, render.id) == [("webhook_delivered", None), ("opened", "burst")]


def test_one_person_coming_back_is_not_a_burst(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    _, (render,) = make_batch(client, auth, services, [request_for(1)])
    for _ in range(3):
        assert visit(client, f"/r/{render.token}").status_code == 200
    assert visit(client, f"/r/{render.token}/pay").status_code == 302
    assert flags(services, render.id) == [("opened", None)] * 3 + [("pay_click", None)]


def test_direct_video_link_is_a_visit_but_the_players_fetches_are_not(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    _, (render,) = make_batch(client, auth, services, [request_for(1, BOTH)])
    path = f"/r/{render.token}/video.mp4"
    assert visit(client, path, headers={"Sec-Fetch-Dest": "document"}).status_code == 200
    assert (
        visit(client, path, headers={"Sec-Fetch-Dest": "video", "Range": "bytes=0-"}).status_code
        == 206
    )
    assert visit(client, path, headers={"Range": "bytes=4096-"}).status_code == 206
    assert visit(client, f"/r/{render.token}/poster.jpg").status_code == 200
    with services.db.session() as session:
        rows = session.execute(select(Event.type, Event.name).where(Event.render_id == render.id))
        assert [tuple(r) for r in rows] == [("opened", "video")]


def test_visitors_are_keyed_salted_hashes_never_addresses(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    _, (render,) = make_batch(client, auth, services, [request_for(1)])
    address = "192.0.2.44"
    response = visit(client, f"/r/{render.token}", addr=address)
    assert "Set-Cookie" not in response.headers  # no cookie is needed, none is set
    with services.db.session() as session:
        event = session.scalars(select(Event).where(Event.render_id == render.id)).one()
        dump = str(session.execute(text("SELECT * FROM events")).all())
    assert address not in dump and event.visitor is not None and len(event.visitor) == 32
    # Today's hash is HMAC(secret, today's salt + address): same address, same visitor.
    today = daily_salt(services.db, utcnow())
    assert event.visitor == visitor_hash(services.secret, today, address)
    assert visitor_hash(b"another secret", today, address) != event.visitor


def test_the_salt_rotates_daily_and_old_salts_are_forgotten(services: Services) -> None:
    now = utcnow()
    today = daily_salt(services.db, now)
    assert daily_salt(services.db, now) == today and len(today) == 32
    tomorrow = daily_salt(services.db, now + timedelta(days=1))
    assert tomorrow != today
    assert visitor_hash(services.secret, today, "192.0.2.1") != visitor_hash(
        services.secret, tomorrow, "192.0.2.1"
    )
    with services.db.session() as session:
        days = list(session.scalars(select(VisitorSalt.day)))
    assert days == [(now + timedelta(days=1)).strftime("%Y-%m-%d")]  # yesterday's is gone


def test_get_never_changes_state_beyond_the_visit(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    batch_id, (render,) = make_batch(client, auth, services, [request_for(1, BOTH)])

    def snapshot() -> tuple[object, ...]:
        with services.db.session() as session:
            row = session.get(Render, render.id)
            assert row is not None
            payments = session.scalar(select(Payment.id).limit(1))
            return (row.status, row.updated_at, row.tone, row.bill, row.outputs, payments)

    before = snapshot()
    for path in ("", "/pay", "/video.mp4", "/poster.jpg", "/captions.vtt"):
        visit(client, f"/r/{render.token}{path}", ua="Mimecast URL Protect")
        visit(client, f"/r/{render.token}{path}")
    client.get(f"/v1/batches/{batch_id}/analytics", headers=auth)
    assert snapshot() == before
    # The page's own actions are POSTs; a GET to them changes nothing and records nothing.
    count = len(flags(services, render.id))
    assert client.get(f"/r/{render.token}/cta/paperless").status_code in (404, 405)
    assert client.get(f"/r/{render.token}/events?type=video_started").status_code in (404, 405)
    assert len(flags(services, render.id)) == count
