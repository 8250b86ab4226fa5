"""API keys have a life: listed, rotated without a gap, revoked at once everywhere, scoped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from app.access.keys import create_key, list_keys, make_key
from app.cli import main
from app.infra.services import Services
from app.infra.settings import Settings
from app.wiring import create_app
from tests.factories import make_render_request


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def cli(data_dir: Path, *args: str) -> Any:
    result = CliRunner().invoke(main, list(args), env={"BILLREEL_DATA_DIR": str(data_dir)})
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def fleet(tmp_path: Path) -> Any:
    """Two API processes' apps on one database, as a fleet behind a load balancer."""
    settings = Settings(data_dir=tmp_path / "var", public_url="https://bills.example.test")
    apps: list[Flask] = [create_app(settings, start_queue=False) for _ in range(2)]
    yield [app.test_client() for app in apps], apps[0].extensions["billreel"]
    for app in apps:
        app.extensions["billreel"].db.dispose()


def test_keys_list_shows_name_scope_created_and_last_use_never_the_secret(
    tmp_path: Path, fleet: Any
) -> None:
    (client, _), _ = fleet
    data_dir = tmp_path / "var"
    billing = cli(data_dir, "keys", "create", "billing-system").output.strip().splitlines()[-1]
    admin = (
        cli(data_dir, "keys", "create", "ops", "--scope", "admin").output.strip().splitlines()[-1]
    )

    listed = cli(data_dir, "keys", "list").output
    assert billing not in listed and admin not in listed
    rows = {line.split()[0]: line for line in listed.splitlines()}
    assert "billing" in rows["billing-system"] and "admin" in rows["ops"]
    assert "last used never" in rows["billing-system"] and "live" in rows["billing-system"]

    assert client.get("/v1/batches/bat_x", headers=bearer(billing)).status_code == 404
    used = [
        json.loads(line) for line in cli(data_dir, "keys", "list", "--json").output.splitlines()
    ]
    by_name = {row["name"]: row for row in used}
    assert by_name["billing-system"]["last_used_at"] is not None
    assert by_name["ops"]["last_used_at"] is None
    assert set(by_name["ops"]) == {
        "id", "name", "scope", "prefix", "account", "created_at", "last_used_at", "revoked_at"
    }  # fmt: skip


def test_a_new_key_starts_a_new_account_whatever_its_name(tmp_path: Path, fleet: Any) -> None:
    (client, _), services = fleet
    first, second = (make_key(services.db, "billing-system") for _ in range(2))
    assert first.info.account != second.info.account  # two tenants, never merged by a label
    made = client.post("/v1/renders", json=make_render_request(), headers=bearer(first.secret))
    assert (
        client.get(
            f"/v1/renders/{made.get_json()['id']}", headers=bearer(second.secret)
        ).status_code
        == 404
    )
    refused = CliRunner().invoke(
        main, ["keys", "rotate", "billing-system"], env={"BILLREEL_DATA_DIR": str(tmp_path / "var")}
    )
    assert refused.exit_code != 0 and "--key" in refused.output
    cli(tmp_path / "var", "keys", "rotate", "billing-system", "--key", first.info.prefix)
    with pytest.raises(ValueError, match="scope must be one of"):
        create_key(services.db, "other", "root")


def test_rotation_overlaps_until_the_old_key_is_revoked_on_every_process(
    tmp_path: Path, fleet: Any
) -> None:
    (one, two), services = fleet
    data_dir = tmp_path / "var"
    old = cli(data_dir, "keys", "create", "billing-system").output.strip().splitlines()[-1]
    made = one.post("/v1/renders", json=make_render_request(), headers=bearer(old))
    assert made.status_code == 202
    render_id = made.get_json()["id"]

    new = cli(data_dir, "keys", "rotate", "billing-system").output.strip().splitlines()[-1]
    assert new != old
    for client in (one, two):  # both keys work, and both see the account's render
        for secret in (old, new):
            got = client.get(f"/v1/renders/{render_id}", headers=bearer(secret))
            assert got.status_code == 200, (secret == old, got.get_json())

    [old_info] = [k for k in list_keys(services.db) if old.startswith(k.prefix)]
    cli(data_dir, "keys", "revoke", "billing-system", "--key", old_info.id)
    for client in (one, two):  # at once, on every process: no process keeps a copy
        refused = client.get(f"/v1/renders/{render_id}", headers=bearer(old))
        assert refused.status_code == 401
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert client.get(f"/v1/renders/{render_id}", headers=bearer(new)).status_code == 200

    cli(data_dir, "keys", "revoke", "billing-system")
    assert one.get(f"/v1/renders/{render_id}", headers=bearer(new)).status_code == 401
    assert "revoked" in cli(data_dir, "keys", "list").output


def test_revoking_a_key_ends_its_dashboard_sessions(fleet: Any, services: Services) -> None:
    (one, two), shared = fleet
    made = make_key(shared.db, "marketing")
    assert one.post("/dashboard/login", data={"api_key": made.secret}).status_code == 303
    assert "Billing runs" in one.get("/dashboard").get_data(as_text=True)
    admin = create_key(shared.db, "ops", "admin")
    assert two.delete(f"/v1/admin/keys/{made.info.id}", headers=bearer(admin)).status_code == 204
    assert 'name="api_key"' in one.get("/dashboard").get_data(as_text=True)


def test_the_admin_api_lists_makes_rotates_and_revokes_keys(
    client: FlaskClient, services: Services
) -> None:
    admin = bearer(create_key(services.db, "ops", "admin"))
    billing = bearer(create_key(services.db, "billing-system"))

    assert client.get("/v1/admin/keys", headers=billing).status_code == 403
    marketing = bearer(create_key(services.db, "brand-team", "marketing"))
    assert client.get("/v1/admin/keys", headers=marketing).status_code == 403
    assert client.get("/v1/batches/bat_x", headers=marketing).status_code == 403  # no bills
    assert client.get("/v1/batches/bat_x", headers=admin).status_code == 404  # admin does both

    made = client.post("/v1/admin/keys", json={"name": "crm"}, headers=admin)
    assert made.status_code == 201
    body = made.get_json()
    assert body["scope"] == "billing" and body["key"].startswith(body["prefix"])
    assert client.get("/v1/batches/bat_x", headers=bearer(body["key"])).status_code == 404

    wrong = client.post("/v1/admin/keys", json={"name": "", "scope": "root"}, headers=admin)
    assert wrong.status_code == 422
    assert {e["pointer"] for e in wrong.get_json()["errors"]} == {"/name", "/scope"}

    rotated = client.post(f"/v1/admin/keys/{body['id']}/rotate", headers=admin)
    assert rotated.status_code == 201
    assert rotated.get_json()["account"] == body["account"] == body["id"]

    listed = client.get("/v1/admin/keys", headers=admin).get_json()["keys"]
    assert [k["name"] for k in listed] == ["ops", "billing-system", "brand-team", "crm", "crm"]
    assert all("key" not in k and "key_hash" not in k for k in listed)

    assert client.delete(f"/v1/admin/keys/{body['id']}", headers=admin).status_code == 204
    assert client.delete(f"/v1/admin/keys/{body['id']}", headers=admin).status_code == 204
    assert client.delete("/v1/admin/keys/key_unknown", headers=admin).status_code == 404
    assert client.get("/v1/batches/bat_x", headers=bearer(body["key"])).status_code == 401
    new_key = bearer(rotated.get_json()["key"])
    assert client.get("/v1/batches/bat_x", headers=new_key).status_code == 404
