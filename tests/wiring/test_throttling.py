"""Guessing is throttled: wrong keys, failed dashboard logins and unknown link tokens get 429
with Retry-After after a few tries, counted per client address and per key prefix, shared by
every API process (the database here, Redis when set); another client's right key still works.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.access.keys import create_key
from app.infra.settings import Settings
from app.wiring import create_app

ATTACKER = {"REMOTE_ADDR": "203.0.113.7"}
CUSTOMER = {"REMOTE_ADDR": "198.51.100.20"}
TRIES = 4


@pytest.fixture(params=["database", "redis"])
def fleet(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[FlaskClient]]:
    """Two API processes' apps on one database (and one Redis), with small limits."""
    extra: dict[str, Any] = {}
    if request.param == "redis":
        extra["redis_url"] = request.getfixturevalue("redis_server")
    settings = Settings(
        data_dir=tmp_path / "var",
        login_failure_limit=f"{TRIES}/15 minutes",
        key_prefix_failure_limit=f"{TRIES * 2}/15 minutes",
        link_miss_limit=f"{TRIES}/10 minutes",
        **extra,
    )
    apps: list[Flask] = [create_app(settings, start_queue=False) for _ in range(2)]
    yield [app.test_client() for app in apps]
    for app in apps:
        app.extensions["billreel"].db.dispose()


def wrong_key() -> dict[str, str]:
    return {"Authorization": f"Bearer brk_{secrets.token_urlsafe(32)}"}


def assert_throttled(answer: Any, problem: bool) -> None:
    assert answer.status_code == 429
    assert 1 <= int(answer.headers["Retry-After"]) <= 15 * 60
    if problem:
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert answer.get_json()["status"] == 429
    else:
        assert "Please wait a moment" in answer.get_data(as_text=True)


def test_wrong_api_keys_from_one_client_get_429_on_every_process(fleet: list[FlaskClient]) -> None:
    one, two = fleet
    right = create_key(one.application.extensions["billreel"].db, "billing-system")
    for i in range(TRIES):  # the processes share the count
        client = (one, two)[i % 2]
        assert (
            client.get("/v1/batches/bat_x", headers=wrong_key(), environ_base=ATTACKER).status_code
            == 401
        )
    for client in (one, two):
        assert_throttled(
            client.get("/v1/batches/bat_x", headers=wrong_key(), environ_base=ATTACKER), True
        )
    # The throttled client is held back even with a right key: a right guess gets no way through.
    held = one.get(
        "/v1/batches/bat_x", headers={"Authorization": f"Bearer {right}"}, environ_base=ATTACKER
    )
    assert held.status_code == 429
    # Another client's right key still works.
    ok = two.get(
        "/v1/batches/bat_x", headers={"Authorization": f"Bearer {right}"}, environ_base=CUSTOMER
    )
    assert ok.status_code == 404


def test_failed_dashboard_logins_count_with_the_api_s(fleet: list[FlaskClient]) -> None:
    one, two = fleet
    right = create_key(one.application.extensions["billreel"].db, "marketing")
    for _ in range(TRIES // 2):
        assert (
            one.post(
                "/dashboard/login", data={"api_key": "brk_wrong"}, environ_base=ATTACKER
            ).status_code
            == 401
        )
        assert (
            two.get("/v1/batches/bat_x", headers=wrong_key(), environ_base=ATTACKER).status_code
            == 401
        )
    assert_throttled(
        one.post("/dashboard/login", data={"api_key": "brk_wrong"}, environ_base=ATTACKER), False
    )
    assert (
        one.post("/dashboard/login", data={"api_key": right}, environ_base=CUSTOMER).status_code
        == 303
    )


def test_wrong_keys_around_one_prefix_are_throttled_from_every_address(
    fleet: list[FlaskClient],
) -> None:
    one, _ = fleet
    right = create_key(one.application.extensions["billreel"].db, "billing-system")
    prefix = right[:10]
    for i in range(TRIES * 2):
        guess = {"Authorization": f"Bearer {prefix}{secrets.token_urlsafe(30)}"}
        address = {"REMOTE_ADDR": f"192.0.2.{i + 1}"}  # a new address for every try
        assert one.get("/v1/batches/bat_x", headers=guess, environ_base=address).status_code == 401
    guess = {"Authorization": f"Bearer {prefix}{secrets.token_urlsafe(30)}"}
    assert_throttled(
        one.get("/v1/batches/bat_x", headers=guess, environ_base={"REMOTE_ADDR": "192.0.2.99"}),
        True,
    )
    # Keys of other prefixes, from other clients, are not held back.
    other = create_key(one.application.extensions["billreel"].db, "crm")
    assert (
        one.get(
            "/v1/batches/bat_x", headers={"Authorization": f"Bearer {other}"}, environ_base=CUSTOMER
        ).status_code
        == 404
    )


def test_unknown_link_tokens_are_throttled_per_address(fleet: list[FlaskClient]) -> None:
    one, two = fleet
    for i in range(TRIES):
        token = secrets.token_urlsafe(24)
        assert (one, two)[i % 2].get(f"/r/{token}", environ_base=ATTACKER).status_code == 404
    assert_throttled(one.get(f"/r/{secrets.token_urlsafe(24)}", environ_base=ATTACKER), False)
    assert two.get(f"/r/{secrets.token_urlsafe(24)}", environ_base=CUSTOMER).status_code == 404


def test_the_per_key_rate_limit_still_holds(api_key_factory: Any) -> None:
    client, auth = api_key_factory(rate_limit="3/minute")
    for _ in range(3):
        assert client.get("/v1/renders/rnd_x", headers=auth).status_code == 404
    assert_throttled(client.get("/v1/renders/rnd_x", headers=auth), True)
