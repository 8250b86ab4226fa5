"""Retention and erasure: expired links answer 410, `purge` removes personal data past
retention, and `DELETE /v1/customers/{id}` leaves nothing of the customer behind.

Every test runs on SQLite with local files and on a real PostgreSQL server (tests/pg.py)
with S3 (moto's server, tests/s3server.py). The job's store-and-finish step is played
with small stand-in outputs (real renders are covered by tests/customer/test_pages.py and the
end-to-end tests): what matters here is which rows and objects exist, not their pixels.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, func, select, update

from app.access.keys import create_key
from app.cli import main as cli_main
from app.delivery.retention import erase_customer, link_expired, purge
from app.infra.database import (
    ApiKey,
    Event,
    IdempotencyRecord,
    Payment,
    Render,
    WebhookDelivery,
    utcnow,
)
from app.infra.services import Services
from app.infra.settings import DEFAULT_LINK_TTL_DAYS, Settings
from app.infra.storage import CONTENT_TYPES, output_key
from app.rendering import job as jobs
from app.rendering.job import OUTPUT_CACHE_CONTROL
from app.webhooks.outbox import enqueue_render_webhook
from app.wiring import create_app
from tests.factories import make_render_request
from tests.pg import postgres_server, postgres_url  # noqa: F401 (fixtures)
from tests.s3server import (
    moto_server_fixture,  # noqa: F401 (the moto_server fixture)
    s3_bucket_fixture,  # noqa: F401 (the s3_bucket fixture)
)

PUBLIC_URL = "https://bills.example.test"
# Distinctive, ASCII (so JSON never escapes them): a scan for them cannot miss or misfire.
ERASED_NAME = "Quintus Erasuretest"
ERASED_ID = "CUST-ERASE-0001"
KEPT_NAME = "Octavia Keepmetest"
KEPT_ID = "CUST-KEEP-0002"

ENGINES = [
    pytest.param(("sqlite", "local"), id="sqlite-local"),
    pytest.param(("postgresql", "s3"), id="postgresql-s3"),
]


@pytest.fixture(params=ENGINES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Overrides tests/conftest.py: the same tests on both database engines and stores."""
    engine, store = request.param
    extra: dict[str, Any] = {}
    if engine == "postgresql":
        extra["database_url"] = request.getfixturevalue("postgres_url")
    if store == "s3":
        extra["s3_bucket"] = request.getfixturevalue("s3_bucket")
        extra["s3_endpoint_url"] = request.getfixturevalue("moto_server").endpoint_url
    return Settings(data_dir=tmp_path / "var", public_url=PUBLIC_URL, **extra)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    flask_app = create_app(settings, start_queue=False)
    yield flask_app
    flask_app.extensions["billreel"].db.dispose()


def render_request(customer_id: str, name: str, **overrides: Any) -> dict[str, Any]:
    request = make_render_request(
        **{
            "data.customer.id": customer_id,
            "data.customer.name": name,
            "data.bill.number": f"F-{customer_id}",
        }
    )
    request.update(overrides)
    return request


