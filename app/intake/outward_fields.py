"""Field types that leave the bill: https links, bank details and the free `extra` object."""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from ipaddress import IPv6Address
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    Field,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import InitErrorDetails
from schwifty import BIC, IBAN
from schwifty.exceptions import (
    InvalidChecksumDigits,
    InvalidCountryCode,
    InvalidLength,
    SchwiftyException,
)

from app.intake.fields import text_constraints
from app.intake.limits import MAX_EXTRA_BYTES, MAX_EXTRA_DEPTH, MAX_EXTRA_INT, MAX_URL_CHARS
from app.intake.problems import located, problem

_EXTRA_TEXT_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")  # what no JSON store can keep
_URL_FORBIDDEN = re.compile(r'[\x00-\x20\x7f\\<>"{}|^`]')
_HOST_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


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
        raise problem(
            "bill_url",
            "must be an ASCII URL without spaces, quotes or backslashes (percent-encode them)",
        )
    if not value[:8].lower() == "https://":
        raise problem("bill_url", "must be an absolute https:// URL")
    try:
        parts = urlsplit(value)
        host = parts.hostname  # also checks a bracketed IP literal
    except ValueError:
        raise problem("bill_url", "must name a valid host") from None
    if "@" in parts.netloc:
        raise problem("bill_url", "must not carry a user name or password")
    if not host or not _valid_host(host, parts.netloc.startswith("[")):
        raise problem("bill_url", "must name a valid host")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError:
        raise problem("bill_url", "has an invalid port") from None
    return value


HttpsUrl = Annotated[
    str,
    text_constraints(MAX_URL_CHARS),
    AfterValidator(_https_url),
    WithJsonSchema(
        {"type": "string", "format": "uri", "pattern": "^https://", "maxLength": MAX_URL_CHARS}
    ),
]


# --- bank details -----------------------------------------------------------------------------


def _iban(value: object) -> str:
    """An IBAN checked by ISO 13616 mod-97 and its country's length and layout, compacted."""
    if not isinstance(value, str) or len(value) > 50:
        raise problem("bill_iban", "must be an IBAN string")
    compact = value.replace(" ", "").upper()
    try:
        iban = IBAN(compact)
    except InvalidChecksumDigits:
        raise problem("bill_iban", "has wrong check digits (ISO 13616 mod-97)") from None
    except InvalidLength:
        raise problem("bill_iban", "has the wrong length for its country") from None
    except InvalidCountryCode:
        raise problem("bill_iban", "does not start with a known country code") from None
    except SchwiftyException:
        raise problem("bill_iban", "is not a valid IBAN for its country") from None
    if not iban.in_sepa_zone:
        raise problem("bill_iban", "must be the IBAN of an account in the SEPA zone")
    return str(iban.compact)


def _bic(value: object) -> str:
    if not isinstance(value, str) or len(value) > 20:
        raise problem("bill_bic", "must be a BIC string of 8 or 11 characters")
    try:
        return str(BIC(value.replace(" ", "").upper()).compact)
    except SchwiftyException:
        raise problem("bill_bic", "must be a valid BIC of 8 or 11 characters") from None


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
            problems.append(located(path, f"is nested more than {MAX_EXTRA_DEPTH} levels deep"))
            continue
        if isinstance(item, dict):
            out = root if parent is None else {}
            for k, v in item.items():
                if not isinstance(k, str) or _EXTRA_TEXT_FORBIDDEN.search(k):
                    problems.append(located(path, "has a key that is not valid JSON text"))
                    continue
                stack.append((v, out, k, (*path, k), depth + 1))
        elif isinstance(item, list):
            out = [None] * len(item)
            stack.extend((v, out, i, (*path, i), depth + 1) for i, v in enumerate(item))
        elif item is None or isinstance(item, bool):
            out = item
        elif isinstance(item, str):
            if _EXTRA_TEXT_FORBIDDEN.search(item):
                problems.append(located(path, "must not contain NUL characters or lone surrogates"))
            out = item
        elif isinstance(item, int):
            if abs(item) > MAX_EXTRA_INT:
                problems.append(located(path, "must fit a 64-bit integer; send it as a string"))
            out = item
        elif isinstance(item, float | Decimal):
            out = float(item)
            exact = math.isfinite(out) and Decimal(repr(out)) == Decimal(item)
            if not exact:
                problems.append(
                    located(path, "must fit a 64-bit float exactly; send it as a string")
                )
        else:
            problems.append(located(path, "is not a JSON value"))
            continue
        if parent is not None:
            parent[key] = out
    if problems:
        raise ValidationError.from_exception_data("extra", problems)
    size = len(json.dumps(root, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > MAX_EXTRA_BYTES:
        raise problem(
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
