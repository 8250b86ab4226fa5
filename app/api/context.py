"""Per-request access to the services and the caller's API key."""

from __future__ import annotations

from flask import current_app, g, request

from app.services import Services


def services() -> Services:
    svc: Services = current_app.extensions["billreel"]
    return svc


def api_key_id() -> str:
    key_id: str = g.api_key_id
    return key_id


def public_base_url() -> str:
    configured = services().settings.public_url
    return configured.rstrip("/") if configured else request.host_url.rstrip("/")
