"""QR codes: the EPC (SEPA credit transfer) payment code and plain link codes.

The EPC payload follows EPC069-12 "Quick Response Code: Guidelines to Enable Data Capture
for the Initiation of a SEPA Credit Transfer": version 002, character set 1 (UTF-8),
identification SCT, error correction level M, at most 331 bytes (QR version 13). Elements
are separated by LF and nothing follows the last populated element, so trailing empty
elements are dropped.

The payload is built here rather than with `segno.helpers.make_epc_qr`: that helper picks
the smallest character set instead of UTF-8 and drops the amount's trailing zeros
("EUR84.2"), and the bill's amount is an exact decimal that must stay one. segno draws
the symbol itself.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import quoteattr

import segno

__all__ = [
    "EPC_MAX_PAYLOAD_BYTES",
    "EpcError",
    "epc_payload",
    "epc_png",
    "epc_svg",
    "qr_png",
    "qr_svg",
]

# --- EPC069-12 limits -----------------------------------------------------------------------
EPC_HEADER = (b"BCD", b"002", b"1", b"SCT")  # service tag, version, charset 1 = UTF-8, SCT
EPC_MAX_PAYLOAD_BYTES = 331  # the guidelines' cap: QR version 13 at error level M
EPC_MAX_QR_VERSION = 13
EPC_ERROR_LEVEL = "m"
EPC_CURRENCY = "EUR"  # SEPA credit transfers in the EPC code are in euro only
EPC_MIN_AMOUNT = Decimal("0.01")
EPC_MAX_AMOUNT = Decimal("999999999.99")
CENT = Decimal("0.01")
MAX_BENEFICIARY_CHARS = 70
MAX_REMITTANCE_CHARS = 140
PAYABLE_STATUSES = frozenset({"open", "overdue"})

# --- drawing --------------------------------------------------------------------------------
QUIET_ZONE_MODULES = 4  # the QR standard's minimum; scanners need it
DEFAULT_PNG_SCALE = 8  # pixels per module
DARK = "#000000"
LIGHT = "#ffffff"  # always drawn, so the code scans on dark pages and video frames too
SVG_CLASS = "billreel-qr"
SYMBOLS_KEPT = 64  # QR symbols made, by payload (a few kilobytes each)
DEFAULT_EPC_TITLE = "QR code to pay this bill by bank transfer"
DEFAULT_LINK_TITLE = "QR code of the link"

_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
_BIC = re.compile(r"[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
# Characters that would break the one-element-per-line structure or hide in it.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


class EpcError(ValueError):
    """The bill cannot be expressed as an EPC payment code; `pointer` names the field.

    The message never repeats the field's value: bills hold customer data.
    """

    def __init__(self, pointer: str, detail: str) -> None:
        self.pointer = pointer
        self.detail = detail
        super().__init__(f"{pointer}: {detail}" if pointer else detail)


def epc_payload(bill: Mapping[str, Any]) -> bytes | None:
    """The EPC069-12 payload for a validated `bill/v1` dict, or None when it has no use.

    None unless the bill is in euro, still to be paid (open or overdue), has a positive
    total and a `payment.sepa` block. Raises `EpcError` for a field the code cannot carry.
    """
    payment = bill.get("payment")
    sepa = payment.get("sepa") if isinstance(payment, Mapping) else None
    details = bill.get("bill")
    if not isinstance(sepa, Mapping) or not isinstance(details, Mapping):
        return None
    if details.get("currency") != EPC_CURRENCY or details.get("status") not in PAYABLE_STATUSES:
        return None
    total = _decimal(details.get("total"), "/bill/total")
    if total <= 0:
        return None  # in credit or nothing due: there is nothing to transfer
    elements = [
        *EPC_HEADER,
        _bic(sepa.get("bic")),
        _text(sepa.get("beneficiary"), "/payment/sepa/beneficiary", MAX_BENEFICIARY_CHARS, True),
        _iban(sepa.get("iban")),
        _amount(total),
        b"",  # purpose code: none
        b"",  # structured creditor reference: none, the reference is unstructured
        _text(sepa.get("reference"), "/payment/sepa/reference", MAX_REMITTANCE_CHARS, False),
        # The beneficiary-to-originator information is left out.
    ]
    while not elements[-1]:  # nothing may follow the last populated element
        elements.pop()
    payload = b"\n".join(elements)
    if len(payload) > EPC_MAX_PAYLOAD_BYTES:
        raise EpcError(
            "/payment/sepa",
            f"the payment code would be {len(payload)} bytes, at most "
            f"{EPC_MAX_PAYLOAD_BYTES} are allowed: shorten the beneficiary or the reference",
        )
    return payload


def epc_svg(payload: bytes, *, title: str | None = None) -> str:
    """Inline SVG markup (no XML declaration) of an EPC payload, scalable via its viewBox.

    `title` is the accessible name (a <title> and an aria-label); it is escaped here.
    """
    return _svg(_epc_code(payload), DEFAULT_EPC_TITLE if title is None else title)


def epc_png(payload: bytes, scale: int = DEFAULT_PNG_SCALE) -> bytes:
    """A PNG of an EPC payload, `scale` pixels per module, quiet zone included."""
    return _png(_epc_code(payload), scale)


def qr_svg(text: str, *, title: str | None = None) -> str:
    """Inline SVG of a plain QR code of `text` (a link), in the same style as `epc_svg`."""
    return _svg(_link_code(text), DEFAULT_LINK_TITLE if title is None else title)


def qr_png(text: str, scale: int = DEFAULT_PNG_SCALE) -> bytes:
    """A PNG of a plain QR code of `text` (a link), in the same style as `epc_png`."""
    return _png(_link_code(text), scale)


# --- payload fields -------------------------------------------------------------------------


def _decimal(value: Any, pointer: str) -> Decimal:
    """An exact decimal from a decimal string, an int or a Decimal; never from a float."""
    if isinstance(value, (bool, float)):
        raise EpcError(pointer, "must be a decimal string (a float is not exact)")
    if isinstance(value, str):
        if not _DECIMAL.fullmatch(value):
            raise EpcError(pointer, "must be a decimal string like 84.20")
        return Decimal(value)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal) and value.is_finite():
        return value
    raise EpcError(pointer, "must be a decimal string like 84.20")


def _amount(total: Decimal) -> bytes:
    """`EUR` and the amount with exactly two decimals, e.g. EUR84.20."""
    if not EPC_MIN_AMOUNT <= total <= EPC_MAX_AMOUNT:
        raise EpcError(
            "/bill/total",
            f"must be between {EPC_MIN_AMOUNT} and {EPC_MAX_AMOUNT} for a payment code",
        )
    cents = total.quantize(CENT)  # in range, so it fits the decimal context
    if cents != total:
        raise EpcError("/bill/total", "must not have more than two decimals for EUR")
    return f"{EPC_CURRENCY}{cents:f}".encode("ascii")


def _text(value: Any, pointer: str, max_chars: int, required: bool) -> bytes:
    """A free-text element: one line, at most `max_chars` characters, UTF-8."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise EpcError(pointer, "must be a string")
    text = value.strip()
    if required and not text:
        raise EpcError(pointer, "is required for a payment code")
    if len(text) > max_chars:
        raise EpcError(pointer, f"must be at most {max_chars} characters, got {len(text)}")
    if any(unicodedata.category(char) in _FORBIDDEN_CATEGORIES for char in text):
        raise EpcError(pointer, "must not contain line breaks or control characters")
    return text.encode("utf-8")


