"""Field types of a bill: text, locale, currency, numbers and dates, each with its rules."""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Annotated, Any
from zoneinfo import available_timezones

from babel import Locale, UnknownLocaleError
from babel.numbers import get_currency_precision, list_currencies
from pydantic import (
    AfterValidator,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
)

from app.intake.limits import (
    AMOUNT_LIMIT,
    CURRENCY_PATTERN,
    DECIMAL_TEXT_PATTERN,
    JOURNEY_PATTERN,
    LOCALE_PATTERN,
    MAX_BENEFICIARY_CHARS,
    MAX_DAYS_OVERDUE,
    MAX_EXTERNAL_ID_CHARS,
    MAX_ID_CHARS,
    MAX_LABEL_CHARS,
    MAX_LINE_LABEL_CHARS,
    MAX_LOCALE_CHARS,
    MAX_NAME_CHARS,
    MAX_NUMBER_TEXT_CHARS,
    MAX_REFERENCE_CHARS,
    MAX_TIME_ZONE_CHARS,
    MAX_TIP_BODY_CHARS,
    MAX_TIP_TITLE_CHARS,
    MAX_UNIT_CHARS,
    MEASURE_LIMIT,
    MEASURE_MAX_PLACES,
    MONTH_PATTERN,
    NON_MONEY_CURRENCIES,
    TEMPLATE_PATTERN,
)
from app.intake.problems import problem

_DECIMAL_TEXT = re.compile(DECIMAL_TEXT_PATTERN)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SINGLE_LINE_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_MULTI_LINE_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_EPC_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})  # as renderers/qr.py refuses


# --- text -------------------------------------------------------------------------------------


def _single_line(value: str) -> str:
    if _SINGLE_LINE_FORBIDDEN.search(value):
        raise problem("bill_text", "must not contain control characters or line breaks")
    if not value.strip():
        raise problem("bill_text", "must not be blank")
    return value


def _multi_line(value: str) -> str:
    if _MULTI_LINE_FORBIDDEN.search(value):
        raise problem("bill_text", "must not contain control characters")
    if not value.strip():
        raise problem("bill_text", "must not be blank")
    return value


def _epc_text(value: str) -> str:
    """Text that goes into the EPC payment code: one line, no invisible format characters."""
    if any(unicodedata.category(char) in _EPC_FORBIDDEN_CATEGORIES for char in value):
        raise problem(
            "bill_text", "must not contain line breaks, control or invisible format characters"
        )
    if _SINGLE_LINE_FORBIDDEN.search(value):  # lone surrogates
        raise problem("bill_text", "must be valid Unicode text")
    if not value.strip():
        raise problem("bill_text", "must not be blank")
    return value


def text_constraints(max_chars: int, min_chars: int = 1) -> StringConstraints:
    return StringConstraints(strict=True, min_length=min_chars, max_length=max_chars)


CustomerId = Annotated[str, text_constraints(MAX_ID_CHARS), AfterValidator(_single_line)]
CustomerName = Annotated[str, text_constraints(MAX_NAME_CHARS), AfterValidator(_single_line)]
FreeLabel = Annotated[str, text_constraints(MAX_LABEL_CHARS), AfterValidator(_single_line)]
BillNumber = Annotated[str, text_constraints(MAX_ID_CHARS), AfterValidator(_single_line)]
LineLabel = Annotated[str, text_constraints(MAX_LINE_LABEL_CHARS), AfterValidator(_single_line)]
Unit = Annotated[str, text_constraints(MAX_UNIT_CHARS), AfterValidator(_single_line)]
TipTitle = Annotated[str, text_constraints(MAX_TIP_TITLE_CHARS), AfterValidator(_single_line)]
TipBody = Annotated[str, text_constraints(MAX_TIP_BODY_CHARS), AfterValidator(_multi_line)]
Beneficiary = Annotated[str, text_constraints(MAX_BENEFICIARY_CHARS), AfterValidator(_epc_text)]
Remittance = Annotated[str, text_constraints(MAX_REFERENCE_CHARS), AfterValidator(_epc_text)]
ExternalId = Annotated[str, text_constraints(MAX_EXTERNAL_ID_CHARS), AfterValidator(_single_line)]
TemplateName = Annotated[str, StringConstraints(strict=True, pattern=TEMPLATE_PATTERN)]
JourneyName = Annotated[str, StringConstraints(strict=True, pattern=JOURNEY_PATTERN)]
Month = Annotated[str, StringConstraints(strict=True, pattern=MONTH_PATTERN)]


# --- locale and currency ----------------------------------------------------------------------


def _known_locale(tag: str) -> str:
    """A tag Babel knows as asked: Babel quietly maps "en-ZZ" to en_US, which is a guess."""
    try:
        parsed = Locale.parse(tag, sep="-")
    except (ValueError, UnknownLocaleError):
        raise problem("bill_locale", "is not a locale Babel knows") from None
    language, *subtags = tag.split("-")
    matches = parsed.language == language.lower()
    for subtag in subtags:
        if len(subtag) == 4 and subtag.isalpha():
            matches = matches and parsed.script == subtag.title()
        elif (len(subtag) == 2 and subtag.isalpha()) or (len(subtag) == 3 and subtag.isdigit()):
            matches = matches and parsed.territory == subtag.upper()
    if not matches:
        raise problem("bill_locale", "is not a locale Babel knows")
    return tag


