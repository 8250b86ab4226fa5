"""The `/v1` API: one blueprint per resource under a parent that authenticates; its limits
are set by `app.wiring.throttling`."""

from __future__ import annotations

from flask import Blueprint, Flask, g, request

from app.access.keys import authenticate
from app.access.scopes import Permission, allows, scopes_allowing
from app.api import (
    admin,
    analytics,
    audit,
    batches,
    customers,
    experiments,
    figures,
    journeys,
    openapi,
    payments,
    renders,
    templates,
    webhooks,
)
from app.api.context import services
from app.infra.errors import Forbidden, Unauthorized
from app.infra.services import Services


def register(app: Flask, svc: Services) -> None:
    v1 = Blueprint("v1", __name__, url_prefix="/v1")
    v1.before_request(_authenticate)
    v1.after_request(audit.record_change)
    v1.register_blueprint(renders.bp)
    v1.register_blueprint(batches.bp)
    v1.register_blueprint(analytics.bp)
    v1.register_blueprint(webhooks.bp)
    v1.register_blueprint(payments.bp)
    v1.register_blueprint(customers.bp)
    v1.register_blueprint(admin.bp)
    v1.register_blueprint(templates.bp)
    v1.register_blueprint(journeys.bp)
    v1.register_blueprint(experiments.bp)
    v1.register_blueprint(figures.bp)
    app.register_blueprint(v1)
    app.register_blueprint(openapi.bp)


def _authenticate() -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("send your API key as 'Authorization: Bearer <key>'")
    key = authenticate(services().db, secret.strip())
    if key is None:
        raise Unauthorized("the API key is unknown or revoked")
    # Least privilege (app.access.scopes): billing renders, marketing edits templates, admin
    # does both and manages keys.
    needed = _permission()
    if not allows(key.scope, needed):
        wanted = " or ".join(repr(s) for s in scopes_allowing(needed))
        raise Forbidden(f"this route needs a key of scope {wanted}; this one is {key.scope!r}")
    g.api_key_id = key.id
    g.account_id = key.account
    g.api_key_name = key.name


def _permission() -> Permission:
    blueprint = request.blueprint or ""
    if blueprint.startswith("v1.admin"):
        return "admin"
    if blueprint.startswith("v1.templates"):
        return "templates.read" if request.method in ("GET", "HEAD") else "templates.write"
    if request.endpoint == "v1.experiments.publish_winner":
        return "templates.write"  # it publishes a template version
    return "billing"
