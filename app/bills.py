"""The `bill/v1` document (CONTRACT §1) and the render request around it.

This is the only place raw JSON is trusted. Everything downstream gets a validated `Bill`,
or its normalized plain-JSON form from `bill_document`.

Where each rule lives:

- one field's rules live in its type (`Amount`, `IsoDate`, `Iban`, ...);
- rules inside one nested object run in that model (period start <= end, months in order,
  a SEPA block that fits an EPC payment code);
- rules that tie the bill's own fields together (due_on after issued_on, amounts within
  the currency's minor digits, lines summing to the total) run in `BillBody`'s wrap
  validator on whichever of those fields did validate, so a bill with one bad field still
  hears about every other problem in the same answer.

Error details are plain English, name the constraint and never repeat a customer's value.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from functools import cache
from ipaddress import IPv6Address
from itertools import pairwise
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError
from babel.numbers import get_currency_precision, list_currencies
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError
from schwifty import BIC, IBAN
from schwifty.exceptions import (
    InvalidChecksumDigits,
    InvalidCountryCode,
    InvalidLength,
    SchwiftyException,
)

from app.errors import FieldError, InvalidInput, join_pointer

__all__ = [
    "AMOUNT_LIMIT",
    "OUTPUTS",
    "Bill",
    "BillBody",
    "Consumption",
    "ConsumptionPoint",
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

# --- limits, each with its unit ---------------------------------------------------------------
MAX_ID_CHARS = 64  # customer.id, bill.number
MAX_NAME_CHARS = 200
MAX_LABEL_CHARS = 64  # customer.segment, line category: free labels template rules test
MAX_LOCALE_CHARS = 35  # BCP 47 asks implementations to keep at least 35
MAX_LINE_LABEL_CHARS = 120
MAX_LINES = 200
MAX_UNIT_CHARS = 16
MAX_HISTORY_POINTS = 36  # months
MAX_DAYS_OVERDUE = 36_500  # a century
MAX_URL_CHARS = 2048
MAX_BENEFICIARY_CHARS = 70  # EPC069-12
MAX_REFERENCE_CHARS = 140  # EPC069-12 unstructured remittance information
MAX_TIPS = 10
MAX_TIP_TITLE_CHARS = 120
MAX_TIP_BODY_CHARS = 1000
MAX_EXTERNAL_ID_CHARS = 200
MAX_EXTRA_BYTES = 16 * 1024  # `extra` as compact UTF-8 JSON
MAX_EXTRA_DEPTH = 32  # nesting levels inside `extra`
MAX_EXTRA_INT = 2**63 - 1  # integers in `extra` must fit a signed 64-bit integer
MAX_NUMBER_TEXT_CHARS = 40  # a decimal string longer than this is no amount
AMOUNT_LIMIT = Decimal(10) ** 12  # |amount| < 10^12 major units
MEASURE_LIMIT = Decimal(10) ** 9  # consumption values: < 10^9 units ...
MEASURE_MAX_PLACES = 6  # ... with at most 6 decimals, so a double holds them exactly
EPC_MAX_PAYLOAD_BYTES = 331  # EPC069-12: QR version 13 at error level M
# Bytes of an EPC payload besides beneficiary, reference, IBAN and BIC: "BCD\n002\n1\nSCT\n",
# the LFs after BIC, beneficiary, IBAN, amount, purpose and creditor reference, and the
# longest amount the code allows, "EUR999999999.99".
EPC_FIXED_BYTES = 14 + 6 + len("EUR999999999.99")

OUTPUTS: tuple[Literal["video", "microsite"], ...] = ("video", "microsite")
# ISO 4217 codes that are not money a bill can be in: test, "no currency", metals, units.
NON_MONEY_CURRENCIES = frozenset(
    {"XXX", "XTS", "XAU", "XAG", "XPD", "XPT", "XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA"}
)

CURRENCY_PATTERN = r"^[A-Z]{3}$"
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
TEMPLATE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
LOCALE_PATTERN = r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$"
DECIMAL_TEXT_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"

_DECIMAL_TEXT = re.compile(DECIMAL_TEXT_PATTERN)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SINGLE_LINE_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_MULTI_LINE_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_EXTRA_TEXT_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")  # what no JSON store can keep
_EPC_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})  # as renderers/qr.py refuses
_URL_FORBIDDEN = re.compile(r'[\x00-\x20\x7f\\<>"{}|^`]')
_HOST_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")

_PATTERN_DETAILS = {
    CURRENCY_PATTERN: "must be an ISO 4217 code of three capital letters, like EUR",
    MONTH_PATTERN: "must be a month written YYYY-MM, like 2026-10",
    TEMPLATE_PATTERN: "must be 1 to 64 lowercase letters, digits and hyphens, "
    "starting with a letter or digit",
    LOCALE_PATTERN: "must be a BCP 47 language tag like it-IT or zh-Hant-TW",
}


def _problem(kind: str, detail: str) -> PydanticCustomError:
    # The detail goes in as context so that braces in it are never read as placeholders.
    return PydanticCustomError(kind, "{detail}", {"detail": detail})


def _located(loc: tuple[str | int, ...], detail: str, kind: str = "bill_rule") -> InitErrorDetails:
    return InitErrorDetails(type=_problem(kind, detail), loc=loc, input=None)


# --- text -------------------------------------------------------------------------------------


def _single_line(value: str) -> str:
    if _SINGLE_LINE_FORBIDDEN.search(value):
        raise _problem("bill_text", "must not contain control characters or line breaks")
    if not value.strip():
        raise _problem("bill_text", "must not be blank")
    return value


def _multi_line(value: str) -> str:
    if _MULTI_LINE_FORBIDDEN.search(value):
        raise _problem("bill_text", "must not contain control characters")
    if not value.strip():
        raise _problem("bill_text", "must not be blank")
    return value


def _epc_text(value: str) -> str:
    """Text that goes into the EPC payment code: one line, no invisible format characters."""
    if any(unicodedata.category(char) in _EPC_FORBIDDEN_CATEGORIES for char in value):
        raise _problem(
            "bill_text", "must not contain line breaks, control or invisible format characters"
        )
    if _SINGLE_LINE_FORBIDDEN.search(value):  # lone surrogates
        raise _problem("bill_text", "must be valid Unicode text")
    if not value.strip():
        raise _problem("bill_text", "must not be blank")
    return value


def _chars(max_chars: int, min_chars: int = 1) -> StringConstraints:
    return StringConstraints(strict=True, min_length=min_chars, max_length=max_chars)


CustomerId = Annotated[str, _chars(MAX_ID_CHARS), AfterValidator(_single_line)]
CustomerName = Annotated[str, _chars(MAX_NAME_CHARS), AfterValidator(_single_line)]
FreeLabel = Annotated[str, _chars(MAX_LABEL_CHARS), AfterValidator(_single_line)]
BillNumber = Annotated[str, _chars(MAX_ID_CHARS), AfterValidator(_single_line)]
LineLabel = Annotated[str, _chars(MAX_LINE_LABEL_CHARS), AfterValidator(_single_line)]
Unit = Annotated[str, _chars(MAX_UNIT_CHARS), AfterValidator(_single_line)]
TipTitle = Annotated[str, _chars(MAX_TIP_TITLE_CHARS), AfterValidator(_single_line)]
TipBody = Annotated[str, _chars(MAX_TIP_BODY_CHARS), AfterValidator(_multi_line)]
Beneficiary = Annotated[str, _chars(MAX_BENEFICIARY_CHARS), AfterValidator(_epc_text)]
Remittance = Annotated[str, _chars(MAX_REFERENCE_CHARS), AfterValidator(_epc_text)]
ExternalId = Annotated[str, _chars(MAX_EXTERNAL_ID_CHARS), AfterValidator(_single_line)]
TemplateName = Annotated[str, StringConstraints(strict=True, pattern=TEMPLATE_PATTERN)]
Month = Annotated[str, StringConstraints(strict=True, pattern=MONTH_PATTERN)]


# --- locale and currency ----------------------------------------------------------------------


def _known_locale(tag: str) -> str:
    """A tag Babel knows as asked: Babel quietly maps "en-ZZ" to en_US, which is a guess."""
    try:
        parsed = Locale.parse(tag, sep="-")
    except (ValueError, UnknownLocaleError):
        raise _problem("bill_locale", "is not a locale Babel knows") from None
    language, *subtags = tag.split("-")
    matches = parsed.language == language.lower()
    for subtag in subtags:
        if len(subtag) == 4 and subtag.isalpha():
            matches = matches and parsed.script == subtag.title()
        elif (len(subtag) == 2 and subtag.isalpha()) or (len(subtag) == 3 and subtag.isdigit()):
            matches = matches and parsed.territory == subtag.upper()
    if not matches:
        raise _problem("bill_locale", "is not a locale Babel knows")
    return tag


LocaleTag = Annotated[
    str,
    StringConstraints(strict=True, max_length=MAX_LOCALE_CHARS, pattern=LOCALE_PATTERN),
    AfterValidator(_known_locale),
]


@cache
def _money_currencies() -> frozenset[str]:
    return frozenset(list_currencies()) - NON_MONEY_CURRENCIES


def _known_currency(code: str) -> str:
    if code not in _money_currencies():
        raise _problem("bill_currency", "is not a known ISO 4217 currency code")
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
        raise _problem("bill_number", "must be a decimal string or a number, not a boolean")
    if isinstance(value, str):
        if len(value) > MAX_NUMBER_TEXT_CHARS or not _DECIMAL_TEXT.fullmatch(value):
            raise _problem("bill_number", 'must be a decimal string like "84.20"')
        return Decimal(value)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _problem("bill_number", "must be a finite number")
        # repr is the shortest text that reads back as this float: 84.2, not 84.2000000000000028
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _problem("bill_number", "must be a finite number")
        return value
    raise _problem("bill_number", 'must be a decimal string like "84.20" or a number')


def _below(number: Decimal, limit: Decimal) -> bool:
    # adjusted() first: comparing 1e5000 is fine, but quantizing it later would not be.
    return number.is_zero() or (number.adjusted() < limit.adjusted() and abs(number) < limit)


def _has_places(number: Decimal, places: int) -> bool:
    """Whether `number` is a whole multiple of 10^-places (84.200 has 2 places' worth)."""
    return number == number.quantize(Decimal(1).scaleb(-places))


def _amount(value: object) -> Decimal:
    number = _exact_decimal(value)
    if not _below(number, AMOUNT_LIMIT):
        raise _problem("bill_amount", "must be less than 10^12 in absolute value")
    return number


def _measure(value: object) -> Decimal:
    number = _exact_decimal(value)
    if number < 0:
        raise _problem("bill_measure", "must not be negative")
    if not _below(number, MEASURE_LIMIT):
        raise _problem("bill_measure", "must be less than 10^9")
    if not _has_places(number, MEASURE_MAX_PLACES):
        raise _problem("bill_measure", f"must have at most {MEASURE_MAX_PLACES} decimal places")
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
        raise _problem("bill_int", "must be a whole number")
    if not 0 <= value <= MAX_DAYS_OVERDUE:
        raise _problem("bill_int", f"must be between 0 and {MAX_DAYS_OVERDUE}")
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
        raise _problem("bill_date", "must be a date written YYYY-MM-DD, like 2026-11-30")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _problem("bill_date", "is not a real calendar date") from None


IsoDate = Annotated[
    date,
    PlainValidator(_iso_date),
    PlainSerializer(date.isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date", "examples": ["2026-11-30"]}),
]


# --- links ------------------------------------------------------------------------------------


def _valid_host(host: str, bracketed: bool) -> bool:
    if bracketed:
        try:
            IPv6Address(host)
        except ValueError:
            return False
        return True
    labels = host.split(".")
    return len(host) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)


def _https_url(value: str) -> str:
    """An absolute https URL a browser will follow as written: no credentials, no spaces."""
    if not value.isascii() or _URL_FORBIDDEN.search(value):
        raise _problem(
            "bill_url",
            "must be an ASCII URL without spaces, quotes or backslashes (percent-encode them)",
        )
    if not value[:8].lower() == "https://":
        raise _problem("bill_url", "must be an absolute https:// URL")
    try:
        parts = urlsplit(value)
        host = parts.hostname  # also checks a bracketed IP literal
    except ValueError:
        raise _problem("bill_url", "must name a valid host") from None
    if "@" in parts.netloc:
        raise _problem("bill_url", "must not carry a user name or password")
    if not host or not _valid_host(host, parts.netloc.startswith("[")):
        raise _problem("bill_url", "must name a valid host")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError:
        raise _problem("bill_url", "has an invalid port") from None
    return value


HttpsUrl = Annotated[
    str,
    _chars(MAX_URL_CHARS),
    AfterValidator(_https_url),
    WithJsonSchema(
        {"type": "string", "format": "uri", "pattern": "^https://", "maxLength": MAX_URL_CHARS}
    ),
]


# --- bank details -----------------------------------------------------------------------------


def _iban(value: object) -> str:
    """An IBAN checked by ISO 13616 mod-97 and its country's length and layout, compacted."""
    if not isinstance(value, str) or len(value) > 50:
        raise _problem("bill_iban", "must be an IBAN string")
    compact = value.replace(" ", "").upper()
    try:
        iban = IBAN(compact)
    except InvalidChecksumDigits:
        raise _problem("bill_iban", "has wrong check digits (ISO 13616 mod-97)") from None
    except InvalidLength:
        raise _problem("bill_iban", "has the wrong length for its country") from None
    except InvalidCountryCode:
        raise _problem("bill_iban", "does not start with a known country code") from None
    except SchwiftyException:
        raise _problem("bill_iban", "is not a valid IBAN for its country") from None
    if not iban.in_sepa_zone:
        raise _problem("bill_iban", "must be the IBAN of an account in the SEPA zone")
    return str(iban.compact)


def _bic(value: object) -> str:
    if not isinstance(value, str) or len(value) > 20:
        raise _problem("bill_bic", "must be a BIC string of 8 or 11 characters")
    try:
        return str(BIC(value.replace(" ", "").upper()).compact)
    except SchwiftyException:
        raise _problem("bill_bic", "must be a valid BIC of 8 or 11 characters") from None


Iban = Annotated[
    str,
    PlainValidator(_iban),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": 50,
            "description": "IBAN (ISO 13616), spaces allowed; stored uppercase without spaces",
            "examples": ["IT60X0542811101000000123456"],
        }
    ),
]
Bic = Annotated[
    str,
    PlainValidator(_bic),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[A-Za-z]{6}[A-Za-z0-9]{2}([A-Za-z0-9]{3})?$",
            "examples": ["BPMOIT22XXX"],
        }
    ),
]