def accept(client: FlaskClient, auth: dict[str, str], request: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/renders", json=request, headers=auth)
    assert response.status_code == 202, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def finish(services: Services, render_id: str, name: str) -> None:
    """What the render job does once rendering is over: store the outputs (every one with
    its content type and cache control), mark the render done, queue its webhook."""
    for output in CONTENT_TYPES:
        services.storage.put_bytes(
            output_key(render_id, output),
            f"<p>{name}</p> {output}".encode(),
            content_type=CONTENT_TYPES[output],
            cache_control=OUTPUT_CACHE_CONTROL,
        )
    with services.db.session() as session:
        row = session.get(Render, render_id)
        assert row is not None
        row.status = "done"
        row.finished_at = utcnow()
        enqueue_render_webhook(session, row, services.settings)


def age(services: Services, render_id: str, days: float) -> None:
    """Make a render look `days` old."""
    with services.db.session() as session:
        session.execute(
            update(Render)
            .where(Render.id == render_id)
            .values(created_at=utcnow() - timedelta(days=days))
        )


def path_of(link: str) -> str:
    return link.removeprefix(PUBLIC_URL)


def visit(client: FlaskClient, body: dict[str, Any]) -> None:
    """A customer opens the page, starts the video and clicks pay (a day after delivery,
    so no burst rule flags it: the flag does not matter to retention anyway)."""
    site = path_of(body["links"]["microsite"])
    assert client.get(site).status_code == 200
    beacon = client.post(
        f"{site}/events", data={"type": "video_started"}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert beacon.status_code == 204
    assert client.get(f"{site}/pay").status_code == 302


def pay(client: FlaskClient, auth: dict[str, str], render_id: str) -> None:
    payment = {"reference": f"PAY-{render_id}", "amount": "84.20", "currency": "EUR"}
    response = client.post(f"/v1/renders/{render_id}/payments", json=payment, headers=auth)
    assert response.status_code in (200, 201), response.get_json()


# --- links expire ------------------------------------------------------------------------


def test_default_retention_is_180_days() -> None:
    assert DEFAULT_LINK_TTL_DAYS == 180
    assert Settings().link_ttl_days == 180
    assert Settings.from_env({"BILLREEL_LINK_TTL_DAYS": "30"}).link_ttl_days == 30


def test_links_expire_with_a_friendly_410_page(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    fresh = accept(client, auth, render_request(KEPT_ID, KEPT_NAME))
    old = accept(client, auth, render_request(ERASED_ID, ERASED_NAME))
    for body in (fresh, old):
        finish(services, body["id"], "someone")
    age(services, fresh["id"], DEFAULT_LINK_TTL_DAYS - 1)
    age(services, old["id"], DEFAULT_LINK_TTL_DAYS + 0.01)

    assert client.get(path_of(fresh["links"]["microsite"])).status_code == 200
    for link in ("microsite", "video", "poster", "captions"):
        response = client.get(path_of(old["links"][link]))
        assert response.status_code == 410, link
        assert response.mimetype == "text/html"
        assert "This link has expired" in response.get_data(as_text=True)
        assert response.headers["Cache-Control"] == "no-store"
    assert client.get(path_of(old["links"]["microsite"]) + "/pay").status_code == 410
    # The page's own actions and beacons are refused too: an expired page records nothing.
    same_origin = {"Sec-Fetch-Site": "same-origin"}
    old_site, fresh_site = path_of(old["links"]["microsite"]), path_of(fresh["links"]["microsite"])
    assert client.post(old_site + "/cta/contact", headers=same_origin).status_code == 404
    beacon = {"type": "video_started"}
    assert client.post(old_site + "/events", data=beacon, headers=same_origin).status_code == 404
    assert client.post(fresh_site + "/cta/contact", headers=same_origin).status_code == 303
    with services.db.session() as session:
        assert session.scalar(select(func.count()).where(Event.render_id == old["id"])) == 0


def test_link_expiry_follows_the_setting(api_key_factory: Any) -> None:
    client, auth = api_key_factory(public_url=PUBLIC_URL, link_ttl_days=1)
    services: Services = client.application.extensions["billreel"]
    body = accept(client, auth, render_request(KEPT_ID, KEPT_NAME))
    finish(services, body["id"], KEPT_NAME)
    assert client.get(path_of(body["links"]["microsite"])).status_code == 200
    age(services, body["id"], 1.01)
    assert client.get(path_of(body["links"]["microsite"])).status_code == 410
    with services.db.session() as session:
        row = session.get(Render, body["id"])
        assert row is not None
        assert link_expired(row, 2) is False
        assert link_expired(row, 1) is True


# --- purge -------------------------------------------------------------------------------


def test_purge_removes_outputs_and_personal_data_past_retention(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    """Outputs, bill, payments and webhook messages of an expired render go; its anonymous
    events and its tone stay for the funnels; a render within retention is untouched."""
    callback = {"callback_url": "https://billing.example.test/hooks"}
    old = accept(client, auth, render_request(ERASED_ID, ERASED_NAME, **callback))
    fresh = accept(client, auth, render_request(KEPT_ID, KEPT_NAME, **callback))
    for body, name in ((old, ERASED_NAME), (fresh, KEPT_NAME)):
        finish(services, body["id"], name)
        age(services, body["id"], 2)  # delivered two days ago: visits are no burst
        visit(client, body)
        pay(client, auth, body["id"])
    age(services, old["id"], DEFAULT_LINK_TTL_DAYS + 1)
    with services.db.session() as session:
        tone_before = session.get(Render, old["id"]).tone  # type: ignore[union-attr]
        stale = IdempotencyRecord(
            api_key_id=session.get(Render, old["id"]).api_key_id,  # type: ignore[union-attr]
            key="stale",
            request_hash="0" * 64,
            response_status=202,
            response_body=json.dumps(old).encode(),
        )
        session.add(stale)
        session.flush()
        stale.created_at = utcnow() - timedelta(seconds=services.settings.idempotency_ttl_seconds)

    result = purge(services)

    assert (result.renders, result.objects) == (1, len(CONTENT_TYPES))
    assert result.idempotency_records == 1
    assert list(services.storage.list_keys(f"renders/{old['id']}/")) == []
    assert len(list(services.storage.list_keys(f"renders/{fresh['id']}/"))) == len(CONTENT_TYPES)
    with services.db.session() as session:
        purged = session.get(Render, old["id"])
        kept = session.get(Render, fresh["id"])
        assert purged is not None and kept is not None
        assert purged.bill == {} and purged.purged_at is not None
        assert purged.tone is not None or tone_before is None  # kept for analytics
        assert kept.bill["customer"]["name"] == KEPT_NAME and kept.purged_at is None
        for table in (Payment, WebhookDelivery):
            owners = set(session.scalars(select(table.render_id)))
            assert owners == {fresh["id"]}, table.__tablename__
        # The anonymous events stay: the batch funnels keep their counts.
        kinds = set(session.scalars(select(Event.type).where(Event.render_id == old["id"])))
        assert {"opened", "video_started", "pay_click", "paid"} <= kinds
    assert client.get(path_of(old["links"]["microsite"])).status_code == 410
    assert client.get(path_of(fresh["links"]["microsite"])).status_code == 200
    assert ERASED_NAME not in json.dumps(client.get(f"/v1/renders/{old['id']}", headers=auth).json)

    again = purge(services)  # nothing left to do; safe to run at any time
    assert (again.renders, again.objects, again.idempotency_records) == (0, 0, 0)
    assert_sqlite_file_forgot(services, ERASED_NAME, KEPT_NAME)


def assert_sqlite_file_forgot(services: Services, gone: str, kept: str) -> None:
    """SQLite: not even the database files keep the bytes (secure_delete, log checkpoint)."""
    if services.db.engine.dialect.name != "sqlite":
        return
    services.db.dispose()
    files = services.settings.data_dir.glob("*.db*")
    raw = b"".join(path.read_bytes() for path in files if path.is_file())
    assert gone.encode() not in raw
    assert kept.encode() in raw


def test_purge_command(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """`billreel purge` reads the usual settings from the environment, as cron runs it."""
    services = Services.build(settings)
    try:
        create_key(services.db, "cron")
        with services.db.session() as session:
            key_id = session.scalar(select(ApiKey.id))
            render = Render(
                id="rnd_cron",
                api_key_id=key_id,
                token="t" * 32,
                template="bill-explainer",
                outputs=["microsite"],
                customer_id=ERASED_ID,
                bill=make_render_request()["data"],
                status="done",
                created_at=utcnow() - timedelta(days=DEFAULT_LINK_TTL_DAYS + 1),
            )
            session.add(render)
        services.storage.put_bytes(
            output_key("rnd_cron", "site/index.html"),
            b"<p>x</p>",
            content_type=CONTENT_TYPES["site/index.html"],
            cache_control=OUTPUT_CACHE_CONTROL,
        )
    finally:
        services.db.dispose()
    monkeypatch.setenv("BILLREEL_DATA_DIR", str(settings.data_dir))
    for name, value in (
        ("BILLREEL_DATABASE_URL", settings.database_url),
        ("BILLREEL_S3_BUCKET", settings.s3_bucket),
        ("BILLREEL_S3_ENDPOINT_URL", settings.s3_endpoint_url),
    ):
        if value:
            monkeypatch.setenv(name, value)
        else:
            monkeypatch.delenv(name, raising=False)

    outcome = CliRunner().invoke(cli_main, ["purge"])

    assert outcome.exit_code == 0, outcome.output
    assert "purged 1 render(s), 1 stored object(s)" in outcome.output


# --- erasure (GDPR Art. 17) --------------------------------------------------------------


def every_row(services: Services) -> dict[str, list[str]]:
    """Every row of every table in the database (reflected, so no table can be missed),
    each as the text of all its values."""
    metadata = MetaData()
    metadata.reflect(services.db.engine)
    assert {"renders", "events", "payments", "webhook_deliveries"} <= set(metadata.tables)
    rows: dict[str, list[str]] = {}
    with services.db.engine.connect() as connection:
        for table in metadata.sorted_tables:
            rows[table.name] = [
                " ".join(
                    bytes(value).decode("utf-8", "replace")
                    if isinstance(value, bytes | memoryview)
                    else json.dumps(value, default=str)
                    for value in row
                )
                for row in connection.execute(select(table))
            ]
    return rows


def every_object(services: Services) -> dict[str, bytes]:
    return {key: services.storage.read_bytes(key) for key in services.storage.list_keys()}


def traces(services: Services, needles: list[str], skip: tuple[str, ...] = ()) -> list[str]:
    """Where any of `needles` still appears: table rows, storage keys or stored bytes."""
    found = []
    for table, rows in every_row(services).items():
        if table in skip:
            continue
        for row in rows:
            found += [f"table {table}: {n}" for n in needles if n in row]
    for key, data in every_object(services).items():
        found += [f"object {key}: {n}" for n in needles if n in key or n.encode() in data]
    return found


def test_erasing_a_customer_leaves_nothing_in_the_database_or_storage(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    """Every table (reflected from the database) and every stored object is scanned for
    the customer's name, id, bill number, render ids and link tokens, before and after."""
    callback = {"callback_url": "https://billing.example.test/hooks"}
    erased = [
        accept(client, auth, render_request(ERASED_ID, ERASED_NAME, **callback)),
        accept(client, auth, render_request(ERASED_ID, ERASED_NAME, outputs=["microsite"])),
    ]
    # A batch holding both customers, and a replayable (idempotent) request of each.
    lines = [render_request(c, n) for c, n in ((ERASED_ID, ERASED_NAME), (KEPT_ID, KEPT_NAME))]
    batch = client.post(
        "/v1/batches",
        data="\n".join(json.dumps(line) for line in lines) + "\n",
        headers=auth | {"Content-Type": "application/x-ndjson"},
    )
    assert batch.status_code == 202, batch.get_json()
    batch_id = batch.get_json()["id"]
    results = client.get(f"/v1/batches/{batch_id}/results", headers=auth)
    in_batch = {row["customer_id"]: row for row in map(json.loads, results.data.splitlines())}
    erased.append(client.get(f"/v1/renders/{in_batch[ERASED_ID]['id']}", headers=auth).json)
    replay = {"Idempotency-Key": "erase-me-1"}
    erased.append(accept(client, auth | replay, render_request(ERASED_ID, ERASED_NAME, **callback)))
    kept = [
        accept(client, auth, render_request(KEPT_ID, KEPT_NAME, **callback)),
        client.get(f"/v1/renders/{in_batch[KEPT_ID]['id']}", headers=auth).json,
    ]
    for body in erased + kept:
        name = ERASED_NAME if body in erased else KEPT_NAME
        finish(services, body["id"], name)
        age(services, body["id"], 2)
        if "microsite" in body["links"]:
            visit(client, body)
        pay(client, auth, body["id"])

    erased_ids = [body["id"] for body in erased]
    tokens = [body["links"]["microsite"].rsplit("/", 1)[1] for body in erased]
    needles = [ERASED_NAME, ERASED_ID, f"F-{ERASED_ID}", *erased_ids, *tokens]
    assert traces(services, needles)  # the scan finds them before the erasure

    response = client.delete(f"/v1/customers/{ERASED_ID}", headers=auth)

    assert response.status_code == 204 and response.data == b""
    # The audit trail keeps what was done with which ids (render.create and its render id);
    # those ids lead nowhere once erased, and the trail never held the customer's data.
    assert traces(services, needles, skip=("audit_entries",)) == []
    assert traces(services, [ERASED_NAME, ERASED_ID, f"F-{ERASED_ID}", *tokens]) == []
    # Everything of the other customers is still there, and the scan would see it.
    kept_ids = [body["id"] for body in kept]
    assert len(traces(services, [KEPT_NAME, *kept_ids])) >= 2 * len(kept)
    for body in kept:
        assert len(list(services.storage.list_keys(f"renders/{body['id']}/"))) == 5  # 4 + chapters
    with services.db.session() as session:
        assert set(session.scalars(select(Render.id))) == set(kept_ids)
    # The API and the links know nothing of the erased renders any more.
    for body in erased:
        assert client.get(f"/v1/renders/{body['id']}", headers=auth).status_code == 404
        assert client.get(path_of(body["links"]["microsite"])).status_code == 404
    counts = client.get(f"/v1/batches/{batch_id}", headers=auth).get_json()
    assert sum(counts[s] for s in ("queued", "rendering", "done", "failed")) == 1
    # The replayed request is forgotten: a retry with the same key is a new request.
    assert "Idempotent-Replayed" not in str(
        client.post(
            "/v1/renders",
            json=render_request(ERASED_ID, ERASED_NAME, **callback),
            headers=auth | replay,
        ).headers
    )
    # Erasing again is harmless, and says nothing about whether the customer existed.
    assert client.delete(f"/v1/customers/{ERASED_ID}", headers=auth).status_code == 204
    assert client.delete("/v1/customers/CUST-NEVER-SEEN", headers=auth).status_code == 204
    assert_sqlite_file_forgot(services, ERASED_NAME, KEPT_NAME)


def test_erasure_is_scoped_to_the_api_key(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    """The same customer id from another billing system (API key) is another person."""
    other_auth = {"Authorization": f"Bearer {create_key(services.db, 'other')}"}
    mine = accept(client, auth, render_request(ERASED_ID, ERASED_NAME))
    theirs = accept(client, other_auth, render_request(ERASED_ID, KEPT_NAME))
    with services.db.session() as session:
        key_id = session.get(Render, mine["id"]).api_key_id  # type: ignore[union-attr]

    assert erase_customer(services, key_id, ERASED_ID) == 1
    assert erase_customer(services, key_id, ERASED_ID) == 0
    assert client.get(f"/v1/renders/{mine['id']}", headers=auth).status_code == 404
    assert client.get(f"/v1/renders/{theirs['id']}", headers=other_auth).status_code == 200


@pytest.mark.parametrize("customer_id", ["x" * 65])
def test_delete_customer_refuses_a_bad_id(
    client: FlaskClient, auth: dict[str, str], customer_id: str
) -> None:
    response = client.delete(f"/v1/customers/{customer_id}", headers=auth)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"][0]["pointer"] == "/customer_id"


def test_delete_customer_needs_an_api_key(client: FlaskClient) -> None:
    response = client.delete(f"/v1/customers/{ERASED_ID}")
    assert response.status_code == 401


def test_a_customer_erased_while_rendering_leaves_no_outputs(
    client: FlaskClient, auth: dict[str, str], services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The erasure lands between rendering and finishing: the job's freshly stored outputs
    belong to nobody, so the job removes them instead of leaving them orphaned."""
    body = accept(client, auth, render_request(ERASED_ID, ERASED_NAME, outputs=["microsite"]))
    with services.db.session() as session:
        key_id = session.get(Render, body["id"]).api_key_id  # type: ignore[union-attr]
    real_store = jobs._store_with_retry

    def store_then_erase(services_: Services, render_id: str, result: Any) -> None:
        real_store(services_, render_id, result)
        assert services_.storage.list_keys(f"renders/{render_id}/")  # stored, for now
        assert erase_customer(services_, key_id, ERASED_ID) == 1

    monkeypatch.setattr(jobs, "_store_with_retry", store_then_erase)
    assert jobs.run_render_with(services, body["id"]) == "missing"
    assert list(services.storage.list_keys(f"renders/{body['id']}/")) == []
