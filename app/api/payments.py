"""`POST /v1/renders/{id}/payments`: the billing system reports that a bill was paid.

This closes the funnel (`paid`) and stops the bill's reminder journey, if it has one
(`app.journeys.stops`). It is idempotent two ways, like card processors' APIs:
an `Idempotency-Key` header replays the first response, and a `reference` (the billing
system's own payment id) names one payment, so reporting it again returns the same one.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.analytics.events import record
from app.api import idempotency
from app.api.body import read_json_body, validated
from app.api.context import account_id, claim_idempotency_key, owned_render, replay, services
from app.infra.database import Payment, as_utc, new_id, utcnow
from app.infra.errors import FieldError, InvalidInput
from app.intake import Currency, currency_digits
from app.journeys.stops import cancel_renders, stop_for_render

bp = Blueprint("payments", __name__)

FUTURE_TOLERANCE = timedelta(minutes=5)  # clocks differ; a payment from the future does not


class PaymentIn(BaseModel):
    """A payment of one bill, as the billing system saw it."""

    model_config = ConfigDict(extra="forbid")

    amount: str | None = Field(
        None,
        pattern=r"^\d{1,15}(\.\d{1,4})?$",
        description="Amount paid as a decimal string, e.g. '84.20'",
    )
    currency: Currency | None = Field(None, description="ISO 4217 code, the bill's currency")
    paid_at: AwareDatetime | None = Field(
        None, description="When it was paid (RFC 3339 with offset); defaults to now"
    )
    reference: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="The billing system's payment id; the same reference is the same payment",
    )


class PaymentOut(BaseModel):
    id: str
    render_id: str
    reference: str | None
    amount: str | None
    currency: str | None
    paid_at: datetime
    created_at: datetime


def parse_payment(raw: Any) -> PaymentIn:
    payment = validated(PaymentIn, raw)
    errors = []
    if payment.paid_at is not None and payment.paid_at > utcnow() + FUTURE_TOLERANCE:
        errors.append(FieldError("/paid_at", "must not be in the future"))
    if payment.amount is not None and payment.currency is not None:
        digits = currency_digits(payment.currency)
        if -Decimal(payment.amount).as_tuple().exponent > digits:  # type: ignore[operator]
            errors.append(
                FieldError("/amount", f"has more than {digits} decimals for {payment.currency}")
            )
    if errors:
        raise InvalidInput(errors)
    return payment


def payment_body(payment: Payment) -> dict[str, Any]:
    return PaymentOut(
        id=payment.id,
        render_id=payment.render_id,
        reference=payment.reference,
        amount=payment.amount,
        currency=payment.currency,
        paid_at=as_utc(payment.paid_at),
        created_at=as_utc(payment.created_at),
    ).model_dump(mode="json")


@bp.post("/renders/<render_id>/payments")
def create_payment(render_id: str) -> Response:
    raw, body = read_json_body()
    svc = services()
    outcome = claim_idempotency_key(account_id(), hashlib.sha256(body).hexdigest())
    if isinstance(outcome, idempotency.StoredResponse):
        return replay(outcome)
    claim = outcome
    try:
        stored = _pay_once(raw, render_id, claim)
    except Exception:
        if claim is not None:
            idempotency.release(svc.db, claim)
        raise
    return Response(stored.body, status=stored.status, headers=stored.headers)


def _pay_once(
    raw: Any, render_id: str, claim: idempotency.Claim | None
) -> idempotency.StoredResponse:
    """Record the payment, once: the unique key on render and reference decides a race.

    When the same reference is reported twice at once, one insert wins and the other,
    retried in a new transaction, finds that payment and answers with it.
    """
    for attempt in range(2):
        try:
            with services().db.session() as session:
                stored, cancelled = _pay(session, render_id, raw)
                if claim is not None:
                    idempotency.complete(session, claim, stored)
            cancel_renders(services().db, cancelled)  # its steps' renders nobody waits for
            return stored
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def _same_payment(existing: Payment, payment_in: PaymentIn) -> None:
    """A reference names one payment: reporting it again with other figures is a mistake."""
    errors = [
        FieldError(f"/{name}", f"differs from payment {existing.id} with this reference")
        for name, sent, kept in (
            ("amount", payment_in.amount, existing.amount),
            ("currency", payment_in.currency, existing.currency),
        )
        if sent is not None and kept is not None and _normal(sent) != _normal(kept)
    ]
    if errors:
        raise InvalidInput(errors)


def _normal(value: str) -> str:
    try:
        return str(Decimal(value).normalize())
    except InvalidOperation:
        return value


def _check_currency(bill: dict[str, Any], payment_in: PaymentIn) -> None:
    expected = (bill.get("bill") or {}).get("currency")  # unknown once the bill is purged
    if payment_in.currency is not None and expected and payment_in.currency != expected:
        raise InvalidInput([FieldError("/currency", f"must be the bill's currency, {expected}")])


def _pay(
    session: Session, render_id: str, raw: Any
) -> tuple[idempotency.StoredResponse, list[str]]:
    """The payment's answer, and the renders of journey steps it cancelled mid-render."""
    render = owned_render(session, render_id)
    payment_in = parse_payment(raw)
    headers = {"Content-Type": "application/json"}
    if payment_in.reference is not None:
        existing = session.scalar(
            select(Payment).where(
                Payment.render_id == render.id, Payment.reference == payment_in.reference
            )
        )
        if existing is not None:
            _same_payment(existing, payment_in)
            answer = idempotency.json_bytes(payment_body(existing))
            return idempotency.StoredResponse(200, answer, headers), []
    _check_currency(render.bill, payment_in)
    payment = Payment(
        id=new_id("pay"),
        render_id=render.id,
        reference=payment_in.reference,
        amount=payment_in.amount,
        currency=payment_in.currency,
        # Kept in UTC: SQLite would keep another offset's wall time and drop the offset.
        paid_at=payment_in.paid_at.astimezone(UTC) if payment_in.paid_at else utcnow(),
        created_at=utcnow(),
    )
    session.add(payment)
    record(session, render.id, "paid", at=payment.paid_at)
    session.flush()
    # A paid bill's journey stops at once, and a step rendering now sends no webhook.
    cancelled = stop_for_render(session, render.id, "paid") or []
    answer = idempotency.json_bytes(payment_body(payment))
    return idempotency.StoredResponse(201, answer, headers), cancelled
