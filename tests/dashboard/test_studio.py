"""`/dashboard/studio` through the test client: who may use it, its policy, its writes'
guards, saving with If-Match (a stale save answers 412 with both sides), and publishing."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from app.access.keys import create_key
from app.dashboard import studio_preview
from app.infra.services import Services
from app.templates.lookup import ensure_shipped
from app.templates.store import create_draft, get_version, read_files

NAME = "bill-explainer"
WRITE = {"X-Studio-Request": "1"}
GREETING = {"op": "set_string", "catalog": "video", "key": "greeting.title", "locale": "it"}


def log_in(client: FlaskClient, services: Services, scope: str, name: str = "someone") -> str:
    key = create_key(services.db, name, scope)
    answer = client.post("/dashboard/login", data={"api_key": key})
    assert answer.status_code == 303
    return str(answer.headers["Location"])


@pytest.fixture
def draft(services: Services) -> int:
    ensure_shipped(services)
    return create_draft(services, NAME, author="test", from_number=1).number


def api(draft: int, tail: str = "") -> str:
    return f"/dashboard/studio/api/{NAME}/{draft}{tail}"


def test_scopes_decide_where_a_login_lands_and_what_it_sees(
    app: Any, services: Services, draft: int
) -> None:
    marketing, billing, admin = app.test_client(), app.test_client(), app.test_client()
    assert log_in(marketing, services, "marketing") == "/dashboard/studio"
    assert log_in(billing, services, "billing") == "/dashboard"
    assert log_in(admin, services, "admin") == "/dashboard"
    # marketing: the studio, no batches (no customer data)
    assert marketing.get("/dashboard").headers["Location"] == "/dashboard/studio"
    assert marketing.get("/dashboard/studio").status_code == 200
    # billing: the funnels, not the studio
    assert billing.get("/dashboard/studio").status_code == 403
    assert billing.get(api(draft)).status_code == 403
    # admin: both
    assert admin.get("/dashboard").status_code == 200
    assert admin.get(api(draft)).status_code == 200
    assert app.test_client().get(api(draft)).status_code == 401


def test_the_studio_pages_have_a_strict_policy(client: FlaskClient, services: Services) -> None:
    log_in(client, services, "marketing")
    ensure_shipped(services)
    page = client.get(f"/dashboard/studio/{NAME}/1")
    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "frame-src 'self'" in policy
    assert "unsafe-eval" not in policy and "frame-ancestors 'none'" in policy
    html = page.get_data(as_text=True)
    assert '<script type="module" src="/dashboard/studio/static/studio.js">' in html
    assert "<script>" not in html  # no inline script
    script = client.get("/dashboard/studio/static/studio.js")
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]
    bundle = client.get("/dashboard/studio/static/codemirror.js")
    assert bundle.status_code == 200 and b"EditorView" in bundle.get_data()
    assert client.get("/dashboard/studio/static/codemirror.LICENSE.txt").status_code == 200


def test_writes_need_the_studio_header_and_this_origin(
    client: FlaskClient, services: Services, draft: int
) -> None:
    log_in(client, services, "marketing")
    body = {"edits": []}
    assert client.post(api(draft, "/form"), json=body).status_code == 403
    cross = {**WRITE, "Sec-Fetch-Site": "cross-site"}
    assert client.post(api(draft, "/form"), json=body, headers=cross).status_code == 403
    assert client.post(api(draft, "/form"), json=body, headers=WRITE).status_code == 200


def test_a_refused_edit_names_its_field(
    client: FlaskClient, services: Services, draft: int
) -> None:
    log_in(client, services, "marketing")
    edits = [{"op": "set_scene", "scene": "tip", "field": "duration", "value": 99}]
    answer = client.post(api(draft, "/form"), json={"edits": edits}, headers=WRITE)
    assert answer.status_code == 422
    assert answer.get_json()["field"] == "scenes.tip.duration"


def test_save_with_if_match_and_a_stale_save_keeps_both_sides(
    app: Any, services: Services, draft: int
) -> None:
    first, second = app.test_client(), app.test_client()
    log_in(first, services, "marketing", "Marta")
    log_in(second, services, "marketing", "Luca")
    seen = [c.get(api(draft)).get_json()["version"]["etag"] for c in (first, second)]
    mine = {"edits": [{**GREETING, "value": "Salve {name}"}], "message": "a greeting"}
    assert first.post(api(draft, "/save"), json=mine, headers=WRITE).status_code == 428
    saved = first.post(
        api(draft, "/save"), json=mine, headers={**WRITE, "If-Match": f'"{seen[0]}"'}
    )
    assert saved.status_code == 200
    version = get_version(services.db, NAME, draft)
    assert version.updated_by == "Marta" and version.message == "a greeting"
    theirs = {"edits": [{**GREETING, "value": "Ehilà {name}"}]}
    stale = second.post(api(draft, "/save"), json=theirs, headers={**WRITE, "If-Match": seen[1]})
    assert stale.status_code == 412
    body = stale.get_json()
    assert body["current"]["etag"] == version.etag
    [item] = body["items"]
    assert (item["base"], item["theirs"], item["mine"], item["conflict"]) == (
        "Ciao {name}", "Salve {name}", "Ehilà {name}", True)  # fmt: skip
    it = read_files(services, get_version(services.db, NAME, draft))["scenes/narration/it.yaml"]
    assert b"Salve {name}" in it  # the first save stands until the second editor chooses


def test_publish_refused_by_a_check_leaves_the_draft_and_rolling_back_is_publishing_again(
    client: FlaskClient, services: Services, draft: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checks over every sample run for real in tests/browser/test_studio.py; here a
    failing one stands in, to see a refusal reach the page with its report."""
    log_in(client, services, "marketing")
    failing = {"name": "every sample renders", "ok": False, "failures": [{"cell": "x"}]}
    monkeypatch.setattr(studio_preview, "checks", lambda bundle, digest: failing)
    refused = client.post(api(draft, "/publish"), json={}, headers=WRITE)
    assert refused.status_code == 422
    assert refused.get_json()["report"]["checks"][1] == failing
    assert get_version(services.db, NAME, draft).state == "draft"
    assert get_version(services.db, NAME, 1).state == "published"
    passing = {"name": "every sample renders", "ok": True}
    monkeypatch.setattr(studio_preview, "checks", lambda bundle, digest: passing)
    published = client.post(api(draft, "/publish"), json={}, headers=WRITE)
    assert published.status_code == 200
    assert [c["name"] for c in published.get_json()["report"]["checks"]] == [
        "validates", "every sample renders"]  # fmt: skip
    assert get_version(services.db, NAME, 1).state == "archived"
    again = client.post(api(1, "/publish"), json={}, headers=WRITE)
    assert again.status_code == 200
    assert again.get_json()["report"]["checks"] == [
        {"name": "published before (a rollback)", "ok": True}]  # fmt: skip
    assert get_version(services.db, NAME, 1).state == "published"
    assert get_version(services.db, NAME, draft).state == "archived"


