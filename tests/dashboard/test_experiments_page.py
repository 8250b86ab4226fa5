"""`/dashboard/experiments`: shown to their account only; the publish form is refused to a
billing session and to a post from another site."""

from __future__ import annotations

from flask.testing import FlaskClient

from app.access.keys import create_key, make_key
from app.infra.services import Services
from app.templates.store import get_version
from tests.experiments.kit import TEMPLATE, design, two_versions


def test_experiments_are_shown_to_their_account_and_publishing_needs_an_admin_session(
    client: FlaskClient, auth: dict[str, str], api_key: str, services: Services
) -> None:
    assert client.get("/dashboard/experiments").status_code == 303  # not logged in
    two_versions(services)
    made = client.post("/v1/experiments", json=design(), headers=auth).get_json()
    client.post("/dashboard/login", data={"api_key": api_key})
    listed = client.get("/dashboard/experiments").get_data(as_text=True)
    assert f'href="/dashboard/experiments/{made["id"]}"' in listed and "<script" not in listed
    assert 'href="/dashboard/experiments"' in client.get("/dashboard").get_data(as_text=True)
    page = client.get(f"/dashboard/experiments/{made['id']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "script-src" not in page.headers["Content-Security-Policy"]
    assert "No verdict yet" in html and 'id="publish"' not in html and "<script" not in html
    publish = f"/dashboard/experiments/{made['id']}/publish-winner"
    assert client.post(publish).status_code == 403  # a billing session may not publish
    assert client.post(publish, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403

    admin = make_key(services.db, "admin", "admin")  # another account
    client.post("/dashboard/logout")
    client.post("/dashboard/login", data={"api_key": admin.secret})
    assert client.get(f"/dashboard/experiments/{made['id']}").status_code == 404
    assert client.post(publish).status_code == 404
    assert made["name"] not in client.get("/dashboard/experiments").get_data(as_text=True)
    assert get_version(services.db, TEMPLATE, 1).state == "published"  # nothing published
    client.post("/dashboard/logout")
    client.post("/dashboard/login", data={"api_key": create_key(services.db, "billing 2")})
    assert "No experiments yet" in client.get("/dashboard/experiments").get_data(as_text=True)
