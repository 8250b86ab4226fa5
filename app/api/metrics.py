"""`/metrics`: the Prometheus text of `app.rendering.metrics`, behind an optional token."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, request

from app.api.context import services
from app.infra.errors import Unauthorized
from app.rendering.metrics import CONTENT_TYPE, metrics_text

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text; with BILLREEL_METRICS_TOKEN set, only for `Bearer <token>`."""
    svc = services()
    token = svc.settings.metrics_token
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise Unauthorized("send the metrics token: Authorization: Bearer <token>")
    return Response(metrics_text(svc), content_type=CONTENT_TYPE)