# --- extra ------------------------------------------------------------------------------------


def _plain_json_object(value: dict[str, Any]) -> dict[str, Any]:
    """`extra` as plain JSON a store and a browser keep as is, checked without recursion.

    Numbers become int or float, and only when nothing is lost on the way.
    """
    problems: list[InitErrorDetails] = []
    root: dict[str, Any] = {}
    # Each task: (source value, parent container, key in it, JSON path, depth).
    stack: list[tuple[Any, Any, Any, tuple[str | int, ...], int]] = [(value, None, None, (), 0)]
    while stack and len(problems) < 10:
        item, parent, key, path, depth = stack.pop()
        out: Any
        if depth > MAX_EXTRA_DEPTH:
            problems.append(_located(path, f"is nested more than {MAX_EXTRA_DEPTH} levels deep"))
            continue
        if isinstance(item, dict):
            out = root if parent is None else {}
            for k, v in item.items():
                if not isinstance(k, str) or _EXTRA_TEXT_FORBIDDEN.search(k):
                    problems.append(_located(path, "has a key that is not valid JSON text"))
                    continue
                stack.append((v, out, k, (*path, k), depth + 1))
        elif isinstance(item, list):
            out = [None] * len(item)
            stack.extend((v, out, i, (*path, i), depth + 1) for i, v in enumerate(item))
        elif item is None or isinstance(item, bool):
            out = item
        elif isinstance(item, str):
            if _EXTRA_TEXT_FORBIDDEN.search(item):
                problems.append(
                    _located(path, "must not contain NUL characters or lone surrogates")
                )
            out = item
        elif isinstance(item, int):
            if abs(item) > MAX_EXTRA_INT:
                problems.append(_located(path, "must fit a 64-bit integer; send it as a string"))
            out = item
        elif isinstance(item, float | Decimal):
            out = float(item)
            exact = math.isfinite(out) and Decimal(repr(out)) == Decimal(item)
            if not exact:
                problems.append(
                    _located(path, "must fit a 64-bit float exactly; send it as a string")
                )
        else:
            problems.append(_located(path, "is not a JSON value"))
            continue
        if parent is not None:
            parent[key] = out
    if problems:
        raise ValidationError.from_exception_data("extra", problems)
    size = len(json.dumps(root, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > MAX_EXTRA_BYTES:
        raise _problem(
            "bill_extra",
            f"must be at most {MAX_EXTRA_BYTES} bytes as compact JSON, got {size} bytes",
        )
    return root


Extra = Annotated[
    dict[str, Any],
    AfterValidator(_plain_json_object),
    Field(
        description="Free JSON object readable by templates, at most 16 KiB as compact JSON.",
    ),
]


# --- the models -------------------------------------------------------------------------------


class _Strict(BaseModel):
    # Unknown keys are refused: a typo must not silently drop data. Inputs are never echoed
    # in a ValidationError's text, which may end up in a log.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class Customer(_Strict):
    """Who the bill is for."""

    id: CustomerId = Field(description="The billing system's customer id")
    name: CustomerName = Field(description="Display name, any script; shown exactly as given")
    locale: LocaleTag | None = Field(None, description="BCP 47 tag; default: the template's")
    segment: FreeLabel | None = Field(None, description="Free label that template rules can test")


class Period(_Strict):
    """The billed period, both days included."""

    start: IsoDate
    end: IsoDate

    @model_validator(mode="after")
    def _start_not_after_end(self) -> Period:
        if self.start > self.end:
            raise ValidationError.from_exception_data(
                "Period", [_located(("end",), "must not be before start")]
            )
        return self


class Line(_Strict):
    """One line of the bill; the lines' amounts add up to the total."""

    label: LineLabel
    category: FreeLabel | None = None
    amount: Amount


class ConsumptionPoint(_Strict):
    month: Month
    value: Measure


class Consumption(_Strict):
    """Monthly consumption, oldest month first, for the history chart."""

    unit: Unit = Field(examples=["kWh"])
    history: list[ConsumptionPoint] = Field(min_length=1, max_length=MAX_HISTORY_POINTS)
    peer_average: Measure | None = Field(None, description="Similar customers' average")

    @field_validator("history")
    @classmethod
    def _months_increase(cls, history: list[ConsumptionPoint]) -> list[ConsumptionPoint]:
        problems = [
            _located((i, "month"), f"must come after the month before it ({prev.month})")
            for i, (prev, point) in enumerate(pairwise(history), start=1)
            if point.month <= prev.month  # YYYY-MM sorts as text
        ]
        if problems:
            raise ValidationError.from_exception_data("history", problems)
        return history


class BillBody(_Strict):
    """The `bill` object: what is owed, by when, and how it is made up."""

    number: BillNumber
    issued_on: IsoDate
    due_on: IsoDate = Field(description="Not before issued_on")
    period: Period | None = None
    currency: Currency = Field(description="ISO 4217 code", examples=["EUR"])
    total: Amount = Field(description="Negative when the customer is in credit")
    lines: list[Line] | None = Field(
        None, min_length=1, max_length=MAX_LINES, description="Their amounts sum to total"
    )
    status: Literal["open", "overdue", "paid"]
    days_overdue: DaysOverdue | None = None
    consumption: Consumption | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _rules_across_fields(cls, data: Any, handler: ModelWrapValidatorHandler[BillBody]) -> Any:
        problems: list[InitErrorDetails] = []
        body: BillBody | None = None
        try:
            body = handler(data)
        except ValidationError as exc:
            problems += [
                _located(e["loc"], _detail(e), "bill_field")
                for e in exc.errors(include_url=False, include_input=False)
            ]
        source = data.model_dump() if isinstance(data, BillBody) else data
        problems += _cross_field_problems(source)
        if problems:
            raise ValidationError.from_exception_data(cls.__name__, problems)
        return body


class Sepa(_Strict):
    """Bank details for the EPC (SEPA credit transfer) payment QR code."""

    iban: Iban
    bic: Bic | None = None
    beneficiary: Beneficiary
    reference: Remittance | None = Field(None, description="Unstructured remittance text")

    @model_validator(mode="after")
    def _fits_payment_code(self) -> Sepa:
        text = self.beneficiary + (self.reference or "")
        used = EPC_FIXED_BYTES + len(self.iban) + len(self.bic or "")
        if used + len(text.encode("utf-8")) > EPC_MAX_PAYLOAD_BYTES:
            raise _problem(
                "bill_epc",
                "beneficiary and reference are too long together for a SEPA payment QR code "
                f"({EPC_MAX_PAYLOAD_BYTES - used} UTF-8 bytes at most)",
            )
        return self


class Payment(_Strict):
    """How to pay; without it no pay button is shown."""

    url: HttpsUrl
    sepa: Sepa | None = None


class Tip(_Strict):
    title: TipTitle
    body: TipBody


class Bill(_Strict):
    """One customer's bill, `bill/v1`."""

    customer: Customer
    bill: BillBody
    payment: Payment | None = None
    tips: list[Tip] | None = Field(None, max_length=MAX_TIPS)
    extra: Extra | None = None


Output = Literal["video", "microsite"]


class RenderRequest(_Strict):
    """One bill to render with one template."""

    template: TemplateName = Field(examples=["bill-explainer"])
    outputs: list[Output] = Field(default_factory=lambda: list(OUTPUTS), min_length=1)
    data: Bill
    external_id: ExternalId | None = Field(None, description="The billing system's reference")
    callback_url: HttpsUrl | None = Field(None, description="Signed webhook on done and failed")

    @field_validator("outputs")
    @classmethod
    def _no_repeats(cls, outputs: list[Output]) -> list[Output]:
        if len(set(outputs)) != len(outputs):
            raise _problem("bill_outputs", "must not list an output twice")
        return outputs


# --- rules across the bill's fields -----------------------------------------------------------

_DATE = TypeAdapter(IsoDate)
_CURRENCY = TypeAdapter(Currency)
_AMOUNT = TypeAdapter(Amount)


def _valid(adapter: TypeAdapter[Any], raw: object, key: str) -> Any:
    """The field's value if it passes its own rules, else None (its error is reported there)."""
    if not isinstance(raw, Mapping) or raw.get(key) is None:
        return None
    try:
        return adapter.validate_python(raw[key])
    except ValidationError:
        return None


def _cross_field_problems(raw: object) -> list[InitErrorDetails]:
    problems: list[InitErrorDetails] = []
    if not isinstance(raw, Mapping):
        return problems
    issued, due = _valid(_DATE, raw, "issued_on"), _valid(_DATE, raw, "due_on")
    if issued is not None and due is not None and due < issued:
        problems.append(_located(("due_on",), "must not be before issued_on"))

    currency = _valid(_CURRENCY, raw, "currency")
    if currency is None:
        return problems  # minor digits and sums need to know the currency
    digits = currency_digits(currency)
    places = f"must not have more than {digits} decimal places for {currency}"
    total = _valid(_AMOUNT, raw, "total")
    if total is not None and not _has_places(total, digits):
        problems.append(_located(("total",), places))
        total = None
    lines = raw.get("lines")
    if not isinstance(lines, list) or not lines:
        return problems
    amounts: list[Decimal | None] = []
    for i, line in enumerate(lines):
        amount = _valid(_AMOUNT, line, "amount")
        if amount is not None and not _has_places(amount, digits):
            problems.append(_located(("lines", i, "amount"), places))
            amount = None
        amounts.append(amount)
    if total is not None and all(a is not None for a in amounts):
        added = sum((a for a in amounts if a is not None), Decimal(0))
        if added != total:
            problems.append(
                _located(
                    ("lines",),
                    f"the line amounts add up to {_money(added, digits)} {currency}, "
                    f"but total is {_money(total, digits)} {currency}",
                )
            )
    return problems


# --- errors -----------------------------------------------------------------------------------


def _detail(error: ErrorDetails, in_bill: bool = True) -> str:
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


def _field_errors(
    exc: ValidationError, pointer: str, bill_at: tuple[str, ...] = ()
) -> list[FieldError]:
    """FieldErrors in pydantic's order, once each; `bill_at` is where the bill sits."""
    found: dict[tuple[str, str], None] = {}
    for error in exc.errors(include_url=False, include_input=False):
        loc = error["loc"]
        in_bill = len(loc) > len(bill_at) and loc[: len(bill_at)] == bill_at
        found[(join_pointer(pointer, *loc), _detail(error, in_bill))] = None
    return [FieldError(p, d) for p, d in found]


def parse_bill(raw: object, pointer: str = "") -> Bill:
    """A validated `Bill`, or `InvalidInput` listing every problem with its JSON Pointer."""
    try:
        return Bill.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput(_field_errors(exc, pointer)) from None


def parse_render_request(raw: object, pointer: str = "") -> RenderRequest:
    """A validated `RenderRequest`; bill problems point into it, e.g. /data/bill/total."""
    try:
        return RenderRequest.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput(_field_errors(exc, pointer, ("data",))) from None


# --- the normalized document ------------------------------------------------------------------


def _money(number: Decimal, digits: int) -> str:
    exact = number.quantize(Decimal(1).scaleb(-digits))
    return _plain_decimal(abs(exact) if exact.is_zero() else exact)  # never "-0.00"


def bill_document(bill: Bill) -> dict[str, Any]:
    """The plain-JSON dict renderers receive.

    Amounts are strings with exactly the currency's minor digits ("84.2" -> "84.20"),
    dates ISO strings, IBAN and BIC compact and uppercase, consumption values numbers,
    absent optional keys left out, and `extra` as given.
    """
    doc = bill.model_dump(mode="json", exclude_none=True, exclude={"extra"})
    digits = currency_digits(bill.bill.currency)
    doc["bill"]["total"] = _money(bill.bill.total, digits)
    for out, line in zip(doc["bill"].get("lines", ()), bill.bill.lines or (), strict=True):
        out["amount"] = _money(line.amount, digits)
    if bill.extra is not None:
        doc["extra"] = json.loads(json.dumps(bill.extra))  # a deep copy of plain JSON
    return doc
