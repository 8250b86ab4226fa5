"""How a bill's problems are told: pydantic errors as plain English naming the constraint.

Details never repeat a customer's value.
"""

from __future__ import annotations

from pydantic import (
    ValidationError,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from app.infra.errors import FieldError, join_pointer
from app.intake.limits import (
    CURRENCY_PATTERN,
    JOURNEY_PATTERN,
    LOCALE_PATTERN,
    MONTH_PATTERN,
    TEMPLATE_PATTERN,
)

_PATTERN_DETAILS = {
    CURRENCY_PATTERN: "must be an ISO 4217 code of three capital letters, like EUR",
    MONTH_PATTERN: "must be a month written YYYY-MM, like 2026-10",
    TEMPLATE_PATTERN: "must be a template name (1 to 64 lowercase letters, digits and "
    "hyphens, starting with a letter or digit), optionally with @ and a version number",
    LOCALE_PATTERN: "must be a BCP 47 language tag like it-IT or zh-Hant-TW",
    JOURNEY_PATTERN: "must be a journey name (1 to 64 lowercase letters, digits and "
    "hyphens, starting with a letter or digit), optionally with @ and a version number",
}


def problem(kind: str, detail: str) -> PydanticCustomError:
    # The detail goes in as context so that braces in it are never read as placeholders.
    return PydanticCustomError(kind, "{detail}", {"detail": detail})


def located(loc: tuple[str | int, ...], detail: str, kind: str = "bill_rule") -> InitErrorDetails:
    return InitErrorDetails(type=problem(kind, detail), loc=loc, input=None)


# --- errors -----------------------------------------------------------------------------------


def detail(error: ErrorDetails, in_bill: bool = True) -> str:
    """Plain English for one pydantic error, naming the constraint, never the value."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        hint = "; free data belongs in the bill's extra object" if in_bill else ""
        return f"is not a known field (check the spelling{hint})"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "must be a JSON object"
    if kind == "list_type":
        return "must be an array"
    if kind == "string_type":
        return "must be a string"
    if kind == "string_too_short":
        return "must not be empty" if ctx.get("min_length") == 1 else error["msg"]
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters long"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern"))
        return _PATTERN_DETAILS.get(pattern, f"must match the pattern {pattern}")
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s)"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items"
    if kind == "literal_error":
        return f"must be {ctx.get('expected')}"
    return error["msg"]


def field_errors(
    exc: ValidationError, pointer: str, bill_at: tuple[str, ...] = ()
) -> list[FieldError]:
    """FieldErrors in pydantic's order, once each; `bill_at` is where the bill sits."""
    found: dict[tuple[str, str], None] = {}
    for error in exc.errors(include_url=False, include_input=False):
        loc = error["loc"]
        in_bill = len(loc) > len(bill_at) and loc[: len(bill_at)] == bill_at
        found[(join_pointer(pointer, *loc), detail(error, in_bill))] = None
    return [FieldError(p, d) for p, d in found]
