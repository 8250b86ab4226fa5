"""Limits of a `bill/v1` document, each with its unit, and the patterns its fields match."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

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
MAX_TIME_ZONE_CHARS = 64  # IANA names are at most 32 today
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
# NAME (its published version) or NAME@N (version N, e.g. a rollback or an experiment arm)
TEMPLATE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}(@[1-9][0-9]{0,8})?$"
LOCALE_PATTERN = r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$"
# NAME (its newest version) or NAME@N: a reminder journey (`app.journeys`), beyond the
# contract. The same names as templates', written apart so that its error names journeys.
JOURNEY_PATTERN = r"^[a-z0-9][-a-z0-9]{0,63}(@[1-9][0-9]{0,8})?$"
DECIMAL_TEXT_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
