"""Dashboard sessions end when they should: logout, idle, too long, key revoked, an admin;
the old cookie then opens no page again, on any process."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.access.keys import create_key, revoke_key
from app.dashboard.views import COOKIE
from app.infra.database import DashboardSession, utcnow
from app.infra.services import Services

LOGIN_FORM = 'name="api_key"'


def log_in(client: FlaskClient, key: str) -> str:
    answer = client.post("/dashboard/login", data={"api_key": key})
    assert answer.status_code == 303
    cookie = answer.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    assert key not in cookie
    return cookie


def opens(client: FlaskClient, cookie: str) -> bool:
    """True when this cookie, sent as is, opens the dashboard (not the login form)."""
    client.set_cookie(COOKIE, cookie, path="/dashboard")
    page = client.get("/dashboard").get_data(as_text=True)
    return LOGIN_FORM not in page and "Billing runs" in page


def test_logging_out_ends_the_session_on_the_server(client: FlaskClient, api_key: str) -> None:
    cookie = log_in(client, api_key)
    assert opens(client, cookie)
    out = client.post("/dashboard/logout")
    assert out.status_code == 303
    assert not opens(client, cookie)  # a copy of the old cookie opens nothing


def test_a_new_login_never_reuses_the_session(client: FlaskClient, api_key: str) -> None:
    first = log_in(client, api_key)
    second = log_in(client, api_key)
    assert first != second
    assert not opens(client, first) and opens(client, second)


@pytest.mark.parametrize(
    ("moved", "reason"),
    [
        ({"last_seen_at": timedelta(minutes=31)}, "idle"),
        ({"created_at": timedelta(hours=8)}, "expired"),
    ],
)
def test_idle_and_too_long_sessions_end(
    client: FlaskClient, api_key: str, services: Services, moved: dict[str, Any], reason: str
) -> None:
    cookie = log_in(client, api_key)
    assert opens(client, cookie)
    with services.db.session() as session:
        row = session.query(DashboardSession).one()
        for column, back in moved.items():
            setattr(row, column, utcnow() - back)
            if column == "created_at":
                row.last_seen_at = utcnow()  # seen a moment ago: only its age ends it
    assert not opens(client, cookie)
    with services.db.session() as session:
        assert session.query(DashboardSession).one().end_reason == reason


def test_a_revoked_key_ends_its_sessions(
    client: FlaskClient, api_key: str, services: Services
) -> None:
    cookie = log_in(client, api_key)
    with services.db.session() as session:
        key_id = session.query(DashboardSession).one().key_id
    revoke_key(services.db, key_id)
    assert not opens(client, cookie)


def test_an_admin_lists_sessions_and_ends_one(
    client: FlaskClient, api_key: str, services: Services
) -> None:
    admin = {"Authorization": f"Bearer {create_key(services.db, 'ops', 'admin')}"}
    cookie = log_in(client, api_key)
    listed = client.get("/v1/admin/sessions?live=true", headers=admin)
    assert listed.status_code == 200
    [entry] = listed.get_json()["sessions"]
    assert entry["ended_at"] is None and cookie not in listed.get_data(as_text=True)
    billing = {"Authorization": f"Bearer {api_key}"}
    assert client.get("/v1/admin/sessions", headers=billing).status_code == 403

    assert client.delete(f"/v1/admin/sessions/{entry['id']}", headers=admin).status_code == 204
    assert not opens(client, cookie)
    [ended] = client.get("/v1/admin/sessions", headers=admin).get_json()["sessions"]
    assert ended["end_reason"] == "admin"
    assert client.get("/v1/admin/sessions?live=true", headers=admin).get_json()["sessions"] == []
    assert client.delete("/v1/admin/sessions/ses_unknown", headers=admin).status_code == 404
