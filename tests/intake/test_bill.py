"""The `bill/v1` model (CONTRACT §1): one test per rule, all errors at once, normalization."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.infra.errors import InvalidInput
from app.intake import (
    Bill,
    RenderRequest,
    bill_document,
    currency_digits,
    json_input,
    parse_bill,
    parse_render_request,
)
from tests.factories import make_bill, make_render_request
from tests.paths import REPO_ROOT

EXAMPLES = sorted((REPO_ROOT / "examples").glob("*.json"))
BILL_GENERATOR = REPO_ROOT / "tools" / "make_bills.py"


def problems(raw: Any, pointer: str = "") -> dict[str, str]:
    """Every problem `parse_bill` reports, as {pointer: detail}."""
    with pytest.raises(InvalidInput) as caught:
        parse_bill(raw, pointer)
    found = {e.pointer: e.detail for e in caught.value.errors}
    assert len(found) == len(caught.value.errors), "one pointer reported twice"
    return found


def rejected(raw: Any, pointer: str, *words: str) -> str:
    """Assert that `raw` is rejected at `pointer` (and only there); return the detail."""
    found = problems(raw)
    assert set(found) == {pointer}, found
    for word in words:
        assert word in found[pointer], found[pointer]
    return found[pointer]


def accepted(raw: Any) -> dict[str, Any]:
    return bill_document(parse_bill(raw))


def no_lines(**overrides: Any) -> dict[str, Any]:
    """A bill without lines, so that an amount rule is tested on `total` alone."""
    return make_bill(drop="bill.lines", **overrides)


# --- every example parses -----------------------------------------------------------------------


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_parses(path: Path) -> None:
    doc = bill_document(parse_bill(json_input.loads(path.read_bytes())))
    json.dumps(doc)  # plain JSON
    assert doc["customer"]["id"]


def test_generated_billing_run_parses() -> None:
    out = subprocess.run(
        [sys.executable, str(BILL_GENERATOR), "60", "--seed", "3"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    for line in out.splitlines():
        parse_render_request(json_input.loads(line))


def test_factories_are_valid_and_fresh() -> None:
    first = make_bill()
    first["bill"]["total"] = "1.00"
    assert make_bill()["bill"]["total"] == "84.20"
    parse_bill(make_bill())
    parse_render_request(make_render_request())


def test_factory_overrides_and_drop() -> None:
    bill = make_bill(
        **{"bill.status": "overdue", "bill.days_overdue": 3, "bill.lines.0.label": "Luce"},
        drop=["payment.sepa", "tips"],
    )
    assert bill["bill"]["status"] == "overdue"
    assert bill["bill"]["days_overdue"] == 3
    assert bill["bill"]["lines"][0]["label"] == "Luce"
    assert "sepa" not in bill["payment"] and "tips" not in bill
    request = make_render_request(outputs=["microsite"], **{"data.customer.id": "C-9"})
    assert request["outputs"] == ["microsite"] and request["data"]["customer"]["id"] == "C-9"
    with pytest.raises(KeyError):
        make_bill(drop="bill.nope")


# --- customer -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["C", "x" * 64, "CUST-000123", "客户-7"])
def test_customer_id_accepts_1_to_64_chars(value: str) -> None:
    assert accepted(make_bill(**{"customer.id": value}))["customer"]["id"] == value


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("", "empty"),
        ("x" * 65, "at most 64"),
        ("   ", "blank"),
        ("CUST\n1", "control"),
        (123, "string"),
        (None, "string"),
    ],
)
def test_customer_id_is_refused(value: Any, words: str) -> None:
    rejected(make_bill(**{"customer.id": value}), "/customer/id", words)


def test_customer_id_is_required() -> None:
    rejected(make_bill(drop="customer.id"), "/customer/id", "required")


@pytest.mark.parametrize(
    "value",
    ["Giulia Rossi", "陳美玲", "สมชาย ใจดี", "محمد عبد الله", "Zoë O'Brien-Ødegaard", "x" * 200],
)
def test_customer_name_in_any_script_is_kept_exactly(value: str) -> None:
    assert accepted(make_bill(**{"customer.name": value}))["customer"]["name"] == value


def test_customer_name_keeps_its_spaces() -> None:
    assert accepted(make_bill(**{"customer.name": " Giulia "}))["customer"]["name"] == " Giulia "


@pytest.mark.parametrize(
    ("value", "words"),
    [("", "empty"), ("  \t ", "control"), ("   ", "blank"), ("x" * 201, "at most 200")],
)
def test_customer_name_is_refused(value: str, words: str) -> None:
    rejected(make_bill(**{"customer.name": value}), "/customer/name", words)


@pytest.mark.parametrize(
    "value", ["{{ 7*7 }}", "<script>alert(1)</script>", "{% include 'x' %}", "${jndi:x}"]
)
def test_customer_data_is_data(value: str) -> None:
    doc = accepted(make_bill(**{"customer.name": value, "bill.lines.0.label": value}))
    assert doc["customer"]["name"] == value
    assert doc["bill"]["lines"][0]["label"] == value


@pytest.mark.parametrize(
    "value", ["it-IT", "zh-Hant-TW", "th-TH", "ar-EG", "en", "fr", "es-419", "sr-Latn-RS"]
)
def test_locale_accepts_bcp47_tags_babel_knows(value: str) -> None:
    assert accepted(make_bill(**{"customer.locale": value}))["customer"]["locale"] == value


@pytest.mark.parametrize(
    "value", ["xx-YY", "en-ZZ", "und", "it_IT", "english", "", "e", "i-klingon", "it-IT-" + "x"]
)
def test_locale_refuses_what_babel_does_not_know_as_asked(value: str) -> None:
    rejected(make_bill(**{"customer.locale": value}), "/customer/locale")


def test_locale_and_segment_are_optional() -> None:
    doc = accepted(make_bill(drop=["customer.locale", "customer.segment"]))
    assert set(doc["customer"]) == {"id", "name"}


def test_segment_is_a_bounded_label() -> None:
    assert accepted(make_bill(**{"customer.segment": "x" * 64}))["customer"]["segment"]
    rejected(make_bill(**{"customer.segment": "x" * 65}), "/customer/segment", "at most 64")


# --- bill: number and dates ---------------------------------------------------------------------


def test_bill_number_is_required_and_bounded() -> None:
    rejected(make_bill(drop="bill.number"), "/bill/number", "required")
    rejected(make_bill(**{"bill.number": ""}), "/bill/number", "empty")
    rejected(make_bill(**{"bill.number": "N" * 65}), "/bill/number", "at most 64")


@pytest.mark.parametrize("field", ["issued_on", "due_on"])
def test_dates_are_required(field: str) -> None:
    rejected(make_bill(drop=f"bill.{field}"), f"/bill/{field}", "required")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2026-13-01", "real calendar date"),
        ("2026-02-30", "real calendar date"),
        ("2026-11-01T00:00:00", "YYYY-MM-DD"),
        ("2026-11-01T10:00:00Z", "YYYY-MM-DD"),
        ("2026-11-1", "YYYY-MM-DD"),
        ("01/11/2026", "YYYY-MM-DD"),
        ("20261101", "YYYY-MM-DD"),
        ("\uff12\uff10\uff12\uff16-\uff11\uff11-\uff10\uff11", "YYYY-MM-DD"),  # fullwidth
        (20261101, "YYYY-MM-DD"),
        (1793491200, "YYYY-MM-DD"),
        ("", "YYYY-MM-DD"),
    ],
)
def test_dates_must_be_iso_calendar_dates(value: Any, words: str) -> None:
    rejected(make_bill(**{"bill.issued_on": value}), "/bill/issued_on", words)


def test_due_on_must_not_be_before_issued_on() -> None:
    bill = make_bill(**{"bill.issued_on": "2026-11-01", "bill.due_on": "2026-10-31"})
    rejected(bill, "/bill/due_on", "issued_on")
    same_day = make_bill(**{"bill.issued_on": "2026-11-01", "bill.due_on": "2026-11-01"})
    assert accepted(same_day)["bill"]["due_on"] == "2026-11-01"


def test_period_start_must_not_be_after_end() -> None:
    bill = make_bill(**{"bill.period": {"start": "2026-10-31", "end": "2026-10-01"}})
    rejected(bill, "/bill/period/end", "start")
    one_day = {"start": "2026-10-31", "end": "2026-10-31"}
    assert accepted(make_bill(**{"bill.period": one_day}))["bill"]["period"] == one_day


def test_period_is_optional_and_checked_field_by_field() -> None:
    assert "period" not in accepted(make_bill(drop="bill.period"))["bill"]
    found = problems(make_bill(**{"bill.period": {"start": "2026-10-01"}}))
    assert found == {"/bill/period/end": "is required"}


# --- currency and amounts -----------------------------------------------------------------------


@pytest.mark.parametrize("code", ["EUR", "USD", "JPY", "KWD", "THB", "TWD", "CHF"])
def test_currency_accepts_iso_4217_codes(code: str) -> None:
    assert accepted(no_lines(**{"bill.currency": code, "bill.total": "100"}))


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("eur", "three capital letters"),
        ("EURO", "three capital letters"),
        ("", "three capital letters"),
        ("QQQ", "known ISO 4217"),
        ("XXX", "known ISO 4217"),
        ("XAU", "known ISO 4217"),
        (978, "string"),
    ],
)
def test_currency_refuses_unknown_codes(code: Any, words: str) -> None:
    rejected(make_bill(**{"bill.currency": code}), "/bill/currency", words)


@pytest.mark.parametrize(("code", "digits"), [("EUR", 2), ("JPY", 0), ("KWD", 3), ("USD", 2)])
def test_currency_digits(code: str, digits: int) -> None:
    assert currency_digits(code) == digits


@pytest.mark.parametrize(
    ("value", "normalized"),
    [
        ("84.20", "84.20"),
        ("84.2", "84.20"),
        ("84", "84.00"),
        ("84.200", "84.20"),  # still a whole number of cents
        ("-12.5", "-12.50"),
        ("-0.00", "0.00"),
        (84, "84.00"),
        (Decimal("84.2"), "84.20"),  # a JSON number, as json_input.loads gives it
        (Decimal("8.42E+1"), "84.20"),
        (84.2, "84.20"),  # a Python float: read exactly through its repr
        ("999999999999.99", "999999999999.99"),
    ],
)
def test_total_accepts_exact_decimals(value: Any, normalized: str) -> None:
    assert accepted(no_lines(**{"bill.total": value}))["bill"]["total"] == normalized


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("NaN", "decimal string"),
        ("Infinity", "decimal string"),
        ("-Infinity", "decimal string"),
        ("1e400", "decimal string"),
        ("84,20", "decimal string"),
        (" 84.20", "decimal string"),
        ("+84.20", "decimal string"),
        ("84.", "decimal string"),
        (".5", "decimal string"),
        ("", "decimal string"),
        pytest.param("9" * 5000, "decimal string", id="text-5000-digits"),
        (True, "boolean"),
        (None, "decimal string"),
        ([84.2], "decimal string"),
        (Decimal("NaN"), "finite"),
        (Decimal("Infinity"), "finite"),
        (float("nan"), "finite"),
        (float("-inf"), "finite"),
        (Decimal("1E+5000"), "10^12"),
        pytest.param(Decimal("9" * 5000), "10^12", id="decimal-5000-digits"),
        pytest.param(10**5000, "10^12", id="int-5000-digits"),
        ("1000000000000", "10^12"),
        ("-1000000000000.00", "10^12"),
    ],
)
def test_total_refuses_what_is_not_an_exact_bounded_decimal(value: Any, words: str) -> None:
    rejected(no_lines(**{"bill.total": value}), "/bill/total", words)


def test_amounts_from_the_wire_never_crash() -> None:
    for literal in ["9" * 5000, "1e5000", "-1e5000", "1e-5000", "0." + "0" * 5000 + "1"]:
        text = json.dumps(no_lines()).replace('"total": "84.20"', f'"total": {literal}')
        rejected(json_input.loads(text), "/bill/total")


def test_binary_noise_is_refused_as_too_many_digits() -> None:
    text = json.dumps(no_lines()).replace('"84.20"', "84.20000000000000284")
    rejected(json_input.loads(text), "/bill/total", "2 decimal places", "EUR")
    rejected(no_lines(**{"bill.total": 0.1 + 0.2}), "/bill/total", "2 decimal places")


@pytest.mark.parametrize(
    ("currency", "total", "ok"),
    [
        ("EUR", "84.201", False),
        ("EUR", "84.20", True),
        ("JPY", "100.5", False),
        ("JPY", "100", True),
        ("JPY", "100.0", True),
        ("KWD", "1.234", True),
        ("KWD", "1.2345", False),
    ],
)
def test_amounts_have_at_most_the_currencys_minor_digits(
    currency: str, total: str, ok: bool
) -> None:
    bill = no_lines(**{"bill.currency": currency, "bill.total": total})
    if ok:
        accepted(bill)
    else:
        rejected(bill, "/bill/total", "decimal places", currency)


def test_line_amounts_have_at_most_the_minor_digits_too() -> None:
    bill = make_bill(**{"bill.lines.1.amount": "14.305", "bill.lines.3.amount": "11.195"})
    found = problems(bill)
    assert set(found) == {"/bill/lines/1/amount", "/bill/lines/3/amount"}
    assert "2 decimal places for EUR" in found["/bill/lines/1/amount"]


def test_python_floats_are_read_exactly() -> None:
    amounts = [52.1, 14.3, 6.6, 11.2]  # as binary floats these do not add up to 84.2
    bill = make_bill(**{"bill.total": 84.2})
    for i, amount in enumerate(amounts):
        bill["bill"]["lines"][i]["amount"] = amount
    doc = accepted(bill)
    assert doc["bill"]["total"] == "84.20"
    assert [line["amount"] for line in doc["bill"]["lines"]] == ["52.10", "14.30", "6.60", "11.20"]


def test_total_may_be_negative() -> None:
    doc = accepted(make_bill(**{"bill.total": "-5.20", "bill.lines.3.amount": "-78.20"}))
    assert doc["bill"]["total"] == "-5.20"


def test_lines_must_sum_to_total() -> None:
    detail = rejected(make_bill(**{"bill.total": "84.21"}), "/bill/lines", "84.20", "84.21")
    assert "add up to 84.20" in detail


def test_lines_are_optional_but_not_empty() -> None:
    assert "lines" not in accepted(make_bill(drop="bill.lines"))["bill"]
    rejected(make_bill(**{"bill.lines": []}), "/bill/lines", "at least 1")


def test_line_fields() -> None:
    rejected(make_bill(drop="bill.lines.0.label"), "/bill/lines/0/label", "required")
    rejected(make_bill(**{"bill.lines.0.label": "L" * 121}), "/bill/lines/0/label", "120")
    rejected(make_bill(**{"bill.lines.0.note": "x"}), "/bill/lines/0/note", "not a known field")
    assert "category" not in accepted(make_bill(drop="bill.lines.0.category"))["bill"]["lines"][0]


# --- status, days overdue, consumption ----------------------------------------------------------


@pytest.mark.parametrize("status", ["open", "overdue", "paid"])
def test_status_accepts_the_three_states(status: str) -> None:
    assert accepted(make_bill(**{"bill.status": status}))["bill"]["status"] == status


@pytest.mark.parametrize("status", ["OPEN", "closed", "", None, 1])
def test_status_refuses_anything_else(status: Any) -> None:
    rejected(make_bill(**{"bill.status": status}), "/bill/status", "'open', 'overdue' or 'paid'")


@pytest.mark.parametrize("days", [0, 22, 36_500])
def test_days_overdue_accepts_whole_days(days: int) -> None:
    bill = make_bill(**{"bill.status": "overdue", "bill.days_overdue": days})
    assert accepted(bill)["bill"]["days_overdue"] == days


@pytest.mark.parametrize("days", [-1, True, False, 1.0, 2.5, "3", Decimal("3"), 10**6, 10**400])
def test_days_overdue_refuses_the_rest(days: Any) -> None:
    rejected(make_bill(**{"bill.days_overdue": days}), "/bill/days_overdue")


def test_consumption_is_optional() -> None:
    assert "consumption" not in accepted(make_bill(drop="bill.consumption"))["bill"]


def test_consumption_unit_is_bounded() -> None:
    rejected(make_bill(**{"bill.consumption.unit": ""}), "/bill/consumption/unit", "empty")
    rejected(make_bill(**{"bill.consumption.unit": "u" * 17}), "/bill/consumption/unit", "16")
    rejected(make_bill(drop="bill.consumption.unit"), "/bill/consumption/unit", "required")


def _history(n: int, start_year: int = 2023) -> list[dict[str, Any]]:
    return [
        {"month": f"{start_year + k // 12}-{k % 12 + 1:02d}", "value": 100 + k} for k in range(n)
    ]


def test_history_holds_1_to_36_months() -> None:
    assert len(accepted(make_bill(**{"bill.consumption.history": _history(36)}))["bill"]
               ["consumption"]["history"]) == 36  # fmt: skip
    rejected(
        make_bill(**{"bill.consumption.history": _history(37)}),
        "/bill/consumption/history",
        "at most 36",
    )
    rejected(make_bill(**{"bill.consumption.history": []}), "/bill/consumption/history")


@pytest.mark.parametrize("month", ["2025-13", "2025-00", "2025-1", "2025-11-01", "11-2025", 202511])
def test_history_months_are_yyyy_mm(month: Any) -> None:
    pointer = "/bill/consumption/history/0/month"
    rejected(make_bill(**{"bill.consumption.history.0.month": month}), pointer)


@pytest.mark.parametrize("swap", ["2025-12", "2026-02"])
def test_history_months_strictly_increase(swap: str) -> None:
    bill = make_bill(**{"bill.consumption.history.2.month": swap})  # 2026-01 -> repeat or jump
    rejected(bill, "/bill/consumption/history/2/month" if swap == "2025-12" else
             "/bill/consumption/history/3/month", "month before it")  # fmt: skip


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (0, True),
        ("212.5", True),
        (Decimal("212.123456"), True),
        (-1, False),
        ("NaN", False),
        (float("inf"), False),
        (10**9, False),
        (Decimal("1.1234567"), False),
        (True, False),
    ],
)
def test_consumption_values_are_finite_and_not_negative(value: Any, ok: bool) -> None:
    for path, pointer in [
        ("bill.consumption.history.0.value", "/bill/consumption/history/0/value"),
        ("bill.consumption.peer_average", "/bill/consumption/peer_average"),
    ]:
        bill = make_bill(**{path: value})
        if ok:
            accepted(bill)
        else:
            rejected(bill, pointer)


# --- payment ------------------------------------------------------------------------------------


def test_payment_is_optional_and_needs_a_url() -> None:
    assert "payment" not in accepted(make_bill(drop="payment"))
    rejected(make_bill(drop="payment.url"), "/payment/url", "required")


@pytest.mark.parametrize(
    "url",
    [
        "https://pay.example.com/i/F-2026-11-000123",
        "https://pay.example.com/i?x=1&y=%20#top",
        "HTTPS://PAY.EXAMPLE.COM/",
        "https://pay.example.com:8443/p",
        "https://127.0.0.1/p",
        "https://[2001:db8::1]/p",
        "https://xn--bcher-kva.example/",
    ],
)
def test_payment_url_accepts_absolute_https(url: str) -> None:
    assert accepted(make_bill(**{"payment.url": url}))["payment"]["url"] == url


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://pay.example.com/i/1", "https://"),
        ("javascript:alert(1)", "https://"),
        ("data:text/html,<b>x</b>", "without spaces"),
        ("/i/F-2026-11-000123", "https://"),
        ("pay.example.com/i/1", "https://"),
        ("https:pay.example.com", "https://"),
        ("//pay.example.com/i/1", "https://"),
        ("https://", "host"),
        ("https:///i/1", "host"),
        ("https://user@pay.example.com/", "user name"),
        ("https://user:pw@pay.example.com/", "user name"),
        ("https://pay.example.com@evil.example/", "user name"),
        ("https://pay example.com/", "spaces"),
        ("https://pay.example.com/a b", "spaces"),
        ("https://pay.example.com\\@evil.example/", "backslashes"),
        ("https://bücher.example/", "ASCII"),
        ("https://exa_mple.com/", "host"),
        ("https://-pay.example.com/", "host"),
        ("https://[not-an-ip]/", "host"),
        ("https://pay.example.com:99999/", "port"),
        ("https://pay.example.com:x/", "port"),
        ("https://pay.example.com/" + "p" * 2048, "2048"),
        ("", "empty"),
    ],
)
def test_payment_url_refuses_anything_but_plain_https(url: str, words: str) -> None:
    rejected(make_bill(**{"payment.url": url}), "/payment/url", words)


def test_sepa_is_optional() -> None:
    assert "sepa" not in accepted(make_bill(drop="payment.sepa"))["payment"]


@pytest.mark.parametrize(
    "iban",
    [
        "IT60X0542811101000000123456",
        "it60 x054 2811 1010 0000 0123 456",
        "FR1420041010050500013M02606",
        "DE89370400440532013000",
        "NL91ABNA0417164300",
        "BE68539007547034",
        "CH9300762011623852957",
    ],
)
def test_iban_is_checked_and_normalized(iban: str) -> None:
    doc = accepted(make_bill(**{"payment.sepa.iban": iban}))
    assert doc["payment"]["sepa"]["iban"] == iban.replace(" ", "").upper()


@pytest.mark.parametrize(
    ("iban", "words"),
    [
        ("IT60X0542811101000000123457", "check digits"),
        ("IT61X0542811101000000123456", "check digits"),
        ("DE8937040044053201300", "length"),
        ("ZZ60X0542811101000000123456", "country"),
        ("SA0380000000608010167519", "SEPA"),
        ("IT60-X054", "IBAN"),
        ("", "IBAN"),
        (12345, "IBAN"),
        ("IT60X0542811101000000123456" * 3, "IBAN"),
    ],
)
def test_iban_is_refused(iban: Any, words: str) -> None:
    rejected(make_bill(**{"payment.sepa.iban": iban}), "/payment/sepa/iban", words)


@pytest.mark.parametrize(
    ("bic", "stored"), [("BPMOIT22XXX", "BPMOIT22XXX"), ("bpmoit22", "BPMOIT22")]
)
def test_bic_is_optional_and_8_or_11_chars(bic: str, stored: str) -> None:
    assert accepted(make_bill(**{"payment.sepa.bic": bic}))["payment"]["sepa"]["bic"] == stored
    assert "bic" not in accepted(make_bill(drop="payment.sepa.bic"))["payment"]["sepa"]


@pytest.mark.parametrize("bic", ["BPMOIT2", "BPMOIT22XX", "BPMOZZ22", "12345678", "", 7])
def test_bic_is_refused(bic: Any) -> None:
    rejected(make_bill(**{"payment.sepa.bic": bic}), "/payment/sepa/bic", "BIC")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("", "empty"),
        ("B" * 71, "at most 70"),
        ("   ", "blank"),
        ("Acme\nEnergia", "line breaks"),
        ("Acme\u200bEnergia", "invisible"),
    ],
)
def test_beneficiary_is_1_to_70_plain_chars(value: str, words: str) -> None:
    rejected(make_bill(**{"payment.sepa.beneficiary": value}), "/payment/sepa/beneficiary", words)


def test_reference_is_optional_and_at_most_140_chars() -> None:
    assert accepted(make_bill(**{"payment.sepa.reference": "R" * 140}))
    assert "reference" not in accepted(make_bill(drop="payment.sepa.reference"))["payment"]["sepa"]
    rejected(make_bill(**{"payment.sepa.reference": "R" * 141}), "/payment/sepa/reference", "140")


def test_sepa_block_must_fit_a_payment_qr_code() -> None:
    bill = make_bill(
        **{"payment.sepa.beneficiary": "電" * 70, "payment.sepa.reference": "費" * 140}
    )
    rejected(bill, "/payment/sepa", "QR code")


# --- tips, extra, unknown keys ------------------------------------------------------------------


def test_tips_are_optional_and_bounded() -> None:
    assert "tips" not in accepted(make_bill(drop="tips"))
    tip = {"title": "T", "body": "Line one.\nLine two."}
    assert len(accepted(make_bill(tips=[tip] * 10))["tips"]) == 10
    rejected(make_bill(tips=[tip] * 11), "/tips", "at most 10")


@pytest.mark.parametrize(
    ("tip", "pointer"),
    [
        ({"title": "", "body": "b"}, "/tips/0/title"),
        ({"title": "t" * 121, "body": "b"}, "/tips/0/title"),
        ({"title": "a\nb", "body": "b"}, "/tips/0/title"),
        ({"title": "t", "body": ""}, "/tips/0/body"),
        ({"title": "t", "body": "b" * 1001}, "/tips/0/body"),
        ({"title": "t"}, "/tips/0/body"),
        ({"title": "t", "body": "b", "icon": "x"}, "/tips/0/icon"),
    ],
)
def test_tip_fields(tip: dict[str, Any], pointer: str) -> None:
    rejected(make_bill(tips=[tip]), pointer)


def test_extra_is_kept_as_given() -> None:
    extra = {"campaign": "w", "n": [1, 2.5, None, True, {"deep": "ok"}], "k": {"": "empty key"}}
    assert accepted(make_bill(extra=extra))["extra"] == extra
    assert "extra" not in accepted(make_bill(drop="extra"))


def test_extra_numbers_from_the_wire_become_plain_json_numbers() -> None:
    text = json.dumps(make_bill(extra={"rate": "X"})).replace('"X"', "0.245")
    doc = accepted(json_input.loads(text))
    assert doc["extra"] == {"rate": 0.245} and isinstance(doc["extra"]["rate"], float)


@pytest.mark.parametrize("extra", [[], ["a"], "text", 1, True])
def test_extra_must_be_an_object(extra: Any) -> None:
    rejected(make_bill(extra=extra), "/extra", "object")


def test_extra_is_bounded_in_size_with_a_clear_error() -> None:
    rejected(make_bill(extra={"padding": "x" * 17_000}), "/extra", "16384 bytes")
    assert accepted(make_bill(extra={"padding": "x" * 16_000}))


@pytest.mark.parametrize(
    ("extra", "pointer", "words"),
    [
        ({"a": {"b": "nul\x00"}}, "/extra/a/b", "NUL"),
        ({"a": [1, Decimal("0.1000000000000000000001")]}, "/extra/a/1", "64-bit float"),
        ({"a": Decimal("1E+400")}, "/extra/a", "64-bit float"),
        ({"a": 10**30}, "/extra/a", "64-bit integer"),
        ({"a": float("nan")}, "/extra/a", "64-bit float"),
        ({"a": {1, 2}}, "/extra/a", "not a JSON value"),
    ],
)
def test_extra_holds_only_json_a_store_can_keep(extra: Any, pointer: str, words: str) -> None:
    rejected(make_bill(extra=extra), pointer, words)


def test_extra_nesting_is_bounded() -> None:
    deep: Any = "leaf"
    for _ in range(40):
        deep = {"d": deep}
    detail = problems(make_bill(extra=deep))
    assert any("nested" in d for d in detail.values()), detail


@pytest.mark.parametrize(
    ("path", "pointer"),
    [
        ("totla", "/totla"),
        ("bill.statuz", "/bill/statuz"),
        ("customer.nickname", "/customer/nickname"),
        ("payment.sepa.swift", "/payment/sepa/swift"),
        ("bill.consumption.history.0.kwh", "/bill/consumption/history/0/kwh"),
        ("bill.period.days", "/bill/period/days"),
    ],
)
def test_unknown_keys_are_refused_where_they_are(path: str, pointer: str) -> None:
    rejected(make_bill(**{path: "x"}), pointer, "not a known field")


def test_unknown_keys_inside_extra_are_fine() -> None:
    assert accepted(make_bill(extra={"totla": 1}))["extra"] == {"totla": 1}


@pytest.mark.parametrize("raw", [None, [], "bill", 42, Decimal("1.5")])
def test_a_bill_must_be_an_object(raw: Any) -> None:
    assert problems(raw) == {"": "must be a JSON object"}
    assert problems(raw, "/data") == {"/data": "must be a JSON object"}


@pytest.mark.parametrize("field", ["customer", "bill"])
def test_customer_and_bill_are_required(field: str) -> None:
    rejected(make_bill(drop=field), f"/{field}", "required")


@pytest.mark.parametrize("field", ["period", "lines", "consumption", "days_overdue"])
def test_optional_bill_fields_may_be_null(field: str) -> None:
    assert field not in accepted(make_bill(**{f"bill.{field}": None}))["bill"]


# --- every problem at once, with pointers -------------------------------------------------------


def test_every_problem_is_listed_at_once() -> None:
    bill = make_bill(
        **{
            "customer.id": "",
            "customer.locale": "xx-YY",
            "bill.due_on": "2026-10-01",  # before issued_on
            "bill.total": "12.345",
            "bill.lines.2.amount": "six",
            "bill.status": "late",
            "bill.consumption.history.0.value": -3,
            "payment.url": "http://pay.example.com/",
            "payment.sepa.iban": "IT00X0542811101000000123456",
            "tips": [{"title": "", "body": "b"}],
            "extra": [],
            "totla": "84.20",
        }
    )
    assert set(problems(bill)) == {
        "/customer/id",
        "/customer/locale",
        "/bill/due_on",
        "/bill/total",
        "/bill/lines/2/amount",
        "/bill/status",
        "/bill/consumption/history/0/value",
        "/payment/url",
        "/payment/sepa/iban",
        "/tips/0/title",
        "/extra",
        "/totla",
    }


def test_rules_across_fields_are_reported_with_field_errors() -> None:
    bill = make_bill(
        **{
            "customer.name": "",
            "bill.number": 7,
            "bill.issued_on": "2026-11-02",
            "bill.due_on": "2026-11-01",
            "bill.lines.0.amount": "52.109",
        }
    )
    assert set(problems(bill)) == {
        "/customer/name",
        "/bill/number",
        "/bill/due_on",
        "/bill/lines/0/amount",
    }
    mismatch = make_bill(**{"bill.status": "nope", "bill.lines.0.amount": "50.00"})
    assert set(problems(mismatch)) == {"/bill/status", "/bill/lines"}


def test_rules_across_fields_hold_when_validating_the_model_directly() -> None:
    with pytest.raises(ValidationError) as caught:
        Bill.model_validate(make_bill(**{"bill.total": "1.00"}))
    assert [e["loc"] for e in caught.value.errors()] == [("bill", "lines")]


def test_pointers_escape_tilde_and_slash() -> None:
    found = problems(make_bill(**{"a/b~c": 1}))
    assert set(found) == {"/a~1b~0c"}
    found = problems(make_bill(extra={"x/y": {"~": "\x00"}}))
    assert set(found) == {"/extra/x~1y/~0"}


def test_pointer_prefix_is_prepended() -> None:
    found = problems(make_bill(**{"bill.total": "x"}), "/data")
    assert set(found) == {"/data/bill/total"}


def test_details_never_echo_customer_values() -> None:
    secret = "Giulia-Rossi-" + "s" * 300
    bill = make_bill(
        **{
            "customer.name": secret,
            "customer.id": secret,
            "bill.total": secret,
            "payment.url": "http://" + secret,
            "bill.currency": secret,
            "payment.sepa.iban": secret,
            "extra": {"k": secret + "\x00"},
        }
    )
    found = problems(bill)
    assert len(found) == 7, found
    for detail in found.values():
        assert "Giulia" not in detail and len(detail) < 200
    with pytest.raises(ValidationError) as caught:
        Bill.model_validate(bill)
    assert "Giulia" not in str(caught.value)


# --- render requests ----------------------------------------------------------------------------


def test_render_request_defaults_to_both_outputs() -> None:
    request = parse_render_request(make_render_request(drop=["outputs", "external_id"]))
    assert request.outputs == ["video", "microsite"]
    assert request.external_id is None and request.callback_url is None
    assert request.template == "bill-explainer"
    assert request.data.customer.id == "CUST-000123"


@pytest.mark.parametrize(
    ("overrides", "pointer"),
    [
        ({"template": "Bill-Explainer"}, "/template"),
        ({"template": "-x"}, "/template"),
        ({"template": "bill_explainer"}, "/template"),
        ({"template": "a" * 65}, "/template"),
        ({"template": ""}, "/template"),
        ({"outputs": []}, "/outputs"),
        ({"outputs": ["video", "video"]}, "/outputs"),
        ({"outputs": ["gif"]}, "/outputs/0"),
        ({"outputs": "video"}, "/outputs"),
        ({"external_id": ""}, "/external_id"),
        ({"external_id": "e" * 201}, "/external_id"),
        ({"callback_url": "http://hooks.example.com/h"}, "/callback_url"),
        ({"callback_url": "https://u:p@hooks.example.com/h"}, "/callback_url"),
        ({"callback_url": "https://hooks.example.com/" + "h" * 2048}, "/callback_url"),
        ({"callback": "https://hooks.example.com/h"}, "/callback"),
        ({"data.bill.total": "84.201"}, "/data/bill/total"),
        ({"data.totla": 1}, "/data/totla"),
    ],
)
def test_render_request_fields(overrides: dict[str, Any], pointer: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_render_request(make_render_request(**overrides))
    assert [e.pointer for e in caught.value.errors] == [pointer]


def test_unknown_field_hint_names_extra_only_inside_the_bill() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_render_request(make_render_request(callback="x", **{"data.totla": 1}))
    details = {e.pointer: e.detail for e in caught.value.errors}
    assert "extra" in details["/data/totla"] and "spelling" in details["/data/totla"]
    assert "extra" not in details["/callback"] and "spelling" in details["/callback"]


def test_render_request_needs_template_and_data() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_render_request({}, "/x")
    assert {(e.pointer, e.detail) for e in caught.value.errors} == {
        ("/x/template", "is required"),
        ("/x/data", "is required"),
    }


def test_render_request_accepts_its_optional_fields() -> None:
    request = parse_render_request(
        make_render_request(
            outputs=["microsite"], external_id="ext-1", callback_url="https://hooks.example.com/h"
        )
    )
    assert request.outputs == ["microsite"]
    assert request.external_id == "ext-1"
    assert request.callback_url == "https://hooks.example.com/h"


def test_json_schema_describes_the_whole_document() -> None:
    schema = RenderRequest.model_json_schema()
    json.dumps(schema)
    defs = schema["$defs"]
    assert {"Bill", "BillBody", "Customer", "Line", "Payment", "Sepa", "Tip"} <= set(defs)
    total = defs["BillBody"]["properties"]["total"]
    assert {"type": "number"} in total["anyOf"]
    assert defs["BillBody"]["properties"]["issued_on"]["format"] == "date"
    assert defs["BillBody"]["additionalProperties"] is False
    assert schema["required"] == ["template", "data"]
    assert "total" in json.dumps(Bill.model_json_schema())


# --- the normalized document --------------------------------------------------------------------


def test_bill_document_normalizes() -> None:
    bill = make_bill(
        **{
            "bill.total": Decimal("84.2"),
            "bill.lines.0.amount": 52.1,
            "bill.lines.1.amount": "14.3",
            "bill.lines.2.amount": 6.6,
            "bill.lines.3.amount": "11.200",
            "bill.consumption.history.0.value": Decimal("236.2"),
            "bill.consumption.history.1.value": "255",
            "payment.sepa.iban": "it60 x054 2811 1010 0000 0123 456",
            "payment.sepa.bic": "bpmoit22xxx",
        },
        drop=["customer.segment", "bill.period", "tips"],
    )
    doc = accepted(bill)
    assert json.loads(json.dumps(doc)) == doc  # plain JSON only
    assert doc["bill"]["total"] == "84.20"
    assert [line["amount"] for line in doc["bill"]["lines"]] == ["52.10", "14.30", "6.60", "11.20"]
    assert doc["bill"]["issued_on"] == "2026-11-01" and doc["bill"]["due_on"] == "2026-11-30"
    history = doc["bill"]["consumption"]["history"]
    assert history[0] == {"month": "2025-11", "value": 236.2}
    assert history[1]["value"] == 255.0
    assert doc["payment"]["sepa"]["iban"] == "IT60X0542811101000000123456"
    assert doc["payment"]["sepa"]["bic"] == "BPMOIT22XXX"
    assert "segment" not in doc["customer"] and "period" not in doc["bill"]
    assert "tips" not in doc and "days_overdue" not in doc["bill"]
    assert doc["extra"] == make_bill()["extra"]


@pytest.mark.parametrize(
    ("currency", "total", "shown"),
    [("JPY", "1500", "1500"), ("JPY", 1500, "1500"), ("KWD", "1.5", "1.500"), ("EUR", "0", "0.00")],
)
def test_bill_document_uses_the_currencys_minor_digits(
    currency: str, total: Any, shown: str
) -> None:
    assert (
        accepted(no_lines(**{"bill.currency": currency, "bill.total": total}))["bill"]["total"]
        == shown
    )


def test_bill_document_is_a_fresh_copy() -> None:
    bill = parse_bill(make_bill())
    doc = bill_document(bill)
    doc["extra"]["campaign"] = "changed"
    assert bill_document(bill)["extra"]["campaign"] == "autumn-2026"
