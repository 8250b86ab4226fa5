"""`/v1/templates` through the test client: versions made, saved with If-Match, compared,
published, rolled back and archived; scopes; renders and billing runs pinned to a version."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from typing import Any

import pytest
from flask.testing import FlaskClient
from PIL import Image

from app.access.keys import create_key
from app.infra.database import Render
from app.infra.services import Services
from app.rendering.job import run_render_with
from app.templates.files import shipped_files
from tests.factories import make_render_request

NAME = "bill-explainer"
IT_PO = "microsite/messages/it.po"
PROBLEM = "application/problem+json"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def keys(services: Services) -> dict[str, dict[str, str]]:
    return {
        scope: bearer(create_key(services.db, f"{scope} team", scope))
        for scope in ("billing", "marketing", "admin")
    }


def files_of(client: FlaskClient, auth: dict[str, str], number: int) -> dict[str, Any]:
    response = client.get(f"/v1/templates/{NAME}/versions/{number}/files", headers=auth)
    assert response.status_code == 200
    files: dict[str, Any] = response.get_json()["files"]
    return files


def new_draft(client: FlaskClient, auth: dict[str, str], source: int = 1) -> dict[str, Any]:
    made = client.post(
        f"/v1/templates/{NAME}/versions", json={"from": source, "message": "Spring"}, headers=auth
    )
    assert made.status_code == 201, made.get_json()
    body: dict[str, Any] = made.get_json()
    assert made.headers["ETag"] == f'"{body["etag"]}"'
    assert made.headers["Location"] == f"/v1/templates/{NAME}/versions/{body['number']}"
    return body


def save(
    client: FlaskClient, auth: dict[str, str], number: int, etag: str, files: dict[str, Any]
) -> Any:
    return client.patch(
        f"/v1/templates/{NAME}/versions/{number}",
        json={"files": files},
        headers={**auth, "If-Match": f'"{etag}"'},
    )


def greeting_changed(files: dict[str, Any], greeting: str) -> dict[str, str]:
    po = files[IT_PO].replace('msgstr "Ciao {name}"', f'msgstr "{greeting} {{name}}"')
    assert po != files[IT_PO]
    return {IT_PO: po}


def test_the_shipped_bundle_is_the_first_published_version(
    client: FlaskClient, keys: dict[str, dict[str, str]]
) -> None:
    listed = client.get("/v1/templates", headers=keys["billing"])  # a billing key reads
    assert listed.status_code == 200
    assert listed.get_json()["data"] == [
        {**listed.get_json()["data"][0], "name": NAME, "published": 1, "versions": 1, "drafts": 0}
    ]
    version = client.get(f"/v1/templates/{NAME}/versions/1", headers=keys["billing"]).get_json()
    assert version["state"] == "published" and version["author"] == "billreel"
    shipped = shipped_files(NAME)
    assert {f["path"] for f in version["files"]} == set(shipped)
    files = files_of(client, keys["billing"], 1)
    assert files["scenes/scenes.yaml"].encode() == shipped["scenes/scenes.yaml"]
    assert (
        base64.b64decode(files["scenes/assets/logo.png"]["base64"])
        == (shipped["scenes/assets/logo.png"])
    )


def test_a_draft_is_saved_with_if_match_and_a_stale_save_loses_nothing(
    client: FlaskClient, keys: dict[str, dict[str, str]]
) -> None:
    marketing = keys["marketing"]
    draft = new_draft(client, marketing)
    assert (draft["number"], draft["state"], draft["parent"]) == (2, "draft", 1)
    assert draft["author"] == "marketing team"
    files = files_of(client, marketing, 2)

    missing = client.patch(
        f"/v1/templates/{NAME}/versions/2", json={"files": {}}, headers=marketing
    )
    assert missing.status_code == 428 and missing.mimetype == PROBLEM

    first = save(client, marketing, 2, draft["etag"], greeting_changed(files, "Salve"))
    assert first.status_code == 200, first.get_json()
    saved = first.get_json()
    assert saved["revision"] == 2 and saved["etag"] != draft["etag"]

    # A second editor who read the draft before that save: refused, told what is newer.
    stale = save(client, keys["admin"], 2, draft["etag"], greeting_changed(files, "Buongiorno"))
    assert stale.status_code == 412 and stale.mimetype == PROBLEM
    problem = stale.get_json()
    assert problem["current"]["etag"] == saved["etag"]
    assert problem["current"]["updated_by"] == "marketing team"
    assert stale.headers["ETag"] == f'"{saved["etag"]}"'
    kept = files_of(client, marketing, 2)[IT_PO]
    assert 'msgstr "Salve {name}"' in kept  # the first save is intact

    # Deleting a file, and a file that is refused: nothing of the refused save is written.
    svg = {"scenes/assets/logo.png": {"base64": base64.b64encode(b"<svg></svg>").decode()}}
    refused = save(client, marketing, 2, saved["etag"], svg)
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["pointer"] == "/files/scenes~1assets~1logo.png"
    assert "SVG" in refused.get_json()["errors"][0]["detail"]
    after = client.get(f"/v1/templates/{NAME}/versions/2", headers=marketing).get_json()
    assert after["etag"] == saved["etag"]


def test_diff_lists_changed_files_with_a_unified_diff(
    client: FlaskClient, keys: dict[str, dict[str, str]]
) -> None:
    marketing = keys["marketing"]
    draft = new_draft(client, marketing)
    files = files_of(client, marketing, 2)
    change = greeting_changed(files, "Salve") | {
        "microsite/extra.txt": "notes",
        "scenes/assets/music.txt": None,
    }
    assert save(client, marketing, 2, draft["etag"], change).status_code == 200
    body = client.get(f"/v1/templates/{NAME}/diff?from=1&to=2", headers=marketing).get_json()
    changes = {f["path"]: f for f in body["files"]}
    assert set(changes) == {IT_PO, "microsite/extra.txt", "scenes/assets/music.txt"}
    assert changes[IT_PO]["change"] == "modified"
    assert '-msgstr "Ciao {name}"' in changes[IT_PO]["diff"]
    assert '+msgstr "Salve {name}"' in changes[IT_PO]["diff"]
    assert changes["microsite/extra.txt"]["change"] == "added"
    assert changes["scenes/assets/music.txt"]["change"] == "removed"
    wrong = client.get(f"/v1/templates/{NAME}/diff?from=1&to=x", headers=marketing)
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["pointer"] == "/to"


def test_scopes_billing_reads_and_renders_marketing_edits(
    client: FlaskClient, keys: dict[str, dict[str, str]]
) -> None:
    draft = new_draft(client, keys["marketing"])
    for attempt in (
        client.post(f"/v1/templates/{NAME}/versions/2/publish", headers=keys["billing"]),
        client.post(f"/v1/templates/{NAME}/versions", json={"from": 1}, headers=keys["billing"]),
        save(client, keys["billing"], 2, draft["etag"], {}),
    ):
        assert attempt.status_code == 403 and attempt.mimetype == PROBLEM
        assert "marketing" in attempt.get_json()["detail"]
    # Marketing sees no customer data: no renders, batches or customers.
    render = client.post("/v1/renders", json=make_render_request(), headers=keys["marketing"])
    assert render.status_code == 403 and render.mimetype == PROBLEM
    assert client.get("/v1/renders/rnd_x", headers=keys["marketing"]).status_code == 403
    assert (
        client.post("/v1/renders", json=make_render_request(), headers=keys["admin"]).status_code
        == 202
    )


def test_publish_pins_new_renders_and_leaves_earlier_ones(
    client: FlaskClient, services: Services, keys: dict[str, dict[str, str]]
) -> None:
    billing, marketing = keys["billing"], keys["marketing"]
    request = make_render_request(outputs=["microsite"])
    before = client.post("/v1/renders", json=request, headers=billing).get_json()
    assert before["template"] == f"{NAME}@1"
    batch = client.post(
        "/v1/batches",
        data="\n".join(json.dumps(request) for _ in range(2)),
        headers=billing,
        content_type="application/x-ndjson",
    ).get_json()

    draft = new_draft(client, marketing)
    assert (
        save(
            client,
            marketing,
            2,
            draft["etag"],
            greeting_changed(files_of(client, marketing, 2), "Salve"),
        ).status_code
        == 200
    )
    published = client.post(f"/v1/templates/{NAME}/versions/2/publish", headers=marketing)
    assert published.status_code == 200, published.get_json()
    checked = published.get_json()["checked"]
    assert checked["version"] == f"{NAME}@2"
    assert {"name": "validates", "ok": True, "problems": []} in checked["checks"]
    states = {
        v["number"]: v["state"]
        for v in client.get(f"/v1/templates/{NAME}/versions", headers=marketing).get_json()["data"]
    }
    assert states == {1: "archived", 2: "published"}

    after = client.post("/v1/renders", json=request, headers=billing).get_json()
    pinned_old = client.post(
        "/v1/renders", json={**request, "template": f"{NAME}@1"}, headers=billing
    ).get_json()
    assert after["template"] == f"{NAME}@2" and pinned_old["template"] == f"{NAME}@1"

    results = client.get(f"/v1/batches/{batch['id']}/results", headers=billing).get_data(
        as_text=True
    )
    batch_ids = [json.loads(line)["id"] for line in results.splitlines()]
    for render_id in [before["id"], after["id"], pinned_old["id"], *batch_ids]:
        assert run_render_with(services, render_id) == "done"

    def page(render: dict[str, Any]) -> str:
        done = client.get(f"/v1/renders/{render['id']}", headers=billing).get_json()
        token = done["links"]["microsite"].rsplit("/", 1)[1]
        return client.get(f"/r/{token}").get_data(as_text=True)

    assert "Salve Giulia" in page(after)
    for old in (before, pinned_old):
        assert "Ciao Giulia" in page(old) and "Salve" not in page(old)
    with services.db.session() as session:  # the billing run made before the publish
        assert {session.get(Render, rid).template_version for rid in batch_ids} == {f"{NAME}@1"}

    # Rollback: publishing version 1 again.
    rolled = client.post(f"/v1/templates/{NAME}/versions/1/publish", headers=marketing)
    assert rolled.status_code == 200
    assert rolled.get_json()["checked"]["checks"][0]["name"] == "published before (a rollback)"
    again = client.post("/v1/renders", json=request, headers=billing).get_json()
    assert again["template"] == f"{NAME}@1"


def test_a_draft_cannot_be_rendered_or_published_broken_or_archived_published(
    client: FlaskClient, keys: dict[str, dict[str, str]]
) -> None:
    marketing = keys["marketing"]
    draft = new_draft(client, marketing)
    as_draft = client.post(
        "/v1/renders", json=make_render_request(template=f"{NAME}@2"), headers=keys["billing"]
    )
    assert as_draft.status_code == 422
    assert as_draft.get_json()["errors"][0]["pointer"] == "/template"
    assert "draft" in as_draft.get_json()["errors"][0]["detail"]

    spec = files_of(client, marketing, 2)["scenes/scenes.yaml"]
    broken = spec.replace("duration: 4.5", "duration: -1", 1)
    assert (
        save(client, marketing, 2, draft["etag"], {"scenes/scenes.yaml": broken}).status_code == 200
    )
    problems = client.get(f"/v1/templates/{NAME}/versions/2/problems", headers=marketing).get_json()
    assert problems["problems"][0]["file"] == "scenes/scenes.yaml"
    assert problems["problems"][0]["line"] == broken.splitlines().index("    duration: -1") + 1
    refused = client.post(f"/v1/templates/{NAME}/versions/2/publish", headers=marketing)
    assert refused.status_code == 422 and refused.mimetype == PROBLEM
    assert refused.get_json()["checks"]["checks"][0]["ok"] is False

    archived_published = client.post(f"/v1/templates/{NAME}/versions/1/archive", headers=marketing)
    assert archived_published.status_code == 422
    archived = client.post(f"/v1/templates/{NAME}/versions/2/archive", headers=marketing)
    assert archived.status_code == 200 and archived.get_json()["state"] == "archived"
    assert save(client, marketing, 2, archived.get_json()["etag"], {}).status_code == 422


def test_a_zip_upload_makes_a_new_template_and_assets_are_checked(
    client: FlaskClient, keys: dict[str, dict[str, str]]
) -> None:
    marketing = keys["marketing"]
    shipped = shipped_files(NAME)
    shipped["scenes/scenes.yaml"] = shipped["scenes/scenes.yaml"].replace(
        b"name: bill-explainer", b"name: spring-offer"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in shipped.items():
            archive.writestr(f"spring-offer/{path}", data)  # a zipped folder
    made = client.post(
        "/v1/templates/spring-offer/versions?message=From+the+agency",
        data=buffer.getvalue(),
        headers={**marketing, "Idempotency-Key": "upload-1"},
        content_type="application/zip",
    )
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["message"] == "From the agency"
    replayed = client.post(
        "/v1/templates/spring-offer/versions?message=From+the+agency",
        data=buffer.getvalue(),
        headers={**marketing, "Idempotency-Key": "upload-1"},
        content_type="application/zip",
    )
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    assert replayed.get_json()["id"] == made.get_json()["id"]
    listed = client.get("/v1/templates", headers=marketing).get_json()["data"]
    assert {"name": "spring-offer", "published": None, "versions": 1, "drafts": 1}.items() <= (
        next(t for t in listed if t["name"] == "spring-offer").items()
    )

    big = io.BytesIO()
    Image.new("RGB", (5000, 10), "red").save(big, "PNG")
    for path, value, wanted in [
        ("scenes/assets/logo.png", {"base64": base64.b64encode(big.getvalue()).decode()}, "4096"),
        ("scenes/assets/logo.png", {"base64": base64.b64encode(b"GIF89a....").decode()}, "decode"),
        (
            "scenes/assets/music.ogg",
            {"base64": base64.b64encode(b"OggS" + b"\0" * 64).decode()},
            "audio",
        ),
        ("scenes/../../etc/passwd.txt", "x", "A-Z"),
        ("scenes/tool.exe", "x", "unknown file type"),
    ]:
        files = {p: {"base64": base64.b64encode(d).decode()} for p, d in shipped.items()}
        files[path] = value
        bad = client.post("/v1/templates/other/versions", json={"files": files}, headers=marketing)
        assert bad.status_code == 422, path
        assert wanted in json.dumps(bad.get_json()), (path, bad.get_json())


def test_previews_of_a_draft_over_the_sample_bills(
    client: FlaskClient, services: Services, keys: dict[str, dict[str, str]]
) -> None:
    marketing = keys["marketing"]
    new_draft(client, marketing)
    url = f"/v1/templates/{NAME}/versions/2/preview"

    frame = client.post(url, json={"kind": "frame", "t": 3.0, "locale": "it"}, headers=marketing)
    assert frame.status_code == 200, frame.get_json()
    body = frame.get_json()
    image = Image.open(io.BytesIO(base64.b64decode(body["png_base64"])))
    assert image.size == (1280, 720)
    assert body["frame"]["scene"]["start"] <= 3.0 < body["frame"]["scene"]["end"]
    assert body["frame"]["scenes"][0]["id"] == "intro"

    tall = client.post(url, json={"kind": "poster", "format": "9:16"}, headers=marketing)
    assert Image.open(io.BytesIO(base64.b64decode(tall.get_json()["png_base64"]))).size == (
        720,
        1280,
    )

    site = client.post(
        url, json={"kind": "site", "ending": "thanks", "locale": "it"}, headers=marketing
    )
    assert (
        site.status_code == 200 and "Giulia" not in site.get_json()["html"]
    )  # a sample, not a customer
    assert '<html lang="it' in site.get_json()["html"]

    for wrong, pointer in (
        ({"kind": "frame", "locale": "xx"}, "/locale"),
        ({"kind": "grid", "scene": "nope"}, "/scene"),
        ({"kind": "gif"}, "/kind"),
    ):
        refused = client.post(url, json=wrong, headers=marketing)
        assert (
            refused.status_code == 422 and refused.get_json()["errors"][0]["pointer"] == pointer
        ), wrong
    assert client.post(url, json={"kind": "frame"}, headers=keys["billing"]).status_code == 403

    queued = client.post(url, json={"kind": "video", "locale": "it"}, headers=marketing)
    assert queued.status_code == 202
    render_id = queued.get_json()["render"]["id"]
    assert queued.headers["Location"] == f"/v1/templates/{NAME}/previews/{render_id}"
    assert client.get(queued.headers["Location"], headers=marketing).get_json()["video"] is None
    assert run_render_with(services, render_id) == "done"
    state = client.get(queued.headers["Location"], headers=marketing).get_json()
    assert state["status"] == "done" and state["template"] == f"{NAME}@2"
    video = client.get(state["video"], headers=marketing)
    assert video.status_code == 200 and video.mimetype == "video/mp4" and len(video.data) > 10_000
    with services.db.session() as session:
        row = session.get(Render, render_id)
        assert row.purpose == "preview" and row.customer_id == "SAMPLE" and row.callback_url is None
    # Another account cannot see it.
    other = bearer(create_key(services.db, "other agency", "marketing"))
    assert client.get(queued.headers["Location"], headers=other).status_code == 404
