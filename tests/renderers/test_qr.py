"""The EPC (SEPA) payment QR code and the plain link QR code, decoded back with zbarimg."""

from __future__ import annotations

import copy
import io
import json
import subprocess
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from renderers.qr import (
    EPC_MAX_PAYLOAD_BYTES,
    EpcError,
    _epc_code,
    epc_payload,
    epc_png,
    epc_svg,
    qr_png,
    qr_svg,
)
from tests.paths import EXAMPLES
from tests.realparts import require

SVG_NS = "{http://www.w3.org/2000/svg}"
QUIET_ZONE = 4

# Golden payloads, byte for byte: LF between elements, nothing after the last one.
GOLDEN = {
    "it_overdue": (
        b"BCD\n002\n1\nSCT\n"
        b"BPMOIT22XXX\n"
        b"Acme Energia S.p.A.\n"
        b"IT60X0542811101000000123456\n"
        b"EUR84.20\n"
        b"\n"  # purpose
        b"\n"  # structured reference
        b"F-2026-11-000123"
    ),
    "fr_open": (
        b"BCD\n002\n1\nSCT\n"
        b"\n"  # no BIC: allowed in version 002
        b"\xc3\x89nergie Claire SA\n"  # "Énergie" in UTF-8
        b"FR1420041010050500013M02606\n"
        b"EUR126.45\n"
        b"\n"
        b"\n"
        b"FA-2026-1142"
    ),
}


def example(name: str) -> dict[str, Any]:
    bill: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    return bill


def make_bill(*, sepa: dict[str, Any] | None = None, **bill_fields: Any) -> dict[str, Any]:
    """The it_overdue example with `bill` fields and `payment.sepa` fields overridden."""
    bill = copy.deepcopy(example("it_overdue"))
    bill["bill"].update(bill_fields)
    bill["payment"]["sepa"].update(sepa or {})
    return bill


