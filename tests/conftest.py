"""Shared fixtures: settings in a temporary data dir, the app, a client and an API key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.access.keys import create_key
from app.infra.services import Services
from app.infra.settings import Settings
from app.wiring import create_app

# hypothesis_profiles registers --hypothesis-profile before any test module loads.
pytest_plugins = ["tests.realparts", "tests.hypothesis_profiles"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", public_url="https://bills.example.test")


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    """The app with its queue off: tests run jobs themselves, synchronously. The shipped
    templates are imported on first lookup (a fresh store for every test costs 0.2 s)."""
    flask_app = create_app(settings, start_queue=False, import_templates=False)
    yield flask_app
    flask_app.extensions["billreel"].db.dispose()


@pytest.fixture
def services(app: Flask) -> Services:
    svc: Services = app.extensions["billreel"]
    return svc


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def api_key(services: Services) -> str:
    return create_key(services.db, "test")


@pytest.fixture
def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


ClientFactory = Callable[..., tuple[FlaskClient, dict[str, str]]]


@pytest.fixture
def api_key_factory(tmp_path: Path) -> Iterator[ClientFactory]:
    """Build an app with setting overrides; returns its client and auth headers."""
    apps: list[Flask] = []

    def build(**overrides: Any) -> tuple[FlaskClient, dict[str, str]]:
        flask_app = create_app(
            Settings(data_dir=tmp_path / f"var{len(apps)}", **overrides), start_queue=False
        )
        apps.append(flask_app)
        key = create_key(flask_app.extensions["billreel"].db, "test")
        return flask_app.test_client(), {"Authorization": f"Bearer {key}"}

    yield build
    for flask_app in apps:
        flask_app.extensions["billreel"].db.dispose()
