"""Raw JSON in, a validated `Bill` or `RenderRequest` out; and the normalized plain-JSON form."""

from __future__ import annotations

import json
from typing import Any

from pydantic import (
    ValidationError,
)

from app.infra.errors import InvalidInput
from app.intake.fields import currency_digits, money_text
from app.intake.model import Bill, RenderRequest
from app.intake.problems import field_errors


def parse_bill(raw: object, pointer: str = "") -> Bill:
    """A validated `Bill`, or `InvalidInput` listing every problem with its JSON Pointer."""
    try:
        return Bill.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc, pointer)) from None


def parse_render_request(raw: object, pointer: str = "") -> RenderRequest:
    """A validated `RenderRequest`; bill problems point into it, e.g. /data/bill/total."""
    try:
        return RenderRequest.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc, pointer, ("data",))) from None


def bill_document(bill: Bill) -> dict[str, Any]:
    """The plain-JSON dict renderers receive.

    Amounts are strings with exactly the currency's minor digits ("84.2" -> "84.20"),
    dates ISO strings, IBAN and BIC compact and uppercase, consumption values numbers,
    absent optional keys left out, and `extra` as given.
    """
    doc = bill.model_dump(mode="json", exclude_none=True, exclude={"extra"})
    digits = currency_digits(bill.bill.currency)
    doc["bill"]["total"] = money_text(bill.bill.total, digits)
    for out, line in zip(doc["bill"].get("lines", ()), bill.bill.lines or (), strict=True):
        out["amount"] = money_text(line.amount, digits)
    if bill.extra is not None:
        doc["extra"] = json.loads(json.dumps(bill.extra))  # a deep copy of plain JSON
    return doc
