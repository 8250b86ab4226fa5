"""Strict JSON: UTF-8 only, exact decimals, no NaN/Infinity, no duplicate keys, never a crash."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.intake.json_input import MAX_INT_DIGITS, MalformedJson, loads


def test_parses_plain_json_from_bytes_and_text() -> None:
    doc = '{"a": [1, "x", true, null], "b": {"c": -2}}'
    expected = {"a": [1, "x", True, None], "b": {"c": -2}}
    assert loads(doc) == expected
    assert loads(doc.encode()) == expected


@pytest.mark.parametrize("text", ["84.2", "84.20", "0.1", "1e2", "-0.00", "84.20000000000000284"])
def test_numbers_with_a_fraction_or_exponent_are_exact_decimals(text: str) -> None:
    value = loads(text)
    assert isinstance(value, Decimal)
    assert value == Decimal(text)
    assert str(value) == str(Decimal(text))  # 84.2 stays "84.2", trailing zeros kept


def test_ordinary_integers_stay_ints() -> None:
    assert loads("[0, -7, 123456789012345678901234567890]") == [
        0,
        -7,
        123456789012345678901234567890,
    ]
    assert all(type(v) is int for v in loads("[0, -7, 12345678901234567890]"))


@pytest.mark.parametrize("digits", [MAX_INT_DIGITS + 1, 5_000, 100_000])
def test_huge_integers_do_not_crash_and_come_back_exact(digits: int) -> None:
    text = "9" * digits
    value = loads(f'{{"total": {text}}}')["total"]
    assert isinstance(value, Decimal)
    assert value == Decimal(text)
    assert isinstance(loads("-" + text), Decimal)


def test_huge_exponent_is_a_finite_decimal() -> None:
    value = loads("1e5000")
    assert isinstance(value, Decimal)
    assert value.is_finite()


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused_with_their_position(literal: str) -> None:
    with pytest.raises(MalformedJson) as caught:
        loads('{"note": "NaN Infinity",\n "total": ' + literal + "}")
    message = str(caught.value)
    assert literal in message
    assert "line 2, column 11" in message


def test_duplicate_keys_are_refused_anywhere() -> None:
    with pytest.raises(MalformedJson, match='duplicate key "total"'):
        loads('{"bill": {"total": "1.00", "total": "2.00"}}')
    with pytest.raises(MalformedJson, match="duplicate key"):
        loads('[{"a": 1}, {"b": 1, "b": 1}]')


def test_duplicate_key_message_does_not_repeat_a_long_key() -> None:
    key = "k" * 10_000
    with pytest.raises(MalformedJson) as caught:
        loads(f'{{"{key}": 1, "{key}": 2}}')
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize(
    "data",
    [b'{"name": "\xff"}', b'{"name": "\xc3"}', "{}".encode("utf-16"), b'{"a": "\xed\xa0\x80"}'],
)
def test_bytes_that_are_not_utf8_are_refused(data: bytes) -> None:
    with pytest.raises(MalformedJson, match=r"UTF-8|byte order mark"):
        loads(data)


def test_a_byte_order_mark_is_refused() -> None:
    with pytest.raises(MalformedJson, match="byte order mark"):
        loads(b"\xef\xbb\xbf{}")


def test_utf8_text_in_any_script_is_kept() -> None:
    assert loads('{"n": "陳美玲 สมชาย Zoë 😀"}'.encode()) == {"n": "陳美玲 สมชาย Zoë 😀"}
    assert loads('{"n": "\\ud83d\\ude00"}') == {"n": "😀"}  # an escaped surrogate pair


@pytest.mark.parametrize("text", ['{"n": "\\ud800"}', '["\\udc00x"]', '{"\\ud83d": 1}'])
def test_unpaired_surrogate_escapes_are_refused(text: str) -> None:
    with pytest.raises(MalformedJson, match="surrogate"):
        loads(text)


def test_an_escaped_backslash_before_u_is_not_a_surrogate() -> None:
    assert loads('["\\\\ud800"]') == ["\\ud800"]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"template": ', "line 1, column 14"),
        ("", "line 1, column 1"),
        ('{"a": 1,}', "line 1, column 9"),
        ("{\n 'a': 1}", "line 2, column 2"),
        ('{"a": 1} x', "line 1, column 10"),
        ('{"a": "tab\there"}', "line 1, column 11"),
    ],
)
def test_syntax_errors_say_where(text: str, where: str) -> None:
    with pytest.raises(MalformedJson, match=where):
        loads(text)


def test_error_messages_never_echo_the_input() -> None:
    secret = "Giulia-Rossi-IT60X0542811101000000123456"
    for text in [f'{{"name": "{secret}", }}', f'{{"name": "{secret}"', f'["{secret}", NaN]']:
        with pytest.raises(MalformedJson) as caught:
            loads(text)
        assert secret not in str(caught.value)


def test_deep_nesting_is_a_malformed_json_error_not_a_crash() -> None:
    with pytest.raises(MalformedJson, match="nested too deeply"):
        loads("[" * 200_000 + "]" * 200_000)


def test_malformed_json_is_a_value_error() -> None:
    assert issubclass(MalformedJson, ValueError)
