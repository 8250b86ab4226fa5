"""What a bill says, shared by video and microsite: the tone rules and the formatted facts.

Both outputs read the same `Facts`, so the amount on the video, in the captions and on the
page are the very same string.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from babel import Locale

from renderers.errors import RenderError
from renderers.formatting import (
    format_date,
    format_money,
    language_tag,
    resolve_locale,
    text_direction,
    to_decimal,
)

Tone = Literal["pay", "nudge", "firm", "thanks", "credit"]
TONES: tuple[Tone, ...] = ("pay", "nudge", "firm", "thanks", "credit")
PAY_TONES: frozenset[Tone] = frozenset({"pay", "nudge", "firm"})  # tones that ask for money
FIRM_AFTER_DAYS = 30  # overdue longer than this (or a chronic payer): firm, with instalments
FIRM_SEGMENTS = frozenset({"chronic"})
# Fields a narration or message string may use as {field}; see `Facts.placeholders`.
PLACEHOLDERS = ("name", "number", "total", "amount", "due_date", "issued_on")


def _get(bill: Mapping[str, Any], *path: str) -> Any:
    node: Any = bill
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            raise RenderError(f"bill is missing {'.'.join(path)}")
        node = node[key]
    return node


def _opt(bill: Mapping[str, Any], *path: str) -> Any:
    try:
        return _get(bill, *path)
    except RenderError:
        return None


def tone(bill: Mapping[str, Any]) -> Tone:
    """paid -> thanks; in credit -> credit; long or chronic overdue -> firm; overdue -> nudge."""
    status = _get(bill, "bill", "status")
    if status == "paid":
        return "thanks"
    if to_decimal(_get(bill, "bill", "total")) < 0:
        return "credit"
    if status == "overdue":
        days = _opt(bill, "bill", "days_overdue") or 0
        segment = _opt(bill, "customer", "segment")
        if segment in FIRM_SEGMENTS or days > FIRM_AFTER_DAYS:
            return "firm"
        return "nudge"
    if status == "open":
        return "pay"
    raise RenderError("bill.status must be open, overdue or paid")


def _known_tone(name: str) -> Tone:
    for known in TONES:
        if known == name:
            return known
    raise RenderError(f"unknown tone {name!r}; known: {', '.join(TONES)}")


@dataclass(frozen=True)
class LineFact:
    label: str
    amount: str  # formatted
    value: Decimal


@dataclass(frozen=True)
class Tip:
    title: str
    body: str


@dataclass(frozen=True)
class Facts:
    """A bill's content, formatted for one locale."""

    locale: Locale
    lang: str  # BCP 47 tag, for lang= and srclang=
    direction: str  # "ltr" | "rtl"
    tone: Tone
    name: str
    number: str
    currency: str
    total: str  # formatted total, sign included
    amount: str  # what the customer reads as "the amount": the credit shown without sign
    due_date: str
    issued_on: str
    period: tuple[str, str] | None
    lines: tuple[LineFact, ...]
    tips: tuple[Tip, ...]
    payment_url: str | None

    @property
    def asks_payment(self) -> bool:
        return self.tone in PAY_TONES

    def placeholders(self) -> dict[str, str]:
        """Values a message string may use as {name}; customer text stays plain data."""
        return {
            "name": self.name,
            "number": self.number,
            "total": self.total,
            "amount": self.amount,
            "due_date": self.due_date,
            "issued_on": self.issued_on,
        }


def facts(bill: Mapping[str, Any], default_locale: str, forced_tone: str | None = None) -> Facts:
    """Format a validated `bill/v1` dict for its customer's locale (or the template's).

    `forced_tone` replaces the tone the bill's rules give (a reminder's, say); it must be
    one of `TONES`.
    """
    locale = resolve_locale(_opt(bill, "customer", "locale"), default_locale)
    currency = str(_get(bill, "bill", "currency"))
    total = to_decimal(_get(bill, "bill", "total"))
    the_tone = tone(bill) if forced_tone is None else _known_tone(forced_tone)

    def money(value: Decimal) -> str:
        return format_money(value, currency, locale)

    period = _opt(bill, "bill", "period")
    lines = tuple(
        LineFact(
            label=str(_get(line, "label")),
            amount=money(to_decimal(_get(line, "amount"))),
            value=to_decimal(_get(line, "amount")),
        )
        for line in (_opt(bill, "bill", "lines") or ())
    )
    tips = tuple(
        Tip(title=str(_get(t, "title")), body=str(_get(t, "body")))
        for t in (_opt(bill, "tips") or ())
    )
    return Facts(
        locale=locale,
        lang=language_tag(locale),
        direction=text_direction(locale),
        tone=the_tone,
        name=str(_get(bill, "customer", "name")),
        number=str(_get(bill, "bill", "number")),
        currency=currency,
        total=money(total),
        amount=money(abs(total) if the_tone == "credit" else total),
        due_date=format_date(_get(bill, "bill", "due_on"), locale),
        issued_on=format_date(_get(bill, "bill", "issued_on"), locale),
        period=(
            (
                format_date(period["start"], locale, "medium"),
                format_date(period["end"], locale, "medium"),
            )
            if isinstance(period, Mapping)
            else None
        ),
        lines=lines,
        tips=tips,
        payment_url=_opt(bill, "payment", "url"),
    )
