"""Fixtures of the journey tests: an app whose clock the test moves, and its API key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.access.keys import create_key
from app.infra import clock
from app.infra.services import Services
from app.infra.settings import Settings
from app.wiring import create_app
from tests.journeys.kit import JOURNEY, move_clock


@pytest.fixture
def clock_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "clock"
    path.write_text("0\n")
    yield path
    clock.configure(None)  # the next test's processes read the system's time again


@pytest.fixture
def journey_app(tmp_path: Path, clock_file: Path) -> Iterator[Flask]:
    settings = Settings(
        data_dir=tmp_path / "var", public_url="https://bills.example.test", clock_file=clock_file
    )
    app = create_app(settings, start_queue=False)
    yield app
    app.extensions["billreel"].db.dispose()


@pytest.fixture
def jservices(journey_app: Flask) -> Services:
    services: Services = journey_app.extensions["billreel"]
    return services


@pytest.fixture
def jclient(journey_app: Flask) -> FlaskClient:
    return journey_app.test_client()


@pytest.fixture
def jauth(jservices: Services, jclient: FlaskClient) -> dict[str, str]:
    """A billing key whose account has the journey `gentle` (version 1)."""
    headers = {"Authorization": f"Bearer {create_key(jservices.db, 'billing')}"}
    response = jclient.post("/v1/journeys/gentle/versions", json=JOURNEY, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return headers


@pytest.fixture
def at(clock_file: Path) -> Callable[[datetime], None]:
    """Move the clock of this process (and of any process reading the file) to a moment."""
    return lambda moment: move_clock(clock_file, moment)
