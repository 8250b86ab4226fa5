"""The audit trail: every change made with a key, a session or the command line is one entry
with who, what, when and the request id, never customer data; admins read and export it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from flask.testing import FlaskClient

from app.access.keys import create_key
from app.cli import main
from app.infra.services import Services
from app.infra.settings import Settings
from app.wiring import create_app
from tests.factories import make_render_request

CUSTOMER_ID = "CUST-AUDIT-4711"
CUSTOMER_NAME = "Audit Testperson"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def trail(client: FlaskClient, admin: dict[str, str], **query: Any) -> list[dict[str, Any]]:
    answer = client.get("/v1/admin/audit", query_string=query, headers=admin)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    entries: list[dict[str, Any]] = answer.get_json()["entries"]
    return entries


def test_every_change_is_an_entry_with_who_what_when_and_the_request_id(
    client: FlaskClient, services: Services, api_key: str
) -> None:
    admin = bearer(create_key(services.db, "ops", "admin"))
    billing = bearer(api_key)
    request = make_render_request(
        **{"data.customer.id": CUSTOMER_ID, "data.customer.name": CUSTOMER_NAME}
    )
    made = client.post(
        "/v1/renders", json=request, headers=billing | {"X-Request-Id": "req-from-billing-1"}
    )
    assert made.status_code == 202 and made.headers["X-Request-Id"] == "req-from-billing-1"
    render_id = made.get_json()["id"]
    paid = client.post(f"/v1/renders/{render_id}/payments", json={}, headers=billing)
    assert paid.status_code == 201
    batch = client.post(
        "/v1/batches",
        data=json.dumps(make_render_request()).encode() + b"\n",
        headers=billing,
        content_type="application/x-ndjson",
    )
    assert batch.status_code == 202
    batch_id = batch.get_json()["id"]
    assert client.post(f"/v1/batches/{batch_id}/cancel", headers=billing).status_code == 200
    assert client.delete(f"/v1/customers/{CUSTOMER_ID}", headers=billing).status_code == 204
    crm = client.post("/v1/admin/keys", json={"name": "crm"}, headers=admin).get_json()
    assert client.post(f"/v1/admin/keys/{crm['id']}/rotate", headers=admin).status_code == 201
    assert client.delete(f"/v1/admin/keys/{crm['id']}", headers=admin).status_code == 204
    # Reads change nothing and are not in the trail.
    assert client.get(f"/v1/batches/{batch_id}", headers=billing).status_code == 200

    entries = trail(client, admin)
    assert [e["action"] for e in entries] == [
        "key.revoke", "key.rotate", "key.create", "customer.erase", "batch.cancel",
        "batch.create", "payment.create", "render.create",
    ]  # fmt: skip
    by_action = {e["action"]: e for e in entries}
    assert by_action["render.create"]["target"] == render_id
    assert by_action["render.create"]["request_id"] == "req-from-billing-1"
    assert by_action["render.create"]["status"] == 202
    assert by_action["batch.cancel"]["target"] == batch_id
    assert by_action["key.revoke"]["target"] == crm["id"]
    assert by_action["customer.erase"]["target"].startswith("customer:")
    assert all(e["request_id"] and e["at"] for e in entries)
    billing_key_id = by_action["render.create"]["actor_id"]
    assert billing_key_id.startswith("key_") and by_action["key.create"]["actor_type"] == "key"
    assert {e["account"] for e in entries if e["actor_id"] == billing_key_id} == {billing_key_id}

    # Never customer data, in any form the trail is read or exported in.
    for kind in ("json", "ndjson", "csv"):
        text = client.get("/v1/admin/audit", query_string={"format": kind}, headers=admin).get_data(
            as_text=True
        )
        assert CUSTOMER_ID not in text and CUSTOMER_NAME not in text and render_id in text


def test_the_trail_is_filtered_paged_exported_and_for_admins_only(
    client: FlaskClient, services: Services, api_key: str
) -> None:
    admin = bearer(create_key(services.db, "ops", "admin"))
    for _ in range(5):
        assert (
            client.post(
                "/v1/renders", json=make_render_request(), headers=bearer(api_key)
            ).status_code
            == 202
        )
    assert client.post("/v1/admin/keys", json={"name": "crm"}, headers=admin).status_code == 201

    assert client.get("/v1/admin/audit", headers=bearer(api_key)).status_code == 403
    assert [e["action"] for e in trail(client, admin, action="key.create")] == ["key.create"]
    first = client.get("/v1/admin/audit", query_string={"limit": 4}, headers=admin).get_json()
    rest = trail(client, admin, limit=4, before=first["next"])
    ids = [e["id"] for e in first["entries"] + rest]
    assert len(ids) == 6 == len(set(ids))
    assert (
        client.get("/v1/admin/audit", query_string={"limit": 0}, headers=admin).status_code == 422
    )

    exported = client.get("/v1/admin/audit", query_string={"format": "csv"}, headers=admin)
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [r["action"] for r in rows] == ["key.create"] + ["render.create"] * 5
    lines = client.get(
        "/v1/admin/audit", query_string={"format": "ndjson"}, headers=admin
    ).get_data(as_text=True)
    assert [json.loads(line)["id"] for line in lines.splitlines()] == ids


def test_a_replayed_request_is_not_written_again(
    client: FlaskClient, services: Services, api_key: str
) -> None:
    admin = bearer(create_key(services.db, "ops", "admin"))
    headers = bearer(api_key) | {"Idempotency-Key": "run-2026-12-render-1"}
    body = make_render_request()
    assert client.post("/v1/renders", json=body, headers=headers).status_code == 202
    again = client.post("/v1/renders", json=body, headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert [e["action"] for e in trail(client, admin)] == ["render.create"]


def test_dashboard_sessions_and_the_command_line_are_in_the_trail(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", public_url="https://bills.example.test")
    app = create_app(settings, start_queue=False)
    client = app.test_client()
    db = app.extensions["billreel"].db
    env = {"BILLREEL_DATA_DIR": str(tmp_path / "var")}
    made = CliRunner().invoke(main, ["keys", "create", "marketing"], env=env)
    assert made.exit_code == 0, made.output
    key = made.output.strip().splitlines()[-1]
    assert client.post("/dashboard/login", data={"api_key": key}).status_code == 303
    assert client.post("/dashboard/logout").status_code == 303
    admin = bearer(create_key(db, "ops", "admin"))
    entries = trail(client, admin)
    assert [(e["action"], e["actor_type"]) for e in entries] == [
        ("session.logout", "session"),
        ("session.start", "key"),
        ("key.create", "cli"),
    ]
    assert entries[0]["target"] == entries[1]["target"] and entries[0]["target"].startswith("ses_")
    db.dispose()
