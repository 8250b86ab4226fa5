"""Locale-aware formatting: the one source of money, dates and numbers for video and site."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from renderers.errors import RenderError
from renderers.formatting import (
    format_date,
    format_money,
    format_number,
    language_tag,
    resolve_locale,
    text_direction,
)

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        ("84.20", "EUR", "it-IT", f"84,20{NBSP}€"),
        ("61.07", "USD", "en-US", "$61.07"),
        ("126.45", "EUR", "fr-FR", f"126,45{NBSP}€"),
        ("1234.50", "EUR", "de-DE", f"1.234,50{NBSP}€"),
        ("2450.00", "THB", "th-TH", "฿2,450.00"),
        ("-120.00", "TWD", "zh-Hant-TW", "-$120.00"),
        (Decimal("0.10"), "usd", "en-US", "$0.10"),
    ],
)
def test_money_per_locale(amount: str, currency: str, locale: str, expected: str) -> None:
    assert format_money(amount, currency, locale) == expected


def test_money_rejects_floats_and_garbage() -> None:
    with pytest.raises(RenderError):
        format_money(84.2, "EUR", "it-IT")  # type: ignore[arg-type]
    with pytest.raises(RenderError):
        format_money("eighty", "EUR", "it-IT")


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("it-IT", "31 ottobre 2026"),
        ("en-US", "October 31, 2026"),
        ("fr-FR", "31 octobre 2026"),
        ("de-DE", "31. Oktober 2026"),
        ("zh-Hant-TW", "2026年10月31日"),
    ],
)
def test_long_dates(locale: str, expected: str) -> None:
    assert format_date("2026-10-31", locale) == expected
    assert format_date(date(2026, 10, 31), locale) == expected


def test_date_formats_and_errors() -> None:
    assert format_date("2026-10-31", "en-US", "medium") == "Oct 31, 2026"
    with pytest.raises(ValueError, match="fmt"):
        format_date("2026-10-31", "en-US", "weird")
    with pytest.raises(RenderError):
        format_date("31/10/2026", "en-US")


def test_numbers() -> None:
    assert format_number("1234.5", "it-IT", decimals=2) == "1.234,50"
    assert format_number(2712.5, "en-US") == "2,712.5"
    assert format_number(3, "fr-FR", decimals=0) == "3"


def test_resolve_locale_falls_back() -> None:
    assert str(resolve_locale("zh-Hant-TW", "en")) == "zh_Hant_TW"
    assert language_tag(resolve_locale("zh-TW", "en")) == "zh-Hant-TW"
    assert str(resolve_locale("it_IT", "en")) == "it_IT"
    assert str(resolve_locale("pt-XX", "en")) == "pt"  # unknown region: the language
    assert str(resolve_locale("xx-YY", "it-IT")) == "it_IT"  # unknown language: the default
    assert str(resolve_locale(None, "fr-FR")) == "fr_FR"
    with pytest.raises(RenderError):
        resolve_locale(None, "not a locale")


def test_direction() -> None:
    assert text_direction("ar-EG") == "rtl"
    assert text_direction("he-IL") == "rtl"
    assert text_direction("th-TH") == "ltr"
