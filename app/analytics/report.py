"""A billing run's analytics report: its published shape, and the same figures as CSV rows.

The API and the dashboard both serve this one report.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from app.analytics.funnel import analytics_rows, batch_analytics


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


def batch_report(session: Session, batch_id: str) -> dict[str, Any]:
    """The report as JSON, checked against `BatchAnalyticsOut`."""
    report = BatchAnalyticsOut.model_validate(batch_analytics(session, batch_id))
    return report.model_dump(mode="json")


def csv_text(body: dict[str, Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(analytics_rows(body))
    return out.getvalue()
