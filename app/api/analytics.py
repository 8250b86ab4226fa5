"""`/v1/batches/{id}/analytics`: what happened to a billing run's bills, bots excluded."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from app.analytics import funnel
from app.api.batches import owned_batch
from app.api.context import services

bp = Blueprint("analytics", __name__)


@bp.get("/batches/<batch_id>/analytics")
def batch_analytics(batch_id: str) -> dict[str, Any]:
    owned_batch(batch_id)
    with services().db.session() as session:
        return {"batch_id": batch_id, "funnel": funnel(session, batch_id)}
