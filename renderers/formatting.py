"""Locale-aware money, dates and numbers (Babel): the one source for video and microsite.

Every function takes a locale as a BCP 47 tag ("zh-Hant-TW", "it_IT") or a `babel.Locale`.
Amounts are exact decimals; floats never touch money.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_date
from babel.dates import format_skeleton
from babel.numbers import format_currency, format_decimal

from renderers.errors import RenderError

LocaleLike = str | Locale
DATE_FORMATS = ("short", "medium", "long", "full")
# Month styles: a chart's initial and short label (patterns), the month in full with its year
# (a skeleton). Patterns use the format-context month (M), not the stand-alone one (L): in
# Babel 2.18 resolving an inherited stand-alone alias writes one locale's month names into
# data shared by others (python-babel/babel#1234), so after Hebrew, Thai's 'LLL' is Hebrew.
MONTH_FORMATS = {"narrow": "MMMMM", "short": "MMM", "long": "yMMMM"}


def _parse(tag: str) -> Locale:
    return Locale.parse(tag.strip().replace("_", "-"), sep="-")


def resolve_locale(tag: str | None, default: str) -> Locale:
    """The best Babel locale for `tag`: the tag itself, else its language, else `default`.

    A valid tag Babel does not know (say "xx-YY") falls back rather than failing the render;
    `default` is the template's locale, checked when the template is loaded.
    """
    if tag:
        try:
            return _parse(tag)
        except (ValueError, UnknownLocaleError):
            language = tag.replace("_", "-").split("-", 1)[0]
            try:
                return _parse(language)
            except (ValueError, UnknownLocaleError):
                pass
    try:
        return _parse(default)
    except (ValueError, UnknownLocaleError) as exc:
        raise RenderError(f"default locale {default!r} is not a known locale") from exc


def as_locale(locale: LocaleLike) -> Locale:
    return locale if isinstance(locale, Locale) else resolve_locale(locale, "en")


def to_decimal(amount: str | int | Decimal) -> Decimal:
    """An exact decimal from a normalized amount; rejects floats and non-numbers."""
    if isinstance(amount, float):
        raise RenderError("amounts must be decimal strings, not floats")
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except InvalidOperation as exc:
        raise RenderError("amount is not a decimal number") from exc
    if not value.is_finite():
        raise RenderError("amount is not a finite number")
    return value


def format_money(amount: str | Decimal, currency: str, locale: LocaleLike) -> str:
    """'84,20 €' for ("84.20", "EUR", "it-IT"); '$61.07' for ("61.07", "USD", "en-US")."""
    return format_currency(
        to_decimal(amount), currency.upper(), locale=as_locale(locale), currency_digits=True
    )


def format_date(iso: str | date, locale: LocaleLike, fmt: str = "long") -> str:
    """A calendar date in the locale's words: '31 ottobre 2026', '2026年10月31日'."""
    if fmt not in DATE_FORMATS:
        raise ValueError(f"fmt must be one of {DATE_FORMATS}, got {fmt!r}")
    if isinstance(iso, str):
        try:
            day = date.fromisoformat(iso)
        except ValueError as exc:
            raise RenderError("date is not an ISO date (YYYY-MM-DD)") from exc
    else:
        day = iso
    return _babel_date(day, format=fmt, locale=as_locale(locale))


def format_month(month: str | date, locale: LocaleLike, fmt: str = "short") -> str:
    """A calendar month ("2026-10" or a date): 'ott' (short), 'ottobre 2026' (long), 'O'."""
    if fmt not in MONTH_FORMATS:
        raise ValueError(f"fmt must be one of {tuple(MONTH_FORMATS)}, got {fmt!r}")
    if isinstance(month, str):
        try:
            year, number = (int(part) for part in month.split("-"))
            day = date(year, number, 1)
        except ValueError as exc:
            raise RenderError("month is not an ISO month (YYYY-MM)") from exc
    else:
        day = month
    return _month_name(day, as_locale(locale), fmt)


@lru_cache(maxsize=4096)  # charts name the same months over and over; skeletons are slow
def _month_name(day: date, locale: Locale, fmt: str) -> str:
    if fmt == "long":  # 'MMMM y' in most locales, 'y年M月' in Chinese
        return format_skeleton(MONTH_FORMATS[fmt], day, locale=locale)
    return _babel_date(day, format=MONTH_FORMATS[fmt], locale=locale)


def format_number(
    value: str | int | float | Decimal,
    locale: LocaleLike,
    *,
    decimals: int | None = None,
) -> str:
    """A plain number with the locale's separators; `decimals` fixes the fraction digits."""
    number: Decimal | int | float = to_decimal(value) if isinstance(value, str | Decimal) else value
    if decimals is None:
        return format_decimal(number, locale=as_locale(locale))
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(
        number, format=pattern, locale=as_locale(locale), decimal_quantization=True
    )


def text_direction(locale: LocaleLike) -> str:
    """'rtl' or 'ltr', for `dir=` and for laying out the video's cards."""
    return "rtl" if as_locale(locale).character_order == "right-to-left" else "ltr"


def language_tag(locale: LocaleLike) -> str:
    """The BCP 47 tag of a Babel locale: zh_Hant_TW -> 'zh-Hant-TW'."""
    loc = as_locale(locale)
    return "-".join(p for p in (loc.language, loc.script, loc.territory) if p)
