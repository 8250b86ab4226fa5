"""`/v1/renders` and every status code of CONTRACT §3, through the Flask test client."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.access.keys import create_key
from app.api import idempotency
from app.infra.database import Render
from app.infra.services import Services
from tests.factories import make_render_request

PROBLEM = "application/problem+json"


def post_render(client: FlaskClient, auth: dict[str, str], body: Any = None, **headers: str) -> Any:
    payload = make_render_request() if body is None else body
    data = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    return client.post(
        "/v1/renders",
        data=data,
        headers={**auth, **headers},
        content_type=headers.pop("content_type", "application/json"),
    )


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.get_json(force=True)
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"] and body["detail"]
    return body


def render_count(services: Services) -> int:
    with services.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Render)) or 0)


def test_accepted_render_has_links_location_and_queued_status(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    response = post_render(client, auth)
    assert response.status_code == 202
    body = response.get_json()
    assert response.headers["Location"] == f"/v1/renders/{body['id']}"
    assert body["status"] == "queued"
    assert body["template"].startswith("bill-explainer@")
    assert body["error"] is None
    links = body["links"]
    assert links["microsite"].startswith("https://bills.example.test/r/")
    token = links["microsite"].rsplit("/", 1)[1]
    assert len(token) >= 22  # at least 128 bits of url-safe base64
    assert links["video"] == links["microsite"] + "/video.mp4"
    assert links["poster"] == links["microsite"] + "/poster.jpg"
    assert links["captions"] == links["microsite"] + "/captions.vtt"
    assert links["chapters"] == links["microsite"] + "/chapters.vtt"  # beyond the contract
    fetched = client.get(f"/v1/renders/{body['id']}", headers=auth)
    assert fetched.status_code == 200
    assert fetched.get_json() == body


def test_links_carry_no_customer_data(client: FlaskClient, auth: dict[str, str]) -> None:
    request = make_render_request()
    body = post_render(client, auth, request).get_json()
    customer = request["data"]["customer"]
    for link in body["links"].values():
        assert customer["id"] not in link
        assert request["data"]["bill"]["number"] not in link


def test_outputs_limit_the_links(client: FlaskClient, auth: dict[str, str]) -> None:
    request = make_render_request()
    request["outputs"] = ["microsite"]
    body = post_render(client, auth, request).get_json()
    assert set(body["links"]) == {"microsite"}


def test_400_for_malformed_json(client: FlaskClient, auth: dict[str, str]) -> None:
    assert_problem(post_render(client, auth, b'{"template": '), 400)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_400_for_non_json_numbers(client: FlaskClient, auth: dict[str, str], literal: str) -> None:
    text = json.dumps(make_render_request()).replace(
        '"total": "', '"total": ' + literal + ', "x": "'
    )
    assert_problem(post_render(client, auth, text), 400)


def test_401_without_key(client: FlaskClient) -> None:
    response = client.post("/v1/renders", json=make_render_request())
    body = assert_problem(response, 401)
    assert "Bearer" in body["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header", ["Bearer brk_not-a-real-key", "Basic dXNlcjpwYXNz", "Bearer ", "brk_x"]
)
def test_401_with_bad_key(client: FlaskClient, header: str) -> None:
    assert_problem(client.get("/v1/renders/rnd_x", headers={"Authorization": header}), 401)


def test_404_unknown_render_and_unknown_route(client: FlaskClient, auth: dict[str, str]) -> None:
    assert_problem(client.get("/v1/renders/rnd_doesnotexist", headers=auth), 404)
    assert_problem(client.get("/v1/nothing-here", headers=auth), 404)
    assert_problem(client.get("/nothing-here"), 404)


def test_404_for_another_keys_render(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    render_id = post_render(client, auth).get_json()["id"]
    other = {"Authorization": f"Bearer {create_key(services.db, 'other')}"}
    assert_problem(client.get(f"/v1/renders/{render_id}", headers=other), 404)


def test_405_wrong_method(client: FlaskClient, auth: dict[str, str]) -> None:
    response = client.put("/v1/renders", headers=auth, json={})
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_413_body_too_large(api_key_factory: Any) -> None:
    client, auth = api_key_factory(max_body_bytes=2048)
    request = make_render_request()
    request["data"]["extra"] = {"padding": "x" * 4000}
    assert_problem(post_render(client, auth, request), 413)


def test_415_wrong_content_type(client: FlaskClient, auth: dict[str, str]) -> None:
    response = client.post(
        "/v1/renders",
        data=json.dumps(make_render_request()),
        headers=auth,
        content_type="text/plain",
    )
    assert_problem(response, 415)


def test_422_lists_every_problem_with_pointers(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    request = make_render_request()
    request["data"]["bill"]["total"] = "12.345"
    request["data"]["customer"]["id"] = ""
    request["data"]["bill"]["statuz"] = "open"
    body = assert_problem(post_render(client, auth, request), 422)
    pointers = {e["pointer"] for e in body["errors"]}
    assert "/data/bill/total" in pointers
    assert "/data/customer/id" in pointers
    assert "/data/bill/statuz" in pointers
    assert render_count(services) == 0


def test_422_unknown_template(client: FlaskClient, auth: dict[str, str]) -> None:
    request = make_render_request()
    request["template"] = "no-such-template"
    body = assert_problem(post_render(client, auth, request), 422)
    assert body["errors"][0]["pointer"] == "/template"


def test_429_rate_limited_with_retry_after(api_key_factory: Any) -> None:
    client, auth = api_key_factory(rate_limit="3/minute")
    for _ in range(3):
        assert client.get("/v1/renders/rnd_x", headers=auth).status_code == 404
    response = client.get("/v1/renders/rnd_x", headers=auth)
    assert_problem(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_500_is_problem_json_and_hides_details(
    client: FlaskClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_: Any, **__: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("app.api.renders.new_render", explode)
    body = assert_problem(post_render(client, auth), 500)
    assert "secret internals" not in json.dumps(body)


def test_idempotency_replays_the_first_response(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    request = make_render_request()
    first = post_render(client, auth, request, **{"Idempotency-Key": "run-1"})
    again = post_render(client, auth, request, **{"Idempotency-Key": "run-1"})
    assert first.status_code == again.status_code == 202
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert render_count(services) == 1


def test_idempotency_key_with_a_different_body_is_422(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    request = make_render_request()
    assert post_render(client, auth, request, **{"Idempotency-Key": "k"}).status_code == 202
    request["external_id"] = "something-else"
    assert_problem(post_render(client, auth, request, **{"Idempotency-Key": "k"}), 422)


def test_idempotency_key_in_flight_is_409(
    client: FlaskClient, auth: dict[str, str], services: Services, api_key: str
) -> None:
    from app.access.keys import authenticate

    request = make_render_request()
    data = json.dumps(request).encode()
    key = authenticate(services.db, api_key)
    assert key is not None
    import hashlib

    fingerprint = idempotency.request_fingerprint(
        "POST", "/v1/renders", hashlib.sha256(data).hexdigest()
    )
    claimed = idempotency.claim(services.db, key.id, "busy", fingerprint, 3600)
    assert isinstance(claimed, idempotency.Claim)
    response = post_render(client, auth, data, **{"Idempotency-Key": "busy"})
    assert_problem(response, 409)
    assert response.headers["Retry-After"]


def test_idempotency_keys_are_scoped_to_the_api_key(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    other = {"Authorization": f"Bearer {create_key(services.db, 'other')}"}
    one = make_render_request()
    two = make_render_request()
    two["external_id"] = "another"
    assert post_render(client, auth, one, **{"Idempotency-Key": "same"}).status_code == 202
    assert post_render(client, other, two, **{"Idempotency-Key": "same"}).status_code == 202
    assert render_count(services) == 2


def test_invalid_request_with_idempotency_key_is_replayed_too(
    client: FlaskClient, auth: dict[str, str], services: Services
) -> None:
    request = make_render_request()
    request["data"]["bill"]["currency"] = "XXX1"
    first = post_render(client, auth, request, **{"Idempotency-Key": "bad"})
    second = post_render(client, auth, request, **{"Idempotency-Key": "bad"})
    assert first.status_code == second.status_code == 422
    assert first.get_json() == second.get_json()


def test_healthz_needs_no_key(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