def test_uploads_go_through_the_stores_checks(client: FlaskClient, services: Services) -> None:
    log_in(client, services, "marketing")
    svg = "PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4="  # <svg .../>
    answer = client.post("/dashboard/studio/api/check-asset", headers=WRITE,
                         json={"path": "scenes/assets/logo.png", "data": svg})  # fmt: skip
    assert answer.status_code == 200
    assert answer.get_json()["ok"] is False and "SVG" in answer.get_json()["problem"]


def test_a_preview_video_is_queued_for_the_sessions_account_only(
    app: Any, services: Services, draft: int
) -> None:
    owner, other = app.test_client(), app.test_client()
    log_in(owner, services, "marketing")
    log_in(other, services, "marketing")
    sample = {"ending": "firm", "locale": "it"}
    queued = owner.post(api(draft, "/preview/video"), json=sample, headers=WRITE)
    assert queued.status_code == 200
    body = queued.get_json()
    assert body["status"] == "queued" and body["template"] == f"{NAME}@{draft}"
    state = f"/dashboard/studio/api/preview-videos/{body['id']}"
    assert owner.get(state).get_json()["status"] == "queued"
    assert other.get(state).status_code == 404  # another account's preview is not there
    bad = owner.post(api(draft, "/preview/video"), json={**sample, "locale": "xx"}, headers=WRITE)
    assert bad.status_code == 422 and bad.get_json()["field"] == "sample"
