"""`/v1/batches/{id}/analytics`: what happened to a billing run's bills, bots excluded.

JSON by default; `?format=csv` gives the same figures as flat rows for a spreadsheet.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Literal

from flask import Blueprint, Response, request
from pydantic import BaseModel, Field

from app.analytics import analytics_rows, batch_analytics
from app.api.batches import owned_batch
from app.api.context import services
from app.errors import FieldError, InvalidInput

bp = Blueprint("analytics", __name__)


class FunnelCounts(BaseModel):
    """Distinct renders that reached each step; `delivered` is every finished render."""

    delivered: int
    opened: int
    video_started: int
    video_completed: int
    pay_click: int
    paid: int


class FunnelRates(BaseModel):
    """Each step's count divided by `delivered` (0 when nothing was delivered)."""

    opened: float
    video_started: float
    video_completed: float
    pay_click: float
    paid: float


class VersionFunnel(BaseModel):
    template_version: str
    funnel: FunnelCounts
    rates: FunnelRates


class ToneFunnel(BaseModel):
    tone: Literal["nudge", "firm", "thanks", "credit", "pay", "unknown"]
    funnel: FunnelCounts
    rates: FunnelRates


class TimeToPayBucket(BaseModel):
    bucket: str
    upper_seconds: int | None = Field(description="Exclusive upper bound; null: open-ended")
    count: int


class TimeToPay(BaseModel):
    """Time from delivery (the render finished) to the first payment reported."""

    paid: int
    median_seconds: float | None
    p90_seconds: float | None = Field(description="90% of payments came at most this late")
    buckets: list[TimeToPayBucket]


class BatchAnalyticsOut(BaseModel):
    batch_id: str
    funnel: FunnelCounts
    rates: FunnelRates
    video_progress: dict[Literal["25", "50", "75", "100"], int] = Field(
        description="Distinct renders whose video was watched to each mark, in percent"
    )
    cta: dict[str, int] = Field(description="Distinct renders per call to action taken, by name")
    by_template_version: list[VersionFunnel]
    by_tone: list[ToneFunnel]
    time_to_pay: TimeToPay


def analytics_body(batch_id: str) -> dict[str, Any]:
    with services().db.session() as session:
        return BatchAnalyticsOut.model_validate(batch_analytics(session, batch_id)).model_dump(
            mode="json"
        )


def csv_text(body: dict[str, Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(analytics_rows(body))
    return out.getvalue()


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
