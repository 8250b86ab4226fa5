"""Intake: the `bill/v1` document and the render request around it, strict JSON input.

This is the only place raw JSON is trusted; everything downstream gets a validated `Bill`
or its normalized plain-JSON form from `bill_document`.

    limits          every limit of the document, with its unit, and the patterns fields match
    fields          text, locale, currency, number and date types, each with its rules
    outward_fields  https links, bank details, the free `extra` object
    model           the models and the rules across a bill's fields
    problems        pydantic errors as plain English that names the constraint
    parse           raw JSON to `Bill` / `RenderRequest`; `bill_document`
    json_input      strict JSON reading (duplicate keys, depth, numbers)
"""

from app.intake.fields import Currency, currency_digits
from app.intake.limits import AMOUNT_LIMIT, OUTPUTS
from app.intake.model import (
    Bill,
    BillBody,
    Consumption,
    ConsumptionPoint,
    Customer,
    Line,
    Payment,
    Period,
    RenderRequest,
    Sepa,
    Tip,
)
from app.intake.parse import bill_document, parse_bill, parse_render_request

__all__ = [
    "AMOUNT_LIMIT",
    "OUTPUTS",
    "Bill",
    "BillBody",
    "Consumption",
    "ConsumptionPoint",
    "Currency",
    "Customer",
    "Line",
    "Payment",
    "Period",
    "RenderRequest",
    "Sepa",
    "Tip",
    "bill_document",
    "currency_digits",
    "parse_bill",
    "parse_render_request",
]
