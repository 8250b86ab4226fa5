"""Customer routes under `/r/`: microsite, seekable video (local files streamed with range
requests; S3 a presigned redirect made at click time), pay redirect, friendly errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.customer.pages import PRESIGNED_URL_SECONDS
from app.infra.database import Event, Render
from app.infra.services import Services
from app.infra.storage import CONTENT_TYPES
from app.rendering.job import run_render_with
from tests.eventkit import FAKE_FILES, make_batch, request_for, visit
from tests.factories import make_render_request
from tests.s3server import (
    MotoServer,
    moto_server_fixture,  # noqa: F401 (the moto_server fixture)
    s3_bucket_fixture,  # noqa: F401 (the s3_bucket fixture)
)

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
    from app.access.keys import create_key
    from app.infra.settings import Settings
    from app.wiring import create_app

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


def test_poster_captions_and_chapters_are_served(rendered: Any) -> None:
    client, _, _, body = rendered
    poster = client.get(path_of(body["links"]["poster"]))
    assert poster.status_code == 200 and poster.mimetype == "image/jpeg"
    assert poster.data[:3] == b"\xff\xd8\xff"
    captions = client.get(path_of(body["links"]["captions"]))
    assert captions.mimetype == "text/vtt"
    assert captions.get_data(as_text=True).startswith("WEBVTT")
    chapters = client.get(path_of(body["links"]["chapters"]))
    assert chapters.status_code == 200 and chapters.mimetype == "text/vtt"
    assert "\nending\n" in chapters.get_data(as_text=True)  # a cue per scene, by its id


def test_a_relative_data_directory_serves_the_links_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default data directory is relative (./var), as `make demo` and `make serve` use it."""
    from app.access.keys import create_key
    from app.infra.settings import Settings
    from app.wiring import create_app

    monkeypatch.chdir(tmp_path)
    settings = Settings(data_dir=Path("var"), public_url="https://b.example.test")
    app = create_app(settings, start_queue=False)
    services: Services = app.extensions["billreel"]
    auth = {"Authorization": f"Bearer {create_key(services.db, 'relative')}"}
    client = app.test_client()
    body = accept(client, auth, ["video", "microsite"])
    assert run_render_with(services, body["id"]) == "done"
    links = client.get(f"/v1/renders/{body['id']}", headers=auth).get_json()["links"]
    try:
        for name in ("video", "poster", "captions", "chapters"):
            response = client.get(path_of(links[name]))
            assert response.status_code == 200, name
            assert response.data
    finally:
        services.db.dispose()


def test_pay_link_records_the_click_and_leads_only_to_the_bills_payment_url(rendered: Any) -> None:
    client, _, services, body = rendered
    response = client.get(path_of(body["links"]["microsite"]) + "/pay")
    assert response.status_code == 302
    assert response.headers["Location"] == make_render_request()["data"]["payment"]["url"]
    assert "pay_click" in events(services, body["id"])
    # HEAD (link scanners) is answered and kept, but flagged so it is never counted.
    before = len(events(services, body["id"]))
    assert client.head(path_of(body["links"]["microsite"])).status_code == 200
    with services.db.session() as session:
        kept = list(
            session.scalars(select(Event).where(Event.render_id == body["id"]).order_by(Event.id))
        )
    assert len(kept) == before + 1
    assert kept[-1].flagged == "head"


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


# --- delivery from S3: a presigned URL made at click time ----------------------------------


@pytest.fixture
def s3_app(tmp_path: Path, moto_server: MotoServer, s3_bucket: str) -> Iterator[Flask]:
    from app.infra.settings import Settings
    from app.wiring import create_app

    settings = Settings(
        data_dir=tmp_path / "var",
        public_url="https://b.example.test",
        s3_bucket=s3_bucket,
        s3_endpoint_url=moto_server.endpoint_url,
    )
    flask_app = create_app(settings, start_queue=False)
    yield flask_app
    flask_app.extensions["billreel"].db.dispose()


def test_s3_outputs_are_fresh_presigned_redirects_and_the_tracks_are_served(s3_app: Flask) -> None:
    from app.access.keys import create_key

    services: Services = s3_app.extensions["billreel"]
    client = s3_app.test_client()
    auth = {"Authorization": f"Bearer {create_key(services.db, 's3')}"}
    _, (render,) = make_batch(client, auth, services, [request_for(1, ("video", "microsite"))])
    page = visit(client, f"/r/{render.token}")
    assert page.get_data() == FAKE_FILES["site/index.html"]
    # The poster and video come by redirect from the bucket's origin: the policy names it.
    bucket_origin = "{0.scheme}://{0.netloc}".format(
        urlsplit(visit(client, f"/r/{render.token}/poster.jpg").headers["Location"])
    )
    policy = page.headers["Content-Security-Policy"]
    assert f"img-src 'self' data: {bucket_origin};" in policy
    assert f"media-src 'self' blob: {bucket_origin};" in policy
    # The text tracks are served from here: a <track> of another origin would need CORS.
    for name in ("captions.vtt", "chapters.vtt"):
        answer = visit(client, f"/r/{render.token}/{name}")
        assert answer.status_code == 200 and answer.get_data() == FAKE_FILES[name]
        assert answer.headers["Content-Type"].startswith(CONTENT_TYPES[name])
    for name in ("video.mp4", "poster.jpg"):
        answer = visit(client, f"/r/{render.token}/{name}")
        assert answer.status_code == 302 and answer.headers["Cache-Control"] == "no-store"
        location = answer.headers["Location"]
        query = parse_qs(urlsplit(location).query)
        assert query["X-Amz-Expires"] == [str(PRESIGNED_URL_SECONDS)]
        assert render.token not in location  # the object key is the render id, not the token
        served = requests.get(location, headers={"Range": "bytes=2-5"}, timeout=30)
        assert served.status_code == 206 and served.content == FAKE_FILES[name][2:6]
        assert served.headers["Content-Type"] == CONTENT_TYPES[name]
    # Made at click time: each click gets its own URL; HEAD is redirected too, and flagged.
    first = visit(client, f"/r/{render.token}/video.mp4").headers["Location"]
    time.sleep(1.1)  # SigV4 signs the second: a later click signs a different URL
    assert visit(client, f"/r/{render.token}/video.mp4").headers["Location"] != first
    assert client.head(f"/r/{render.token}/video.mp4").status_code == 302
    assert events(services, render.id)[:2] == ["opened", "opened"]
    with services.db.session() as session:
        last = session.scalars(select(Event).order_by(Event.id.desc()).limit(1)).one()
    assert (last.type, last.name, last.flagged) == ("opened", "video", "head")