def zbar_decode(png: bytes, tmp_path: Path) -> bytes:
    """The raw bytes zbarimg reads from a PNG (skips, or fails under CI=true, without it)."""
    zbarimg = require("zbarimg")
    image = tmp_path / "code.png"
    image.write_bytes(png)
    # --raw: no symbology prefix; -Sbinary: the data bytes as they are, no charset
    # conversion and no trailing newline; --nodbus: no system bus on servers.
    result = subprocess.run(
        [zbarimg, "--raw", "-q", "-Sbinary", "--nodbus", str(image)],
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    return result.stdout


def parse_svg(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # noqa: S314 - our own markup, not untrusted input


# --- the payload ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_payloads(name: str) -> None:
    assert epc_payload(example(name)) == GOLDEN[name]


def test_beneficiary_with_umlauts_stays_utf8() -> None:
    payload = epc_payload(make_bill(sepa={"beneficiary": "Müller & Söhne GmbH"}))
    assert payload is not None
    lines = payload.split(b"\n")
    assert lines[2] == b"1"  # character set 1: UTF-8
    assert lines[5] == "Müller & Söhne GmbH".encode()
    assert lines[5] == b"M\xc3\xbcller & S\xc3\xb6hne GmbH"


@pytest.mark.parametrize(
    "bill",
    [
        pytest.param(make_bill(status="paid"), id="paid"),
        pytest.param(make_bill(total="-12.50", lines=None), id="credit"),
        pytest.param(make_bill(total="0.00", lines=None), id="nothing-due"),
        pytest.param(make_bill(currency="CHF"), id="not-euro"),
        pytest.param(example("en_paid"), id="example-en-paid"),
        pytest.param(example("zh_credit"), id="example-zh-credit"),
        pytest.param(example("th_open"), id="example-th-no-sepa"),
    ],
)
def test_no_payload_when_nothing_to_pay_by_sepa(bill: dict[str, Any]) -> None:
    assert epc_payload(bill) is None


def test_no_payload_without_sepa_or_payment() -> None:
    bill = make_bill()
    del bill["payment"]["sepa"]
    assert epc_payload(bill) is None
    del bill["payment"]
    assert epc_payload(bill) is None


@pytest.mark.parametrize(
    ("total", "amount"),
    [
        ("84.2", b"EUR84.20"),
        ("84.20", b"EUR84.20"),
        ("1000", b"EUR1000.00"),
        ("0.01", b"EUR0.01"),
        ("999999999.99", b"EUR999999999.99"),
        (7, b"EUR7.00"),
        (Decimal("12.3"), b"EUR12.30"),
    ],
)
def test_amount_has_exactly_two_decimals(total: Any, amount: bytes) -> None:
    payload = epc_payload(make_bill(total=total))
    assert payload is not None
    assert payload.split(b"\n")[7] == amount


@pytest.mark.parametrize(
    ("total", "detail"),
    [
        (84.2, "float"),
        ("84.205", "two decimals"),
        ("1000000000.00", "between"),
        ("1e3", "decimal string"),
        ("NaN", "decimal string"),
    ],
)
def test_amount_the_code_cannot_carry_is_rejected(total: Any, detail: str) -> None:
    with pytest.raises(EpcError, match=detail) as caught:
        epc_payload(make_bill(total=total))
    assert caught.value.pointer == "/bill/total"


def test_no_trailing_separator_and_no_originator_info() -> None:
    payload = epc_payload(make_bill())
    assert payload is not None
    assert not payload.endswith(b"\n")
    assert len(payload.split(b"\n")) == 11  # element 12 (information to the payer) omitted


def test_without_reference_the_amount_is_the_last_element() -> None:
    payload = epc_payload(make_bill(sepa={"reference": None}))
    assert payload is not None
    assert payload.endswith(b"\nIT60X0542811101000000123456\nEUR84.20")


def test_bic_is_optional_and_normalized() -> None:
    without = epc_payload(make_bill(sepa={"bic": None}))
    assert without is not None
    assert without.split(b"\n")[4] == b""
    lower = epc_payload(make_bill(sepa={"bic": "bpmoit22"}))
    assert lower is not None
    assert lower.split(b"\n")[4] == b"BPMOIT22"


@pytest.mark.parametrize(
    ("sepa", "pointer", "detail"),
    [
        ({"beneficiary": "A" * 71}, "/payment/sepa/beneficiary", "at most 70 characters"),
        ({"beneficiary": "  "}, "/payment/sepa/beneficiary", "required"),
        ({"reference": "R" * 141}, "/payment/sepa/reference", "at most 140 characters"),
        ({"reference": "F-1\nEUR1000.00"}, "/payment/sepa/reference", "line breaks"),
        ({"beneficiary": "Acme\u2028Evil"}, "/payment/sepa/beneficiary", "line breaks"),
        ({"iban": "IT61X0542811101000000123456"}, "/payment/sepa/iban", "check digits"),
        ({"iban": "not an iban"}, "/payment/sepa/iban", "not an IBAN"),
        ({"bic": "BPMO"}, "/payment/sepa/bic", "8 or 11"),
    ],
)
def test_fields_the_code_cannot_carry_are_rejected(
    sepa: dict[str, Any], pointer: str, detail: str
) -> None:
    with pytest.raises(EpcError, match=detail) as caught:
        epc_payload(make_bill(sepa=sepa))
    assert caught.value.pointer == pointer
    assert "Evil" not in str(caught.value)  # customer data stays out of messages


def test_payload_over_331_bytes_is_rejected() -> None:
    # Within the character limits, but two bytes per character in UTF-8.
    bill = make_bill(sepa={"beneficiary": "ü" * 70, "reference": "é" * 140})
    with pytest.raises(EpcError, match="at most 331") as caught:
        epc_payload(bill)
    assert caught.value.pointer == "/payment/sepa"


def test_longest_payload_fits_qr_version_13_at_level_m() -> None:
    payload = epc_payload(make_bill(sepa={"beneficiary": "B" * 70, "reference": "é" * 90}))
    assert payload is not None
    padding = EPC_MAX_PAYLOAD_BYTES - len(payload)
    payload = epc_payload(
        make_bill(sepa={"beneficiary": "B" * 70, "reference": "é" * 90 + "x" * padding})
    )
    assert payload is not None
    assert len(payload) == EPC_MAX_PAYLOAD_BYTES
    code = _epc_code(payload)
    assert (code.error, code.version) == ("M", 13)
    small = _epc_code(GOLDEN["it_overdue"])
    assert small.error == "M"  # never boosted above the level the guidelines fix


# --- drawing --------------------------------------------------------------------------------


def test_epc_svg_is_inline_scalable_and_accessible() -> None:
    markup = epc_svg(GOLDEN["fr_open"], title="Payer <Énergie> & co")
    assert markup.startswith("<svg ")
    assert "<?xml" not in markup
    root = parse_svg(markup)
    assert root.tag == f"{SVG_NS}svg"
    assert "viewBox" in root.attrib and "width" not in root.attrib
    assert root.attrib["role"] == "img"
    assert root.attrib["aria-label"] == "Payer <Énergie> & co"
    title = root.find(f"{SVG_NS}title")
    assert title is not None and title.text == "Payer <Énergie> & co"
    assert epc_svg(GOLDEN["fr_open"]).count("aria-label=") == 1  # a default name


def test_epc_png_has_a_quiet_zone() -> None:
    scale = 5
    png = epc_png(GOLDEN["it_overdue"], scale=scale)
    image = Image.open(io.BytesIO(png)).convert("L")
    modules = _epc_code(GOLDEN["it_overdue"]).symbol_size(border=0)[0]
    assert image.size == ((int(modules) + 2 * QUIET_ZONE) * scale,) * 2
    margin = QUIET_ZONE * scale
    border_pixels = [image.getpixel((x, y)) for x in range(image.width) for y in range(margin)]
    assert set(border_pixels) == {255}
    assert image.getpixel((margin, margin)) == 0  # the finder pattern starts right after
    assert epc_png(GOLDEN["it_overdue"], scale=scale) == png  # deterministic


@pytest.mark.parametrize(
    "payload", [b"hello", b"BCD\n001\n2\nSCT\nX", GOLDEN["it_overdue"] + b"x" * 400]
)
def test_drawing_refuses_what_is_not_an_epc_payload(payload: bytes) -> None:
    with pytest.raises(EpcError):
        epc_png(payload)
    with pytest.raises(EpcError):
        epc_svg(payload)


def test_png_scale_must_be_a_positive_int() -> None:
    with pytest.raises(ValueError, match="scale"):
        epc_png(GOLDEN["it_overdue"], scale=0)
    with pytest.raises(ValueError, match="non-empty"):
        qr_png("")


def test_link_svg_same_style() -> None:
    root = parse_svg(qr_svg("https://pay.example.com/i/F-2026-11-000123", title="Pay"))
    assert root.attrib["class"] == parse_svg(epc_svg(GOLDEN["it_overdue"])).attrib["class"]
    assert root.attrib["aria-label"] == "Pay"


# --- decoded back by a real scanner ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_png_decodes_to_the_exact_payload(name: str, tmp_path: Path) -> None:
    assert zbar_decode(epc_png(GOLDEN[name]), tmp_path) == GOLDEN[name]


def test_png_with_umlauts_decodes_to_the_exact_utf8_bytes(tmp_path: Path) -> None:
    payload = epc_payload(make_bill(sepa={"beneficiary": "Müller & Söhne GmbH"}))
    assert payload is not None
    assert zbar_decode(epc_png(payload, scale=4), tmp_path) == payload


def test_link_png_decodes_to_the_link(tmp_path: Path) -> None:
    url = "https://pay.example.com/i/F-2026-11-000123"
    assert zbar_decode(qr_png(url), tmp_path) == url.encode()
