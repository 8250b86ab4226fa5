"""`DELETE /v1/customers/{customer_id}`: erase a customer (GDPR Art. 17, right to erasure)."""

from __future__ import annotations

from flask import Blueprint, Response

from app.api.context import account_id, services
from app.delivery.retention import erase_customer
from app.infra.errors import FieldError, InvalidInput

bp = Blueprint("customers", __name__)

MAX_CUSTOMER_ID = 64  # as long as a render's customer id may be


@bp.delete("/customers/<customer_id>")
def delete_customer(customer_id: str) -> Response:
    """Renders, outputs, events, payments and webhook messages of the customer all go.

    Answers 204 even when nothing was known about the customer, so the call can be
    retried safely and does not reveal whether the customer existed.
    """
    if not 1 <= len(customer_id) <= MAX_CUSTOMER_ID:
        raise InvalidInput(
            [FieldError("/customer_id", f"must be 1 to {MAX_CUSTOMER_ID} characters")]
        )
    erase_customer(services(), account_id(), customer_id)
    return Response(status=204)