def _iban(value: Any) -> bytes:
    pointer = "/payment/sepa/iban"
    if not isinstance(value, str):
        raise EpcError(pointer, "is required for a payment code")
    iban = value.replace(" ", "").upper()
    if not _IBAN.fullmatch(iban) or len(iban) > 34:
        raise EpcError(pointer, "is not an IBAN (2 letters, 2 check digits, up to 30 more)")
    # ISO 13616 check digits: a wrong account in a payment code sends money astray.
    rearranged = iban[4:] + iban[:4]
    if int("".join(str(int(char, 36)) for char in rearranged)) % 97 != 1:
        raise EpcError(pointer, "has wrong check digits")
    return iban.encode("ascii")


def _bic(value: Any) -> bytes:
    """The BIC, optional since version 002: an empty element when absent."""
    pointer = "/payment/sepa/bic"
    if value is None or value == "":
        return b""
    if not isinstance(value, str) or not _BIC.fullmatch(value.strip().upper()):
        raise EpcError(pointer, "must be a BIC of 8 or 11 letters and digits")
    return value.strip().upper().encode("ascii")


# --- drawing --------------------------------------------------------------------------------


def _epc_code(payload: bytes) -> segno.QRCode:
    """The QR symbol of an EPC payload: byte mode, level M exactly, version <= 13."""
    if not isinstance(payload, bytes) or not payload.startswith(b"\n".join(EPC_HEADER) + b"\n"):
        raise EpcError("", "not an EPC payload: build it with epc_payload()")
    if len(payload) > EPC_MAX_PAYLOAD_BYTES:
        size = len(payload)
        raise EpcError("", f"EPC payload is {size} bytes, at most {EPC_MAX_PAYLOAD_BYTES} allowed")
    return _epc_symbol(payload)


# A symbol is made once per payload (segno picks its mask in pure Python, about 40 ms): a
# preview draws one sample's code in every locale and format. segno never changes a symbol.
@lru_cache(maxsize=SYMBOLS_KEPT)
def _epc_symbol(payload: bytes) -> segno.QRCode:
    # boost_error=False: the guidelines fix the level at M, a higher one is not allowed.
    code = segno.make(payload, error=EPC_ERROR_LEVEL, micro=False, boost_error=False)
    if not isinstance(code.version, int) or code.version > EPC_MAX_QR_VERSION:
        needed = code.version
        raise EpcError("", f"EPC code needs QR version {needed}, at most {EPC_MAX_QR_VERSION}")
    return code


def _link_code(text: str) -> segno.QRCode:
    if not isinstance(text, str) or not text:
        raise ValueError("a QR code needs a non-empty text")
    return _link_symbol(text)


@lru_cache(maxsize=SYMBOLS_KEPT)
def _link_symbol(text: str) -> segno.QRCode:
    return segno.make(text.encode("utf-8"), error=EPC_ERROR_LEVEL, micro=False)


def _svg(code: segno.QRCode, title: str) -> str:
    buffer = io.BytesIO()
    code.save(
        buffer,
        kind="svg",
        xmldecl=False,
        omitsize=True,  # a viewBox only: the page's CSS sizes it
        border=QUIET_ZONE_MODULES,
        dark=DARK,
        light=LIGHT,
        title=title,
        svgclass=SVG_CLASS,
        nl=False,
    )
    markup = buffer.getvalue().decode("utf-8")
    # segno writes no ARIA attributes: name the image for screen readers ourselves.
    return f'<svg role="img" aria-label={quoteattr(title)}{markup.removeprefix("<svg")}'


def _png(code: segno.QRCode, scale: int) -> bytes:
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ValueError("scale must be a whole number of pixels per module, at least 1")
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=scale, border=QUIET_ZONE_MODULES, dark=DARK, light=LIGHT)
    return buffer.getvalue()
