"""`/v1/renders/{id}/webhooks`: the webhook deliveries of a render and each of their attempts."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Literal

from flask import Blueprint
from pydantic import BaseModel, Field
from sqlalchemy import select

from app.api.context import owned_render, services
from app.infra.database import WebhookAttempt, WebhookDelivery, as_utc

bp = Blueprint("webhooks", __name__)


class WebhookAttemptOut(BaseModel):
    number: int = Field(ge=1)
    at: datetime
    status_code: int | None = Field(description="The endpoint's HTTP status; null when none came")
    duration_ms: int
    error_class: str | None = Field(
        description="timeout, connect_error, tls_error, dns_error, redirect, http_status, ..."
    )


class WebhookDeliveryOut(BaseModel):
    id: str = Field(description="The `webhook-id` header, the same on every attempt")
    type: Literal["render.done", "render.failed"]
    url: str
    status: Literal["pending", "delivered", "failed", "disabled"]
    attempt_count: int
    next_attempt_at: datetime | None = Field(description="When the next attempt is due (pending)")
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    attempts: list[WebhookAttemptOut]


class WebhookDeliveries(BaseModel):
    render_id: str
    deliveries: list[WebhookDeliveryOut]


@bp.get("/renders/<render_id>/webhooks")
def render_webhooks(render_id: str) -> dict[str, Any]:
    with services().db.session() as session:
        owned_render(session, render_id)
        deliveries = session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.render_id == render_id)
            .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
        ).all()
        attempts: dict[str, list[WebhookAttempt]] = defaultdict(list)
        for attempt in session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_([d.id for d in deliveries]))
            .order_by(WebhookAttempt.number, WebhookAttempt.id)
        ):
            attempts[attempt.delivery_id].append(attempt)
        body = WebhookDeliveries(
            render_id=render_id,
            deliveries=[_delivery(d, attempts[d.id]) for d in deliveries],
        )
    return body.model_dump(mode="json")


def _delivery(row: WebhookDelivery, attempts: list[WebhookAttempt]) -> WebhookDeliveryOut:
    return WebhookDeliveryOut(
        id=row.id,
        type=row.event,  # type: ignore[arg-type]
        url=row.url,
        status=row.status,  # type: ignore[arg-type]
        attempt_count=row.attempts,
        next_attempt_at=as_utc(row.next_attempt_at) if row.status == "pending" else None,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        created_at=as_utc(row.created_at),
        delivered_at=as_utc(row.delivered_at) if row.delivered_at else None,
        attempts=[
            WebhookAttemptOut(
                number=a.number,
                at=as_utc(a.at),
                status_code=a.status_code,
                duration_ms=a.duration_ms,
                error_class=a.error_class,
            )
            for a in attempts
        ],
    )
