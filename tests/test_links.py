"""Customer routes under `/r/`: microsite, seekable video, pay redirect, friendly errors."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from app.db import Event, Render
from app.jobs import run_render_with
from app.services import Services
from tests.factories import make_render_request

CUSTOMER_HEADERS = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow"}


def accept(client: FlaskClient, auth: dict[str, str], outputs: list[str]) -> dict[str, Any]:
    request = make_render_request()
    request["outputs"] = outputs
    response = client.post("/v1/renders", json=request, headers=auth)
    assert response.status_code == 202
    body: dict[str, Any] = response.get_json()
    return body


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def events(services: Services, render_id: str) -> list[str]:
    with services.db.session() as session:
        return list(session.scalars(select(Event.type).where(Event.render_id == render_id)))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One render with both outputs, done once for the module (a real video render)."""
    from app import create_app
    from app.keys import create_key
    from app.settings import Settings

    app = create_app(
        Settings(
            data_dir=tmp_path_factory.mktemp("links") / "var", public_url="https://b.example.test"
        ),
        start_queue=False,
    )
    services: Services = app.extensions["billreel"]
    auth = {"Authorization": f"Bearer {create_key(services.db, 'links')}"}
    client = app.test_client()
    body = accept(client, auth, ["video", "microsite"])
    assert run_render_with(services, body["id"]) == "done"
    yield client, auth, services, client.get(f"/v1/renders/{body['id']}", headers=auth).get_json()
    services.db.dispose()


def test_microsite_is_served_with_customer_headers(rendered: Any) -> None:
    client, _, services, body = rendered
    response = client.get(path_of(body["links"]["microsite"]))
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    for name, value in CUSTOMER_HEADERS.items():
        assert response.headers[name] == value
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    html = response.get_data(as_text=True)
    assert make_render_request()["data"]["customer"]["name"] in html
    assert "opened" in events(services, body["id"])


def test_video_answers_range_requests(rendered: Any) -> None:
    client, _, _, body = rendered
    path = path_of(body["links"]["video"])
    full = client.get(path)
    assert full.status_code == 200 and full.mimetype == "video/mp4"
    assert full.headers["Accept-Ranges"] == "bytes"
    part = client.get(path, headers={"Range": "bytes=100-1123"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 100-1123/{len(full.data)}"
    assert part.data == full.data[100:1124]
    assert client.get(path, headers={"Range": f"bytes={len(full.data) + 10}-"}).status_code == 416


def test_poster_and_captions_are_served(rendered: Any) -> None:
    client, _, _, body = rendered
    poster = client.get(path_of(body["links"]["poster"]))
    assert poster.status_code == 200 and poster.mimetype == "image/jpeg"
    assert poster.data[:3] == b"\xff\xd8\xff"
    captions = client.get(path_of(body["links"]["captions"]))
    assert captions.mimetype == "text/vtt"
    assert captions.get_data(as_text=True).startswith("WEBVTT")


def test_pay_link_records_the_click_and_leads_only_to_the_bills_payment_url(rendered: Any) -> None:
    client, _, services, body = rendered
    response = client.get(path_of(body["links"]["microsite"]) + "/pay")
    assert response.status_code == 302
    assert response.headers["Location"] == make_render_request()["data"]["payment"]["url"]
    assert "pay_click" in events(services, body["id"])
    # HEAD (link scanners) is answered but never counted as a visit.
    before = len(events(services, body["id"]))
    assert client.head(path_of(body["links"]["microsite"])).status_code == 200
    assert len(events(services, body["id"])) == before


@pytest.mark.parametrize(
    "path",
    [
        "/r/unknowntokenunknowntoken",
        "/r/x",
        "/r/unknowntokenunknowntoken/video.mp4",
        "/r/unknowntokenunknowntoken/pay",
        "/r/unknowntokenunknowntoken/../../etc/passwd",
        "/r/unknowntokenunknowntoken/secret.txt",
    ],
)
def test_unknown_links_get_a_friendly_404_page(rendered: Any, path: str) -> None:
    client = rendered[0]
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "not available" in response.get_data(as_text=True)
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"


def test_link_before_done_shows_a_preparing_page(client: FlaskClient, auth: dict[str, str]) -> None:
    body = accept(client, auth, ["microsite"])
    response = client.get(path_of(body["links"]["microsite"]))
    assert response.status_code == 200
    assert "being prepared" in response.get_data(as_text=True)
    assert client.get(path_of(body["links"]["microsite"]) + "/video.mp4").status_code == 404


def test_failed_render_link_is_404(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    body = accept(client, auth, ["microsite"])
    with services.db.session() as session:
        render = session.get(Render, body["id"])
        assert render is not None
        render.status = "failed"
    assert client.get(path_of(body["links"]["microsite"])).status_code == 404