LocaleTag = Annotated[
    str,
    StringConstraints(strict=True, max_length=MAX_LOCALE_CHARS, pattern=LOCALE_PATTERN),
    AfterValidator(_known_locale),
]


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _known_time_zone(name: str) -> str:
    if name not in _time_zones():
        raise problem("bill_time_zone", "is not an IANA time zone name like Europe/Rome")
    return name


TimeZone = Annotated[
    str,
    StringConstraints(strict=True, min_length=1, max_length=MAX_TIME_ZONE_CHARS),
    AfterValidator(_known_time_zone),
]


@cache
def _money_currencies() -> frozenset[str]:
    return frozenset(list_currencies()) - NON_MONEY_CURRENCIES


def _known_currency(code: str) -> str:
    if code not in _money_currencies():
        raise problem("bill_currency", "is not a known ISO 4217 currency code")
    return code


Currency = Annotated[
    str, StringConstraints(strict=True, pattern=CURRENCY_PATTERN), AfterValidator(_known_currency)
]


def currency_digits(code: str) -> int:
    """ISO 4217 minor digits as Babel (CLDR) has them: EUR 2, JPY 0, KWD 3."""
    return int(get_currency_precision(code))


# --- numbers ----------------------------------------------------------------------------------


def _exact_decimal(value: object) -> Decimal:
    """A finite Decimal from a decimal string, an int, a Decimal, or a float via its repr."""
    if isinstance(value, bool):
        raise problem("bill_number", "must be a decimal string or a number, not a boolean")
    if isinstance(value, str):
        if len(value) > MAX_NUMBER_TEXT_CHARS or not _DECIMAL_TEXT.fullmatch(value):
            raise problem("bill_number", 'must be a decimal string like "84.20"')
        return Decimal(value)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise problem("bill_number", "must be a finite number")
        # repr is the shortest text that reads back as this float: 84.2, not 84.2000000000000028
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise problem("bill_number", "must be a finite number")
        return value
    raise problem("bill_number", 'must be a decimal string like "84.20" or a number')


def _below(number: Decimal, limit: Decimal) -> bool:
    # adjusted() first: comparing 1e5000 is fine, but quantizing it later would not be.
    return number.is_zero() or (number.adjusted() < limit.adjusted() and abs(number) < limit)


def has_places(number: Decimal, places: int) -> bool:
    """Whether `number` is a whole multiple of 10^-places (84.200 has 2 places' worth)."""
    return number == number.quantize(Decimal(1).scaleb(-places))


def _amount(value: object) -> Decimal:
    number = _exact_decimal(value)
    if not _below(number, AMOUNT_LIMIT):
        raise problem("bill_amount", "must be less than 10^12 in absolute value")
    return number


def _measure(value: object) -> Decimal:
    number = _exact_decimal(value)
    if number < 0:
        raise problem("bill_measure", "must not be negative")
    if not _below(number, MEASURE_LIMIT):
        raise problem("bill_measure", "must be less than 10^9")
    if not has_places(number, MEASURE_MAX_PLACES):
        raise problem("bill_measure", f"must have at most {MEASURE_MAX_PLACES} decimal places")
    return number


def _plain_decimal(number: Decimal) -> str:
    return format(number, "f")


_NUMBER_SCHEMA: dict[str, Any] = {
    "anyOf": [{"type": "string", "pattern": DECIMAL_TEXT_PATTERN}, {"type": "number"}]
}

Amount = Annotated[
    Decimal,
    PlainValidator(_amount),
    PlainSerializer(_plain_decimal, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            **_NUMBER_SCHEMA,
            "description": "An exact decimal amount in major units, at most the currency's "
            'minor digits, |amount| < 10^12. A decimal string ("84.20") is preferred.',
            "examples": ["84.20"],
        }
    ),
]
Measure = Annotated[
    Decimal,
    PlainValidator(_measure),
    PlainSerializer(float, return_type=float, when_used="json"),
    WithJsonSchema(
        {
            **_NUMBER_SCHEMA,
            "description": "A measured quantity >= 0 and < 10^9, at most 6 decimal places.",
            "examples": [212.5],
        }
    ),
]


def _strict_whole(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise problem("bill_int", "must be a whole number")
    if not 0 <= value <= MAX_DAYS_OVERDUE:
        raise problem("bill_int", f"must be between 0 and {MAX_DAYS_OVERDUE}")
    return value


DaysOverdue = Annotated[
    int,
    PlainValidator(_strict_whole),
    WithJsonSchema({"type": "integer", "minimum": 0, "maximum": MAX_DAYS_OVERDUE}),
]


# --- dates ------------------------------------------------------------------------------------


def _iso_date(value: object) -> date:
    if type(value) is date:  # a datetime is a date too, but not one without a time
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise problem("bill_date", "must be a date written YYYY-MM-DD, like 2026-11-30")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise problem("bill_date", "is not a real calendar date") from None


IsoDate = Annotated[
    date,
    PlainValidator(_iso_date),
    PlainSerializer(date.isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date", "examples": ["2026-11-30"]}),
]


def money_text(number: Decimal, digits: int) -> str:
    exact = number.quantize(Decimal(1).scaleb(-digits))
    return _plain_decimal(abs(exact) if exact.is_zero() else exact)  # never "-0.00"
