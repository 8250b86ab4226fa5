"""`/v1/batches/{id}/analytics`: what happened to a billing run's bills, bots excluded.

JSON by default; `?format=csv` gives the same figures as flat rows for a spreadsheet.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from app.analytics.report import BatchAnalyticsOut, batch_report, csv_text
from app.api.batches import owned_batch
from app.api.context import services
from app.infra.errors import FieldError, InvalidInput

__all__ = ["BatchAnalyticsOut", "bp"]

bp = Blueprint("analytics", __name__)


def analytics_body(batch_id: str) -> dict[str, Any]:
    with services().db.session() as session:
        return batch_report(session, batch_id)


@bp.get("/batches/<batch_id>/analytics")
def get_batch_analytics(batch_id: str) -> Any:
    owned_batch(batch_id)
    kind = request.args.get("format", "json")
    if kind not in ("json", "csv"):
        raise InvalidInput([FieldError("/format", "must be json or csv")])
    body = analytics_body(batch_id)
    if kind == "json":
        return body
    response = Response(csv_text(body), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{batch_id}-analytics.csv"'
    return response
